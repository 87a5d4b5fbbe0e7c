"""Uploads reach Stencil's loader (clear messages, no server paths); removal of most of a photo warns."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio.data_classes import ImageData
from PIL import Image as PILImage

from pipeline.recipe import Inpaint, Remove
from ui.cells import removal_note
from ui.uploads import checked, public


def test_a_text_file_named_jpg_gets_the_loader_message_without_the_server_path(tmp_path: Path) -> None:
    fake = tmp_path / "cache" / "0123abcd" / "photo.jpg"
    fake.parent.mkdir(parents=True)
    fake.write_text("this is not a picture\n")
    box = checked(gr.Image(type="numpy"))
    with pytest.raises(gr.Error) as caught:
        box.preprocess(ImageData(path=str(fake), orig_name="photo.jpg"))
    assert (
        caught.value.message == "photo.jpg is not an image Stencil can read; it reads only PNG, JPEG, WebP, BMP or TIFF"
    )
    # the photo box passes the path on unread: the handler loads it (with the app's caps) and says the same
    assert checked(gr.Image(type="filepath")).preprocess(ImageData(path=str(fake), orig_name="photo.jpg")) == str(fake)


def test_a_good_upload_comes_as_rgb(tmp_path: Path) -> None:
    path = tmp_path / "rgba.png"
    PILImage.fromarray(np.full((5, 6, 4), 90, np.uint8)).save(path)
    rgb = checked(gr.Image(type="numpy")).preprocess(ImageData(path=str(path), orig_name="rgba.png"))
    assert rgb.shape == (5, 6, 3) and rgb.dtype == np.uint8


def test_public_messages_keep_file_names_and_urls_but_not_server_paths() -> None:
    assert public("/tmp/gradio/9f8e/shoe.webp is damaged; re-export it") == "shoe.webp is damaged; re-export it"
    assert public("see http://127.0.0.1:7860/docs, step 3/4") == "see http://127.0.0.1:7860/docs, step 3/4"


def test_removing_more_than_60_percent_of_the_photo_warns() -> None:
    mask = np.zeros((10, 10), np.float32)
    mask[:6] = 1.0
    assert removal_note(Remove(), mask) is None  # 60%: still fine
    mask[6] = 1.0
    assert "covers 70% of the photo" in (removal_note(Remove(), mask) or "")
    assert removal_note(Inpaint(), mask) is None  # repainting a large area is what inpaint is for
