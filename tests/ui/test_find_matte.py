"""Find by name (SAM 3) and the edge matte in the page and the API, with tiny models saved by the tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image as PILImage
from ui_fakes import fake_services

from pipeline import recipe as recipes
from pipeline.recipe import Refine, TextPrompt
from pipeline.settings import Settings
from ui import notebook
from ui.handlers import Handlers
from ui.page import build_demo
from ui.state import Session

pytest.importorskip("transformers")

from tiny_transformers import save_sam3  # noqa: E402


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3(tmp_path_factory.mktemp("sam3") / "tiny")


@pytest.fixture(scope="module")
def h(sam3_folder: Path) -> Handlers:
    services = fake_services(Settings(device="cpu", sam3_model=str(sam3_folder)))
    return build_demo(services=services).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def session_folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def find(h: Handlers, session: Session | None, text: str, threshold: float = 0.0) -> dict:
    values = {h.p.session: session, h.p.find_text: text, h.p.find_threshold: threshold, h.p.combine: "replace"}
    return h.find.on_find_click(values)


def test_find_by_name_offers_every_instance_and_keeps_the_ones_ticked(h: Handlers, photo: np.ndarray) -> None:
    loaded = notebook.load(h.services, photo, "disc.png", Session())
    out = find(h, loaded, "red cup")
    s = out[h.p.session]
    assert s.steps == (TextPrompt(text="red cup", threshold=0.0),) and s.text_found is not None
    choices = out[h.p.instances]["choices"]
    assert len(choices) == len(s.text_found.scores) >= 2 and out[h.p.instances]["value"] == list(range(len(choices)))
    every = [c.mask for c in s.text_found.candidates()]
    assert np.array_equal(s.mask, np.maximum.reduce(every))
    one = h.find.on_instances_input({h.p.session: s, h.p.instances: [1]})[h.p.session]
    assert one.steps == (TextPrompt(text="red cup", instances=(1,), threshold=0.0),)  # the open step, re-picked
    assert np.array_equal(one.mask, every[1]) and one.text_found is s.text_found  # SAM 3 did not run again
    assert np.array_equal(recipes.run(one.recipe(), photo, h.services.engines).mask, one.mask)


def test_bad_text_or_no_instance_is_a_clear_error_and_the_mask_is_kept(h: Handlers, photo: np.ndarray) -> None:
    s = find(h, notebook.load(h.services, photo, "disc.png", Session()), "cup")[h.p.session]
    for text, needle in (("", "empty"), ("x" * 10_000, "10,000 characters")):
        with pytest.raises(gr.Error, match=needle):
            find(h, s, text)
    with pytest.raises(gr.Error, match="at least one instance"):
        h.find.on_instances_input({h.p.session: s, h.p.instances: []})
    with pytest.raises(gr.Error, match="nothing in this photo matches 'cup'"):
        find(h, s, "cup", threshold=0.95)
    assert s.mask is not None and s.steps == (TextPrompt(text="cup", threshold=0.0),)  # sessions are immutable


def test_without_sam3_the_tab_says_why_and_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("STENCIL_SAM3_MODEL", raising=False)
    demo = build_demo(services=fake_services(Settings(device="cpu")))
    services = demo.stencil_handlers.services  # type: ignore[attr-defined]
    assert "**Text:** unavailable: no text finder is available: finding by name needs SAM 3" in services.status
    assert "**Matte:** classical closed-form matte" in services.status
    by_id = {getattr(c, "elem_id", None): c for c in demo.blocks.values()}
    assert "hf download facebook/sam3" in by_id["find-note"].value
    assert by_id["find"].interactive is False and by_id["find-text"].interactive is False


def refine_values(h: Handlers, session: Session, *, matte: int) -> dict:
    named = {"grow": 0, "feather": 0, "speck": 0, "matte": matte, "invert": False, "fill_holes": False}
    return {h.p.session: session, **{h.p.refine[name]: value for name, value in named.items()}}


def test_the_refine_step_shows_the_alpha_and_the_cutout_on_a_checkerboard(
    h: Handlers, photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    s = notebook.store_mask(notebook.load(h.services, photo, "disc.png", Session()), disc_mask, "mask", "replace")
    values = refine_values(h, s, matte=4)
    out = h.on_refine_input(values)
    view = out[h.p.matte_view]
    height, width = photo.shape[:2]
    assert view.shape == (height, 2 * width + 8, 3)
    alpha = view[:, :width, 0]
    assert ((alpha > 0) & (alpha < 255)).any()  # a soft edge
    assert out[h.p.session].refine == Refine(matte_px=4)
    values[h.p.refine["matte"]] = 0
    assert h.on_refine_input(values)[h.p.matte_view] is None


def test_a_matte_on_an_empty_mask_previews_without_it_and_says_why(h: Handlers, photo: np.ndarray) -> None:
    s = notebook.load(h.services, photo, "disc.png", Session())
    values = refine_values(h, s, matte=4)
    out = h.on_refine_input(values)
    assert "Edge matte off: the mask selects nothing" in out[h.p.mask_info] and out[h.p.matte_view] is None


# ---------------------------------------------------------------- the API, on a running app


@pytest.fixture(scope="module")
def app_with_sam3(sam3_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from ui_server import running_app

    folder = tmp_path_factory.mktemp("text-app")
    rng = np.random.default_rng(0)
    PILImage.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(folder / "noise.png")
    with running_app(folder, "--sam3-model", str(sam3_folder), "--device", "cpu") as url:
        yield url, folder / "noise.png"


def test_mask_text_endpoint(app_with_sam3: tuple[str, Path]) -> None:
    from gradio_client import Client, handle_file

    url, photo = app_with_sam3
    client = Client(url, verbose=False)
    client.predict(handle_file(str(photo)), api_name="/load_image")
    mask_png, info = client.predict("bottle", "replace", "0", 0.0, api_name="/mask_text")
    assert np.asarray(PILImage.open(mask_png)).shape == (60, 80) and len(info["instances"]) >= 1
    recipe = client.predict(api_name="/recipe")
    assert recipe["steps"][0] == {"step": "text", "text": "bottle", "instances": [0], "threshold": 0.0,
                                  "combine": "replace"}  # fmt: skip
    with pytest.raises(Exception, match="empty"):
        client.predict("  ", "replace", "", None, api_name="/mask_text")
