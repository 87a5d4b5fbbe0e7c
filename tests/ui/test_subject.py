"""Select subject in the page and the API: the classical extractor by default, a tiny rembg model when given."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image as PILImage
from tiny_subject import bright_square_photo, export_tiny_subject
from ui_fakes import fake_services
from ui_server import running_app

from pipeline import masks
from pipeline import recipe as recipes
from pipeline.recipe import Subject
from ui import notebook
from ui.handlers import Handlers
from ui.page import build_demo
from ui.state import Session


@pytest.fixture(scope="module")
def h() -> Handlers:
    return build_demo(services=fake_services()).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def session_folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def press(h: Handlers, session: Session | None, combine: str = "replace") -> dict:
    return h.on_select_subject_click({h.p.session: session, h.p.combine: combine})


def test_select_subject_makes_a_subject_step_that_finds_the_product(
    h: Handlers, photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    loaded = notebook.load(h.services, photo, "disc.png", Session())
    out = press(h, loaded)
    s = out[h.p.session]
    assert s.steps == (Subject(),)
    assert masks.iou(s.mask, disc_mask) > 0.9
    again = press(h, s)[h.p.session]  # pressed again: the open step is redone, not added
    assert again.steps == (Subject(),)
    cut = press(h, again, "subtract")[h.p.session]  # subtract the subject from itself: nothing left
    assert [step.combine for step in cut.steps] == ["replace", "subtract"] and cut.mask.max() == 0
    replayed = notebook.replay_step(h.services, loaded, Subject())  # a loaded recipe's step
    assert np.array_equal(replayed.mask, s.mask)
    assert np.array_equal(recipes.run(s.recipe(), photo).mask, s.mask)  # the recipe gives the page's mask


def test_select_subject_without_a_photo_is_a_clear_error(h: Handlers) -> None:
    with pytest.raises(gr.Error, match="photo"):
        press(h, None)


def test_the_page_names_the_subject_backend_and_states_its_limits(h: Handlers) -> None:
    assert "**Subject:** classical subject extractor" in h.services.status
    assert [what for what, _ in h.services.backends] == ["Selector", "SAM 3 clicks", "Engine", "Subject", "Text", "Matte", "Removal"]
    demo = build_demo(services=fake_services())
    notes = [c.value for c in demo.blocks.values() if getattr(c, "elem_id", None) == "subject-note"]
    assert notes and "busy scenes" in notes[0]


# ---------------------------------------------------------------- the API, on a running app


@pytest.fixture(scope="module")
def app_with_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    pytest.importorskip("rembg")
    pytest.importorskip("onnx")
    folder = tmp_path_factory.mktemp("subject-app")
    model = export_tiny_subject(folder / "u2net-tiny.onnx")
    photo, _ = bright_square_photo()
    PILImage.fromarray(photo).save(folder / "square.png")
    with running_app(folder, "--subject-model", str(model)) as url:
        yield url, folder / "square.png"


def test_mask_subject_endpoint_runs_the_rembg_model(app_with_model: tuple[str, Path]) -> None:
    url, photo = app_with_model
    client = Client(url, verbose=False)
    client.predict(handle_file(str(photo)), api_name="/load_image")
    mask_png, info = client.predict("replace", "", api_name="/mask_subject")
    found = np.asarray(PILImage.open(mask_png)) > 127
    _, truth = bright_square_photo()
    assert masks.iou(found.astype(np.float32), truth) > 0.9 and info["width"] == 160
    classic_png, _ = client.predict("replace", "classic", api_name="/mask_subject")
    assert masks.iou((np.asarray(PILImage.open(classic_png)) > 127).astype(np.float32), truth) > 0.9
    recipe = client.predict(api_name="/recipe")
    assert [step["step"] for step in recipe["steps"]] == ["subject"] and recipe["steps"][0]["engine"] == "classic"
    with pytest.raises(Exception, match="auto, rembg or classic"):
        client.predict("replace", "sam", api_name="/mask_subject")
    assert client.predict(api_name="/recipe") == recipe  # the refused step left the notebook as it was


def test_the_app_refuses_a_subject_model_that_is_not_onnx_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rembg")
    import app

    monkeypatch.setenv("STENCIL_MODELS_DIR", str(tmp_path))
    fake = tmp_path / "u2net.onnx"
    fake.write_bytes(b"GIF89a not a model")
    assert app.main(["--subject-model", str(fake)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "not an ONNX model" in lines[0]
