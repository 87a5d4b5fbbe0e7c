"""The Click tab's "Click with" control and ``/select``'s backend, with a tiny SAM 3 saved by the tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from ui_fakes import fake_services

from pipeline import recipe as recipes
from pipeline.models import Chosen
from pipeline.recipe import Clicks, Engines
from pipeline.settings import Settings
from pipeline.types import Point
from ui import notebook
from ui.handlers import Handlers
from ui.page import build_demo
from ui.state import Session

pytest.importorskip("transformers")

from tiny_transformers import save_sam3, save_sam3_full  # noqa: E402


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3_full(tmp_path_factory.mktemp("sam3") / "tiny-full")


@pytest.fixture(scope="module")
def h(sam3_folder: Path) -> Handlers:
    services = fake_services(Settings(device="cpu", sam3_model=str(sam3_folder), sam_checkpoint=None))
    return build_demo(services=services).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def session_folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def components(demo) -> dict:
    return {getattr(c, "elem_id", None): c for c in demo.blocks.values()}


def choose(h: Handlers, session: Session, kind: str) -> dict:
    return h.click_backend.on_click_backend_change({h.p.session: session, h.p.click_backend: kind})


def test_the_control_offers_sam3_and_the_status_line_says_so(sam3_folder: Path) -> None:
    demo = build_demo(services=fake_services(Settings(device="cpu", sam3_model=str(sam3_folder))))
    control = components(demo)["click-backend"]
    assert ("SAM 3", "sam3") in control.choices and control.value == "auto"
    assert "Auto: fake selector: test." in components(demo)["click-backend-note"].value
    assert '**SAM 3 clicks:** available: pick "SAM 3"' in demo.stencil_handlers.services.status  # type: ignore[attr-defined]


def test_choosing_sam3_redoes_the_open_step_and_later_clicks_refine(h: Handlers, photo: np.ndarray) -> None:
    s = notebook.load(h.services, photo, "disc.png", Session())
    s = notebook.click(h.services, s, 64, 48, "positive", "replace")  # the app's (fake) selector
    out = choose(h, s, "sam3")
    s = out[h.p.session]
    assert s.click_backend == "sam3" and s.steps == (Clicks(size=(128, 96), points=(Point(64, 48),)),)
    selector = h.services.selector_for("sam3").backend
    prepared = selector.prepare(photo)
    first = selector.select(prepared, [Point(64, 48)])
    assert len(s.candidates) == 3 and np.array_equal(s.mask, first.best.mask)
    assert "SAM 3 clicks on cpu" in h.services.status
    s = notebook.click(h.services, s, 5, 5, "negative", "replace")
    points = [Point(64, 48), Point(5, 5, positive=False)]
    assert np.array_equal(s.mask, selector.select(prepared, points, previous=first).best.mask)
    replayed = recipes.run(s.recipe(), photo, Engines(segmenter=Chosen(selector, "test")))
    assert np.array_equal(replayed.mask, s.mask)  # the recipe replays with `--segmenter sam3`
    kept = notebook.load(h.services, photo, "again.png", s)
    assert kept.click_backend == "sam3"  # the choice outlives the photo


def test_an_unknown_or_unloadable_backend_is_a_warning_and_everything_is_kept(
    h: Handlers, sam3_folder: Path, photo: np.ndarray, tmp_path: Path
) -> None:
    s = notebook.click(
        h.services, notebook.load(h.services, photo, "disc.png", Session()), 64, 48, "positive", "replace"
    )
    out = choose(h, s, "grabcut")
    assert out[h.p.session] is s and out[h.p.click_backend] == "auto"
    broken = tmp_path / "broken"
    shutil.copytree(sam3_folder, broken)
    (broken / "model.safetensors").unlink()
    services = fake_services(Settings(device="cpu", sam3_model=str(broken)))
    demo = build_demo(services=services)
    assert ("SAM 3", "sam3") not in components(demo)["click-backend"].choices
    note = components(demo)["click-backend-note"].value
    assert "**SAM 3 is unavailable:** SAM 3 folder" in note and "missing *.safetensors" in note
    assert "**SAM 3 clicks:** unavailable:" in services.status
    other: Handlers = demo.stencil_handlers  # type: ignore[attr-defined]
    out = other.click_backend.on_click_backend_change({other.p.session: s, other.p.click_backend: "sam3"})
    assert out[other.p.session] is s and out[other.p.click_backend] == "auto"  # mask, clicks and backend kept


def test_a_detector_only_sam3_says_clicks_need_the_full_checkpoint(tmp_path: Path) -> None:
    services = fake_services(Settings(device="cpu", sam3_model=str(save_sam3(tmp_path / "detector"))))
    note = components(build_demo(services=services))["click-backend-note"].value
    assert "without the point-prompt (tracker) weights" in note and "hf download facebook/sam3" in note


# ---------------------------------------------------------------- the API, on a running app


@pytest.fixture(scope="module")
def app_with_sam3(sam3_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from ui_server import running_app

    folder = tmp_path_factory.mktemp("clicks-app")
    rng = np.random.default_rng(0)
    PILImage.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(folder / "noise.png")
    with running_app(folder, "--sam3-model", str(sam3_folder), "--device", "cpu") as url:
        yield url, folder / "noise.png"


def test_select_endpoint_takes_the_backend(app_with_sam3: tuple[str, Path], sam3_folder: Path) -> None:
    from gradio_client import Client, handle_file

    from pipeline.select.sam3.points import load_point_selector

    url, photo = app_with_sam3
    client = Client(url, verbose=False)
    client.predict(handle_file(str(photo)), api_name="/load_image")
    mask_png, _ = client.predict("[[40, 30]]", "", "replace", "sam3", api_name="/select")
    selector = load_point_selector(str(sam3_folder), device="cpu")
    image = np.asarray(PILImage.open(photo).convert("RGB"))
    expected = selector.select(selector.prepare(image), [Point(40, 30)]).best.mask > 0.5
    assert np.array_equal(np.asarray(PILImage.open(mask_png)) > 127, expected)
    with pytest.raises(Exception, match="not one of auto, sam, sam3, classic"):
        client.predict("[[40, 30]]", "", "replace", "grabcut", api_name="/select")
    again, _ = client.predict("[[40, 30]]", "", "replace", "", api_name="/select")  # "": the session's, still SAM 3
    assert np.array_equal(np.asarray(PILImage.open(again)) > 127, expected)
