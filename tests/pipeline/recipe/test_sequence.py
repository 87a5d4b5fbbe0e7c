"""A recipe over a sequence: every export written, product pixels exact, cancel leaves no file."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from track_clips import scene

from pipeline.edits.background import SolidColor
from pipeline.errors import Cancelled, InvalidInput
from pipeline.io.video import probe_clip
from pipeline.recipe import Recipe, Refine, ReplaceBackground
from pipeline.recipe.sequence import Exports, apply_to_sequence, per_frame
from pipeline.recipe.steps import ColorRange


def png(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    data = cv2.imdecode(np.frombuffer(archive.read(name), np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(data, cv2.COLOR_BGRA2RGBA if data.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def test_every_export_is_written_and_the_product_keeps_its_pixels(tmp_path: Path) -> None:
    frames, masks = scene(4)
    recipe = Recipe((ReplaceBackground(fill=SolidColor((255, 255, 255))),))
    exports = Exports(
        video=tmp_path / "edited.mp4", frames_zip=tmp_path / "frames.zip", alpha_video=tmp_path / "alpha.webm",
        rgba_zip=tmp_path / "rgba.zip", mask_zip=tmp_path / "masks.zip",
    )  # fmt: skip
    done = apply_to_sequence(recipe, iter(frames), 4, exports, fps=10, masks=lambda i: masks[i])
    assert done == 4 and probe_clip(tmp_path / "edited.mp4").frames == 4
    with zipfile.ZipFile(tmp_path / "rgba.zip") as rgba, zipfile.ZipFile(tmp_path / "frames.zip") as edited:
        for index in range(4):
            inside = masks[index] > 0.5
            cut = png(rgba, f"rgba-{index + 1:05d}.png")
            out = png(edited, f"frame-{index + 1:05d}.png")
            assert np.array_equal(cut[inside][:, :3], frames[index][inside])
            assert np.array_equal(out[inside], frames[index][inside])  # exact where the mask says so
            assert (out[~inside] == 255).all() and (cut[~inside][:, 3] == 0).all()


def test_tracked_masks_replace_the_recipes_mask_steps_but_refine_still_runs() -> None:
    mask = np.zeros((8, 8), np.float32)
    mask[2:5, 2:5] = 1
    recipe = Recipe((ColorRange(color=(1, 2, 3)), Refine(grow_px=1), ReplaceBackground(fill=SolidColor((0, 0, 0)))))
    kinds = [type(step).kind for step in per_frame(recipe, mask).steps]  # type: ignore[attr-defined]
    assert kinds == ["mask", "refine", "background"]
    assert per_frame(recipe, None) is recipe


def test_a_cancel_leaves_no_export(tmp_path: Path) -> None:
    frames, masks = scene(5)
    stop = threading.Event()
    exports = Exports(video=tmp_path / "edited.mp4", rgba_zip=tmp_path / "rgba.zip")
    with pytest.raises(Cancelled, match="nothing was exported"):
        apply_to_sequence(
            Recipe((ReplaceBackground(fill=SolidColor((0, 0, 0))),)), iter(frames), 5, exports, fps=10,
            masks=lambda i: masks[i], progress=lambda d, t: stop.set() if d == 2 else None, cancel=stop,
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_a_mask_of_the_wrong_size_names_the_frame(tmp_path: Path) -> None:
    frames, _ = scene(2)
    with pytest.raises(InvalidInput, match="frame 1: .*made on a 10x10 photo"):
        apply_to_sequence(
            Recipe((ReplaceBackground(fill=SolidColor((0, 0, 0))),)), iter(frames), 2,
            Exports(mask_zip=tmp_path / "m.zip"), fps=10, masks=lambda i: np.ones((10, 10), np.float32),
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []
