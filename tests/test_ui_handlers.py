"""Handler unit tests with fake backends: fast, no server, no browser."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image as PILImage
from ui_fakes import fake_services

from ui import actions
from ui.display import DISPLAY_MAX_SIDE, to_image_xy
from ui.edits import BackgroundChoice, EditOptions
from ui.handlers import Handlers
from ui.state import Session


class FakeRequest:
    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def select_at(x: float, y: float) -> gr.SelectData:
    return gr.SelectData(None, {"index": [x, y], "value": None})


@pytest.fixture
def handlers() -> Handlers:
    return Handlers(fake_services())


@pytest.fixture
def loaded(handlers: Handlers, photo: np.ndarray) -> Session:
    return actions.load(handlers.services, photo, "disc.png", Session())


@pytest.fixture
def big_photo() -> np.ndarray:
    """3000x1500 px, so the editors show a 1536x768 copy (scale 0.512)."""
    image = np.full((1500, 3000, 3), 230, np.uint8)
    image[500:1000, 1200:1800] = (200, 30, 30)
    return image


def run_values(operation: str = "Remove", **overrides: object) -> list[object]:
    values: dict[str, object] = {
        "operation": operation,
        "prompt": "",
        "negative": "",
        "bg_kind": "Colour",
        "bg_color": "#00ff00",
        "bg_color2": "#0000ff",
        "bg_blur": 8,
        "bg_image": None,
        "bg_prompt": "",
        "left": 0,
        "right": 0,
        "top": 0,
        "bottom": 0,
        "aspect": "Sides only",
        "engine": "auto",
        "steps": 10,
        "strength": 1.0,
        "guidance": 7.5,
        "seed": 3,
        "margin": 32,
    }
    values.update(overrides)
    return list(values.values())


def test_photo_upload_shows_a_display_copy_and_starts_the_embedding(handlers: Handlers, big_photo, tmp_path) -> None:
    path = tmp_path / "big.png"
    PILImage.fromarray(big_photo).save(path)
    session, click_view, candidates, preview, info, color_view, sketch, photo_info = handlers.on_photo_input(
        str(path), Session()
    )
    assert session.image.shape == big_photo.shape and np.array_equal(session.image, big_photo)
    assert max(click_view.shape[:2]) == DISPLAY_MAX_SIDE and click_view.shape[:2] == (768, 1536)
    assert color_view.shape == click_view.shape and sketch["background"].shape == click_view.shape
    assert session.prepared is not None and session.prepared.result().size == (3000, 1500)
    assert "3000×1500" in photo_info and "empty" in info and candidates == []


def test_click_maps_display_pixels_back_to_full_resolution(handlers: Handlers, big_photo) -> None:
    session = actions.load(handlers.services, big_photo, "big", Session())
    new, click_view, candidates, preview, info = handlers.on_click_image_select(
        session, "positive", "replace", select_at(768, 384)
    )
    assert new.mask.shape == (1500, 3000)
    ys, xs = np.nonzero(new.mask)
    assert abs(xs.mean() - 1500) < 2 and abs(ys.mean() - 750) < 2  # the disc is centred where clicked
    assert len(candidates) == 3 and "score 0.90" in candidates[0][1]
    assert click_view.shape[:2] == (768, 1536)
    assert not np.array_equal(click_view, session.display)  # overlay and marker drawn
    assert "Selection:" in info and new.steps[-1].name == "click"


def test_to_image_xy_inverts_the_display_scale() -> None:
    assert to_image_xy([0, 0], 1.0) == (0.0, 0.0)
    x, y = to_image_xy([767.5, 383.5], 0.512)
    assert abs(x - 1499.5) < 1e-6 and abs(y - 749.5) < 1e-6


def test_negative_click_and_undo_and_clear(handlers: Handlers, loaded: Session) -> None:
    first = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    second = handlers.on_click_image_select(first, "negative", "replace", select_at(70, 48))[0]
    assert len(second.points) == 2 and not second.points[1].positive
    assert second.mask[48, 70] == 0.0 and first.mask[48, 70] == 1.0
    undone = handlers.on_undo_click(second, "replace")[0]
    assert len(undone.points) == 1 and undone.mask[48, 70] == 1.0
    cleared = handlers.on_clear_click(undone)[0]
    assert cleared.points == () and cleared.mask is None and cleared.steps[-1].name == "image"


def test_box_by_two_clicks(handlers: Handlers, loaded: Session) -> None:
    corner = handlers.on_click_image_select(loaded, "box", "replace", select_at(40, 20))[0]
    assert corner.corner is not None and corner.mask is None
    boxed = handlers.on_click_image_select(corner, "box", "replace", select_at(90, 80))[0]
    assert boxed.box is not None and boxed.corner is None
    ys, xs = np.nonzero(boxed.mask)
    assert abs(xs.mean() - 65.5) < 1.5 and abs(ys.mean() - 50.5) < 1.5


def test_candidate_choice_replaces_the_click_mask(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    chosen, _, candidates, _, _ = handlers.on_candidates_select(
        clicked, "replace", gr.SelectData(None, {"index": 2, "value": None})
    )
    assert chosen.chosen == 2 and chosen.mask.sum() > clicked.mask.sum()  # radius 30 > radius 20
    assert "(in use)" in candidates[2][1]


def test_sources_add_and_subtract_within_a_series(handlers: Handlers, loaded: Session) -> None:
    disc = handlers.on_click_image_select(loaded, "positive", "replace", select_at(20, 20))[0]
    # a colour series that adds the red disc of the photo to the click's small disc
    added, picked, *_ = handlers.on_color_image_select(disc, 30.0, "add", select_at(64, 48))
    assert picked.startswith("#") and added.mask[20, 20] == 1.0 and added.mask[48, 64] == 1.0
    # moving the tolerance redoes the colour part only; the click part stays
    retuned = handlers.on_tolerance_release(added, picked, 0.5, "add")[0]
    assert retuned.mask[20, 20] == 1.0 and retuned.mask.sum() < added.mask.sum()
    subtracted = handlers.on_luminance_release(added, 0.0, 0.5, "subtract")[0]
    assert subtracted.mask[48, 64] == 0.0  # the dark red disc was subtracted
    assert [s.name for s in subtracted.steps] == ["image", "click", "color", "luminance"]


def test_sketch_layer_becomes_a_full_resolution_mask(handlers: Handlers, big_photo) -> None:
    session = actions.load(handlers.services, big_photo, "big", Session())
    layer = np.zeros((768, 1536, 4), np.uint8)
    layer[100:200, 300:500] = (255, 59, 48, 128)
    new = handlers.on_sketch_apply(session, {"background": None, "layers": [layer], "composite": None}, "replace")[0]
    assert new.mask.shape == (1500, 3000)
    ys, xs = np.nonzero(new.mask)
    assert abs(ys.min() - 195) < 4 and abs(xs.max() - 977) < 4
    pushed = handlers.on_push_click(new)
    assert pushed["layers"][0][150, 400, 3] > 0 and pushed["layers"][0][10, 10, 3] == 0


def test_refine_preview_follows_the_sliders(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    plain, preview0, info0 = handlers.on_refine_input(clicked, 0, 0, False, False, 0)
    grown, preview1, info1 = handlers.on_refine_input(clicked, 8, 6, False, False, 0)
    assert grown.refine.grow_px == 8 and grown.refine.feather_px == 6
    assert not np.array_equal(preview0, preview1) and info0 != info1
    assert actions.refined(grown).sum() > actions.refined(plain).sum()
    inverted = handlers.on_refine_input(clicked, 0, 0, True, False, 0)[0]
    assert actions.refined(inverted)[48, 64] == 0.0


def test_run_keeps_pixels_outside_the_mask_and_writes_downloads(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    session, (before, after), files, history = handlers.on_run_click(
        clicked, *run_values("Remove"), FakeRequest("a"), lambda *a, **k: None
    )
    result, used = session.result, session.history[-1].mask
    outside = used == 0  # remove grows the selection a little; the used mask is what the promise is about
    assert (used >= clicked.mask).all() and outside.sum() > 0.5 * outside.size
    assert np.array_equal(result[outside], loaded.image[outside]) and (result[48, 64] == 128).all()
    names = [Path(f).name for f in files]
    assert names == ["result.png", "mask.png", "cutout.png", "recipe.json"]
    assert np.array_equal(np.asarray(PILImage.open(files[0])), result)
    cutout = np.asarray(PILImage.open(files[2]))
    assert cutout.shape == (96, 128, 4) and cutout[48, 64, 3] == 255 and cutout[0, 0, 3] == 0
    recipe = json.loads(Path(files[3]).read_text())
    assert [s["step"] for s in recipe["steps"]] == ["image", "click", "refine"]
    assert recipe["edit"]["operation"] == "remove"
    assert len(history) == 1 and "#1 remove" in history[0][1]


def test_history_restore_and_use_as_input(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    first = handlers.on_run_click(clicked, *run_values(), FakeRequest("a"), lambda *a, **k: None)[0]
    chained = handlers.on_use_click(first)[0]
    assert np.array_equal(chained.image, first.result) and len(chained.history) == 1
    moved = handlers.on_click_image_select(chained, "positive", "replace", select_at(20, 20))[0]
    second = handlers.on_run_click(moved, *run_values(), FakeRequest("a"), lambda *a, **k: None)[0]
    assert len(second.history) == 2
    restored = handlers.on_history_select(second, gr.SelectData(None, {"index": 0, "value": None}))
    state = restored[0]
    assert np.array_equal(state.image, loaded.image) and np.array_equal(state.result, first.result)
    assert len(state.history) == 2  # branching keeps every cell
    assert np.array_equal(restored[8], state.display)  # the photo box shows the restored photo
    assert np.array_equal(handlers.on_use_click(first)[8], first.result)  # and the result used as input


def test_example_shows_in_the_photo_box_and_its_copy_does_not_reload(handlers: Handlers, tmp_path) -> None:
    pytest.importorskip("examples.catalog", reason="the examples package is not available")
    outputs = handlers.on_gallery_select(Session(), gr.SelectData(None, {"index": 0, "value": None}))
    session, shown = outputs[0], outputs[8]
    assert shown.shape == session.display.shape and np.array_equal(shown, session.display)
    copy = tmp_path / "shown.webp"
    PILImage.fromarray(shown).save(copy, quality=80)  # what the photo box holds (lossy WebP)
    assert all(isinstance(v, type(gr.skip())) for v in handlers.on_photo_input(str(copy), session))
    other = tmp_path / "other.png"
    PILImage.fromarray(255 - shown).save(other)
    assert handlers.on_photo_input(str(other), session)[0].image.shape == shown.shape


def test_downloads_are_lossless_and_the_cutout_hides_nothing(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    files = handlers.on_run_click(clicked, *run_values("Replace background"), FakeRequest("a"), lambda *a, **k: None)[2]
    cell = handlers.on_run_click(clicked, *run_values(), FakeRequest("a"), lambda *a, **k: None)[0].history[-1]
    assert np.array_equal(np.asarray(PILImage.open(files[1])), np.rint(clicked.mask * 255).astype(np.uint8))
    cutout = np.asarray(PILImage.open(files[2]))
    inside = cutout[..., 3] > 0
    assert np.array_equal(cutout[..., :3][inside], loaded.image[inside]) and (cutout[..., :3][~inside] == 0).all()
    assert cell.preview[0].shape == cell.preview[1].shape == loaded.display.shape


def test_errors_say_what_to_do_and_keep_the_state(handlers: Handlers, loaded: Session) -> None:
    with pytest.raises(gr.Error, match="no photo yet"):
        handlers.on_click_image_select(Session(), "positive", "replace", select_at(3, 3))
    with pytest.raises(gr.Error, match="mask is empty"):
        handlers.on_run_click(loaded, *run_values(), FakeRequest("a"), lambda *a, **k: None)
    with pytest.raises(gr.Error, match="not a colour"):
        handlers.on_tolerance_release(loaded, "banana", 12.0, "replace")
    assert loaded.image is not None and loaded.mask is None  # the frozen state is untouched


def test_corrupt_upload_is_a_clear_error(handlers: Handlers, tmp_path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(gr.Error):
        handlers.on_photo_input(str(broken), Session())


def test_sessions_do_not_share_state(handlers: Handlers, photo: np.ndarray, big_photo: np.ndarray) -> None:
    a = actions.load(handlers.services, photo, "a", Session())
    b = actions.load(handlers.services, big_photo, "b", Session())
    a2 = handlers.on_click_image_select(a, "positive", "replace", select_at(64, 48))[0]
    assert b.mask is None and a2.mask.shape == (96, 128) and a.mask is None
    assert not any(isinstance(v, np.ndarray) for v in vars(handlers.services).values())


def test_cancel_sets_the_session_flag(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    flag = handlers.services.cancel_flag("tab-1")
    handlers.on_cancel_click(FakeRequest("tab-1"))
    assert flag.is_set() and not handlers.services.cancel_flag("tab-2").is_set()
    with_refine = replace(clicked, refine=replace(clicked.refine, grow_px=2))
    assert actions.refined(with_refine).sum() > clicked.mask.sum()


def test_background_colour_keeps_the_product_and_outpaint_grows_the_canvas(handlers: Handlers, loaded: Session) -> None:
    clicked = handlers.on_click_image_select(loaded, "positive", "replace", select_at(64, 48))[0]
    done = handlers.on_run_click(clicked, *run_values("Replace background"), FakeRequest("a"), lambda *a, **k: None)
    result, kept = done[0].result, clicked.mask == 1
    assert np.array_equal(result[kept], loaded.image[kept]) and (result[2, 2] == (0, 255, 0)).all()
    assert done[0].history[-1].params["background"] == "color"
    assert done[3][-1][1] == "#1 background: color (color=#00ff00)"  # the history caption: operation + parameters
    wider = handlers.on_run_click(
        clicked, *run_values("Extend canvas", left=10, right=6), FakeRequest("a"), lambda *a, **k: None
    )
    assert wider[0].result.shape == (96, 144, 3)
    assert np.array_equal(
        wider[0].result[:, 10:138][wider[0].history[-1].mask[:, 10:138] == 0],
        loaded.image[wider[0].history[-1].mask[:, 10:138] == 0],
    )


@pytest.mark.parametrize(
    ("options", "recorded"),
    [
        (EditOptions(operation="remove"), True),
        (EditOptions(operation="outpaint", aspect=(1, 1)), True),
        (EditOptions(operation="background", background=BackgroundChoice(kind="prompt", prompt="a beach")), True),
        (EditOptions(operation="background"), False),
    ],
)
def test_recipe_records_the_context_margin_whenever_an_engine_runs(options: EditOptions, recorded: bool) -> None:
    assert ("margin_px" in options.params()) is recorded
