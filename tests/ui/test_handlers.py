"""Handler tests with fake backends: the page's handlers driven with component-keyed dicts, no server.

One page is built per module (``build_demo(services=fake_services())``); every handler takes one
dict keyed by component and returns one. The fake selector paints discs of radius 20, 10 and 30
px at the first positive click; the fake engine paints the masked area grey.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from PIL import Image as PILImage
from ui_fakes import FakeSegmenter, fake_services

from pipeline import recipe as recipes
from pipeline.edits.background import Shadow, SolidColor
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.models import Chosen
from pipeline.recipe import (
    Clicks,
    ExtendCanvas,
    LuminanceRange,
    Output,
    Recipe,
    Refine,
    Remove,
    ReplaceBackground,
    StoredMask,
)
from pipeline.settings import Settings
from pipeline.types import Point
from ui import cells, notebook
from ui.display import DISPLAY_MAX_SIDE
from ui.handlers import Handlers
from ui.page import build_demo
from ui.services import Services
from ui.state import FULL_SIZE_CELLS, MAX_CELLS, Session, forget
from ui.views import click_region

V = dict[Any, Any]
MASK_PARTS = (
    "combine",
    "click_kind",
    "zoom",
    "picked",
    "tolerance",
    "lum_low",
    "lum_high",
    "gray_threshold",
    "classes",
)


class FakeRequest:
    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def no_progress(*args: object, **kwargs: object) -> None:
    return None


@pytest.fixture(scope="module")
def h() -> Handlers:
    return build_demo(services=fake_services()).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def classic_h() -> Handlers:
    """A page without a diffusion model: the "auto" engine is the classical one."""
    services = Services(
        Settings(),
        Chosen(FakeSegmenter(), "fake selector: test"),
        Chosen(ClassicInpainter(), "classic: no diffusion model"),
        "cpu",
    )
    return build_demo(services=services).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def session_folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Session and cell folders go under the test's own temporary folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def loaded(h: Handlers, photo: np.ndarray) -> Session:
    return notebook.load(h.services, photo, "disc.png", Session())


@pytest.fixture
def big_photo() -> np.ndarray:
    """3000x1500 px, so the editors show a 1536x768 copy (scale 0.512)."""
    image = np.full((1500, 3000, 3), 230, np.uint8)
    image[500:1000, 1200:1800] = (200, 30, 30)
    return image


# ---------------------------------------------------------------- helpers


def component(h: Handlers, name: str) -> Any:
    p = h.p
    return p.refine.get(name) or p.edit.get(name) or p.parts[name]


def values(h: Handlers, session: Session | None, **by_name: object) -> V:
    """A handler's input: every refine, edit and mask-step control at its default, then ``by_name``."""
    p = h.p
    v: V = {p.session: session}
    for comp in (*p.refine.values(), *p.edit.values(), *(p.parts[n] for n in MASK_PARTS)):
        v[comp] = comp.value
    for name, value in by_name.items():
        v[component(h, name)] = value
    return v


def at(x: float, y: float) -> gr.SelectData:
    return gr.SelectData(None, {"index": [x, y], "value": None})


def item(index: int) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": None})


def click(h: Handlers, s: Session, x: float, y: float, kind: str = "positive", combine: str = "replace") -> Session:
    return h.on_click_image_select(values(h, s, click_kind=kind, combine=combine), at(x, y))[h.p.session]


def run(h: Handlers, s: Session, operation: str = "Remove", **controls: object) -> V:
    return run_values(h, values(h, s, operation=operation, **controls))


def run_values(h: Handlers, v: V) -> V:
    return h.on_run_click(v, FakeRequest("tab"), no_progress)  # type: ignore[arg-type]


def shown_controls(h: Handlers, out: V) -> V:
    """The refine and edit controls a handler set, keyed by component."""
    return {c: out[c] for c in (*h.p.refine.values(), *h.p.edit.values()) if c in out}


def recipe_of(out: V, h: Handlers) -> Recipe:
    return recipes.loads(Path(out[h.p.downloads][-1]).read_text())


def png(path: str) -> np.ndarray:
    return np.asarray(PILImage.open(path))


def kinds(steps: tuple) -> list[str]:
    return [type(s).kind for s in steps]


# ---------------------------------------------------------------- step 1: photo


def test_photo_upload_shows_a_display_copy_and_starts_the_embedding(h: Handlers, big_photo, tmp_path) -> None:
    path = tmp_path / "big.png"
    PILImage.fromarray(big_photo).save(path, compress_level=1)
    before = h.services.segmenter.backend.prepared
    out = h.on_photo_input({h.p.photo: str(path), h.p.session: None})
    p, s = h.p, out[h.p.session]
    assert np.array_equal(s.photo.image, big_photo) and s.photo.name == "big.png"
    assert out[p.click_image].shape[:2] == (768, 1536) and max(out[p.click_image].shape[:2]) == DISPLAY_MAX_SIDE
    assert out[p.color_image].shape == out[p.click_image].shape
    assert out[p.sketch]["background"].shape == out[p.click_image].shape and out[p.sketch]["layers"] == []
    assert s.photo.prepared is not None and s.photo.prepared.result().size == (3000, 1500)
    assert h.services.segmenter.backend.prepared == before + 1  # embedded once, in the background
    assert "3000×1500" in out[p.photo_info] and "shown at 51%" in out[p.photo_info]
    assert "empty" in out[p.mask_info] and out[p.candidates] == []
    assert p.photo not in out  # an upload is already in the photo box


def test_click_maps_display_pixels_back_to_full_resolution(h: Handlers, big_photo) -> None:
    s = notebook.load(h.services, big_photo, "big", Session())
    out = h.on_click_image_select(values(h, s), at(768, 384))
    new = out[h.p.session]
    assert new.mask.shape == (1500, 3000)
    ys, xs = np.nonzero(new.mask)
    assert abs(xs.mean() - 1500) < 2 and abs(ys.mean() - 750) < 2  # the disc is centred where clicked
    assert len(out[h.p.candidates]) == 3 and "score 0.90" in out[h.p.candidates][0][1]
    assert out[h.p.click_image].shape[:2] == (768, 1536)
    assert not np.array_equal(out[h.p.click_image], s.photo.display)  # overlay and marker drawn
    assert "Selection:" in out[h.p.mask_info] and kinds(new.steps) == ["clicks"]
    (point,) = new.steps[0].points  # the centre of display pixel (768, 384), in image pixels
    assert point.positive and (point.x, point.y) == pytest.approx((768.5 / 0.512 - 0.5, 384.5 / 0.512 - 0.5))


def test_zoomed_view_maps_clicks_into_its_region(h: Handlers, big_photo) -> None:
    s = click(h, notebook.load(h.services, big_photo, "big", Session()), 768, 384)
    zoomed = h.on_zoom_change(values(h, s, zoom=2.0))
    view = click_region(zoomed[h.p.session])
    assert (view.x0, view.y0, view.scale) == (732, 366, 1.0)  # 1536x768 px around the click, at 1:1
    assert zoomed[h.p.click_image].shape[:2] == (768, 1536)
    assert view.to_image([0, 0]) == (732.0, 366.0)
    moved = h.on_click_image_select(values(h, zoomed[h.p.session], combine="add"), at(100, 50))[h.p.session]
    assert moved.steps[-1].points == (Point(832.0, 416.0, True),)


def test_candidates_are_kept_at_display_size(h: Handlers, big_photo) -> None:
    s = click(h, notebook.load(h.services, big_photo, "big", Session()), 768, 384)
    assert [m.shape for m, _ in s.candidates] == [(768, 1536)] * 3
    assert [round(score, 2) for _, score in s.candidates] == [0.9, 0.6, 0.3]
    assert s.mask.shape == (1500, 3000)  # the chosen mask stays full size
    assert all(c.mask.size == 1 for c in s.chain.selection.candidates)  # no full-size copies kept
    chosen = h.on_candidates_select(values(h, s), item(2))[h.p.session]
    assert chosen.mask.shape == (1500, 3000) and chosen.mask.sum() > s.mask.sum()


# ---------------------------------------------------------------- step 2: mask steps


def test_negative_click_and_undo_and_clear(h: Handlers, loaded: Session) -> None:
    first = click(h, loaded, 64, 48)
    second = click(h, first, 70, 48, "negative")
    assert len(second.steps) == 1 and len(second.steps[0].points) == 2 and not second.steps[0].points[1].positive
    assert second.mask[48, 70] == 0.0 and first.mask[48, 70] == 1.0
    undone = h.on_undo_click(values(h, second))[h.p.session]
    assert len(undone.steps[0].points) == 1 and undone.mask[48, 70] == 1.0
    cleared_out = h.on_clear_click(values(h, undone))
    cleared = cleared_out[h.p.session]
    assert cleared.steps == () and cleared.mask is None and "empty" in cleared_out[h.p.mask_info]


def test_clear_drops_only_the_open_clicks_step(h: Handlers, loaded: Session) -> None:
    first = click(h, loaded, 40, 48)
    second = click(h, first, 90, 48, combine="add")
    cleared = h.on_clear_click(values(h, second))[h.p.session]
    assert len(cleared.steps) == 1 and np.array_equal(cleared.mask, first.mask)


def test_after_clear_the_page_mask_stays_the_recipe_mask(h: Handlers, loaded: Session) -> None:
    s = click(h, loaded, 10, 10)
    s = h.on_color_image_select(values(h, s, tolerance=30.0, combine="add"), at(64, 48))[h.p.session]
    s = h.on_clear_click(values(h, click(h, s, 110, 80, combine="add")))[h.p.session]
    assert kinds(s.steps) == ["clicks", "color"]
    # the colour step can no longer be redone (the mask before it is gone): a new step starts
    retuned = h.on_tolerance_release(values(h, s, picked="#000000", tolerance=1.0, combine="add"))[h.p.session]
    assert kinds(retuned.steps) == ["clicks", "color", "color"] and np.array_equal(retuned.mask, s.mask)
    assert np.array_equal(recipes.run(retuned.recipe(), loaded.photo.image, h.services.engines).mask, retuned.mask)
    cut = click(h, click(h, loaded, 30, 48), 60, 48, combine="subtract")
    cut = h.on_clear_click(values(h, click(h, cut, 100, 48, combine="add")))[h.p.session]
    again = click(h, cut, 40, 48, combine="subtract")  # the subtract step is closed: this click owns a new one
    assert [s.combine for s in again.steps] == ["replace", "subtract", "subtract"]
    assert again.steps[-1].points == (Point(40.0, 48.0, True),) and again.mask[48, 60] == 0.0
    assert np.array_equal(recipes.run(again.recipe(), loaded.photo.image, h.services.engines).mask, again.mask)


def test_box_by_two_clicks(h: Handlers, loaded: Session) -> None:
    corner = click(h, loaded, 40, 20, "box")
    assert corner.corner == (40.0, 20.0) and corner.mask is None
    boxed = click(h, corner, 90, 80, "box")
    assert boxed.steps[-1].box is not None and boxed.corner is None
    ys, xs = np.nonzero(boxed.mask)
    assert abs(xs.mean() - 65.5) < 1.5 and abs(ys.mean() - 50.5) < 1.5


def test_box_corners_on_the_very_edge_of_a_scaled_photo_register(h: Handlers, big_photo) -> None:
    s = notebook.load(h.services, big_photo, "big", Session())
    view = s.photo.display.shape  # 768 x 1536: the browser may report the pixel just past the edge
    corner = click(h, s, -1, -1, "box")
    assert corner.corner == (0.0, 0.0)
    boxed = click(h, corner, view[1], view[0], "box")
    box = boxed.steps[-1].box
    assert (box.x0, box.y0, box.x1, box.y1) == (0.0, 0.0, 3000.0, 1500.0)


def test_candidate_choice_replaces_the_click_mask(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    out = h.on_candidates_select(values(h, clicked), item(2))
    chosen = out[h.p.session]
    assert chosen.steps[-1].candidate == 2 and len(chosen.steps) == 1
    assert chosen.mask.sum() > clicked.mask.sum()  # radius 30 > radius 20
    assert "(in use)" in out[h.p.candidates][2][1] and "(in use)" not in out[h.p.candidates][0][1]
    replayed = recipes.run(chosen.recipe(), loaded.photo.image, h.services.engines)
    assert np.array_equal(replayed.mask, chosen.mask)
    with pytest.raises(gr.Error, match="no candidate 5"):
        h.on_candidates_select(values(h, clicked), item(5))


def test_each_mask_step_owns_its_clicks(h: Handlers, loaded: Session) -> None:
    replaced = click(h, loaded, 64, 48)  # disc of radius 20 around (64, 48)
    subtracted = click(h, replaced, 80, 48, combine="subtract")  # takes a disc around (80, 48) away
    assert subtracted.mask[48, 80] == 0.0 and subtracted.mask[48, 50] == 1.0
    added = click(h, subtracted, 30, 48, combine="add")
    assert [s.combine for s in added.steps] == ["replace", "subtract", "add"]
    assert added.steps[-1].points == (Point(30.0, 48.0, True),)  # only its own point
    assert added.mask[48, 80] == 0.0  # the Add click does not bring back what Subtract removed
    assert added.mask[48, 30] == 1.0 and added.mask[48, 50] == 1.0
    more = click(h, added, 20, 48, "negative", combine="add")  # same source and mode: the open step grows
    assert len(more.steps) == 3 and len(more.steps[-1].points) == 2
    replayed = recipes.run(more.recipe(), loaded.photo.image, h.services.engines)
    assert np.array_equal(replayed.mask, more.mask)


def test_intersect_keeps_only_the_overlap(h: Handlers, loaded: Session) -> None:
    first = click(h, loaded, 64, 48)
    both = click(h, first, 80, 48, combine="intersect")
    assert both.mask[48, 72] == 1.0 and both.mask[48, 50] == 0.0 and both.mask[48, 95] == 0.0
    assert both.mask.sum() < first.mask.sum() and kinds(both.steps) == ["clicks", "clicks"]


def test_sources_combine_within_a_series(h: Handlers, loaded: Session) -> None:
    disc = click(h, loaded, 20, 20)
    # a colour step that adds the red disc of the photo to the click's small disc
    out = h.on_color_image_select(values(h, disc, tolerance=30.0, combine="add"), at(64, 48))
    added, picked = out[h.p.session], out[h.p.picked]
    assert picked.startswith("#") and added.mask[20, 20] == 1.0 and added.mask[48, 64] == 1.0
    # moving the tolerance redoes the open colour step only; the click step stays
    retuned = h.on_tolerance_release(values(h, added, picked=picked, tolerance=0.5, combine="add"))[h.p.session]
    assert retuned.mask[20, 20] == 1.0 and retuned.mask.sum() < added.mask.sum()
    assert kinds(retuned.steps) == ["clicks", "color"] and retuned.steps[-1].tolerance == 0.5
    # another colour is another source: it adds to the first instead of replacing it
    both = h.on_color_image_select(values(h, added, tolerance=5.0, combine="add"), at(5, 90))[h.p.session]
    assert kinds(both.steps) == ["clicks", "color", "color"] and both.mask[48, 64] == 1.0 and both.mask[90, 5] == 1.0
    subtracted = h.on_luminance_release(values(h, added, lum_low=0.5, lum_high=0.0, combine="subtract"))
    s = subtracted[h.p.session]
    assert s.mask[48, 64] == 0.0 and s.mask[20, 20] == 1.0  # the dark red disc was subtracted
    assert kinds(s.steps) == ["clicks", "color", "luminance"] and (s.steps[-1].low, s.steps[-1].high) == (0.0, 0.5)


def test_sketch_layer_becomes_a_full_resolution_mask(h: Handlers, big_photo) -> None:
    s = notebook.load(h.services, big_photo, "big", Session())
    layer = np.zeros((768, 1536, 4), np.uint8)
    layer[100:200, 300:500] = (255, 59, 48, 128)
    sketch = {"background": None, "layers": [layer], "composite": None}
    new = h.on_sketch_apply({**values(h, s), h.p.sketch: sketch})[h.p.session]
    assert new.mask.shape == (1500, 3000) and set(np.unique(new.mask)) == {0.0, 1.0}
    ys, xs = np.nonzero(new.mask)
    assert abs(ys.min() - 195) < 4 and abs(xs.max() - 977) < 4
    assert isinstance(new.steps[-1], StoredMask) and new.steps[-1].origin == "sketch"
    pushed = h.on_push_click(values(h, new))[h.p.sketch]["layers"][0]
    assert pushed[150, 400, 3] > 0 and pushed[10, 10, 3] == 0
    with pytest.raises(gr.Error, match="nothing painted"):
        h.on_sketch_apply({**values(h, s), h.p.sketch: {"background": None, "layers": [], "composite": None}})


# ---------------------------------------------------------------- step 3: refine


def test_refine_preview_follows_the_sliders(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    plain = h.on_refine_input(values(h, clicked))
    grown = h.on_refine_input(values(h, clicked, grow=8, feather=6.0))
    p = h.p
    assert grown[p.session].refine == Refine(grow_px=8, feather_px=6.0)
    assert not np.array_equal(plain[p.refine_preview], grown[p.refine_preview])
    assert plain[p.mask_info] != grown[p.mask_info]
    assert cells.refined(grown[p.session]).sum() > cells.refined(plain[p.session]).sum()
    inverted = h.on_refine_input(values(h, clicked, invert=True))[p.session]
    assert cells.refined(inverted)[48, 64] == 0.0 and cells.refined(inverted)[0, 0] == 1.0
    assert inverted.mask is clicked.mask  # the raw mask is kept; only the refinement changed


# ---------------------------------------------------------------- steps 4 and 5: run and downloads


def test_run_keeps_pixels_outside_the_mask_and_writes_downloads(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    out = run(h, clicked, "Remove")
    s, files = out[h.p.session], out[h.p.downloads]
    assert [Path(f).name for f in files] == ["result.png", "mask.png", "cutout.png", "crop.png", "recipe.json"]
    used = png(files[1])
    outside = used == 0  # remove grows the selection a little; the used mask is what the promise is about
    assert (used[clicked.mask > 0] == 255).all() and outside.sum() > 0.5 * outside.size
    assert np.array_equal(s.result[outside], loaded.photo.image[outside]) and (s.result[48, 64] == 128).all()
    assert np.array_equal(png(files[0]), s.result)
    cutout = png(files[2])
    assert cutout.shape == (96, 128, 4) and cutout[48, 64, 3] == 255 and cutout[0, 0, 3] == 0
    ys, xs = np.nonzero(used)
    crop = png(files[3])
    top, left = max(0, ys.min() - 16), max(0, xs.min() - 16)
    assert np.array_equal(crop, s.result[top : ys.max() + 17, left : xs.max() + 17])
    recipe = recipe_of(out, h)
    assert kinds(recipe.steps) == ["clicks", "remove"] and recipe.steps[0] == clicked.steps[0]
    assert len(out[h.p.history]) == 1 and out[h.p.history][0][1].startswith("#1 remove")
    assert out[h.p.comparison][0].shape == out[h.p.comparison][1].shape == loaded.photo.display.shape
    assert "fake-engine" in out[h.p.result_info] and "disc.png" in out[h.p.result_info]


def test_recipe_download_replays_to_identical_pictures(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    coloured = h.on_color_image_select(values(h, clicked, tolerance=8.0, combine="subtract"), at(60, 40))
    refined = h.on_refine_input(values(h, coloured[h.p.session], grow=2, feather=3.0))[h.p.session]
    out = run(h, refined, "Replace background", bg_color="#00ff00", shadow=True)
    files = out[h.p.downloads]
    replayed = recipes.run(recipe_of(out, h), loaded.photo.image, h.services.engines)
    assert np.array_equal(replayed.image, png(files[0]))
    assert np.array_equal(np.rint(replayed.mask * 255).astype(np.uint8), png(files[1]))
    assert np.array_equal(replayed.cutout, png(files[2]))
    assert np.array_equal(replayed.crop, png(files[3]))
    assert kinds(recipe_of(out, h).steps) == ["clicks", "color", "refine", "background"]


def test_a_chain_through_use_result_replays_on_the_original_photo(h: Handlers, loaded: Session) -> None:
    first = run(h, click(h, loaded, 64, 48), "Replace background", bg_color="#00ff00", out_format="webp")
    first = first[h.p.session]
    chained = h.on_use_click(values(h, first))[h.p.session]
    assert chained.photo.name == "result of #1" and np.array_equal(chained.photo.image, first.result)
    assert not isinstance(chained.photo.origin.steps[-1], Output)  # an output step may only come last
    out = run(h, click(h, chained, 20, 20), "Remove")
    recipe = recipe_of(out, h)
    assert kinds(recipe.steps) == ["clicks", "background", "mask", "clicks", "remove"]
    replayed = recipes.run(recipe, loaded.photo.image, h.services.engines)
    files = out[h.p.downloads]
    assert np.array_equal(replayed.image, png(files[0]))
    assert np.array_equal(np.rint(replayed.mask * 255).astype(np.uint8), png(files[1]))
    assert np.array_equal(replayed.cutout, png(files[2]))


def test_a_framed_result_cannot_be_used_as_input(h: Handlers, loaded: Session) -> None:
    framed = run(h, click(h, loaded, 64, 48), "Replace background", canvas_w=200, canvas_h=160)[h.p.session]
    assert framed.result.shape == (160, 200, 3)
    with pytest.raises(gr.Error, match="canvas width and height 0"):
        h.on_use_click(values(h, framed))


def test_downloads_are_lossless_and_the_cutout_hides_nothing(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    files = run(h, clicked, "Replace background", bg_color="#00ff00")[h.p.downloads]
    assert np.array_equal(png(files[1]), np.rint(clicked.mask * 255).astype(np.uint8))
    cutout = png(files[2])
    inside = cutout[..., 3] > 0
    assert np.array_equal(inside, clicked.mask > 0)
    assert np.array_equal(cutout[..., :3][inside], loaded.photo.image[inside]) and (cutout[..., :3][~inside] == 0).all()


def test_background_colour_keeps_the_product_and_outpaint_grows_the_canvas(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    done = run(h, clicked, "Replace background", bg_color="#00ff00")
    result, kept = done[h.p.session].result, clicked.mask == 1
    assert np.array_equal(result[kept], loaded.photo.image[kept]) and (result[2, 2] == (0, 255, 0)).all()
    assert done[h.p.history][-1][1] == "#1 background: colour #00ff00"  # no engine ran
    assert "no engine needed" in done[h.p.result_info]
    wider = run(h, done[h.p.session], "Extend canvas", left=10, right=6)
    grown = wider[h.p.session].result
    assert grown.shape == (96, 144, 3)
    new_area = png(wider[h.p.downloads][1])[:, 10:138] > 0
    assert np.array_equal(grown[:, 10:138][~new_area], loaded.photo.image[~new_area])
    assert wider[h.p.history][-1][1].startswith("#2 outpaint: sides")


def test_cancel_sets_the_session_flag_and_stops_the_run(h: Handlers, loaded: Session) -> None:
    flag = h.services.cancel_flag("tab-1")
    h.on_cancel_click(FakeRequest("tab-1"))  # type: ignore[arg-type]
    assert flag.is_set() and not h.services.cancel_flag("tab-2").is_set()
    clicked = click(h, loaded, 64, 48)
    # a run clears an old cancel, then a cancel during the run stops it at the engine's next step
    remove, tab = values(h, clicked, operation="Remove"), FakeRequest("tab-1")
    done = h.on_run_click(remove, tab, no_progress)  # type: ignore[arg-type]
    assert len(done[h.p.session].history) == 1

    def cancel_now(*args: object, **kwargs: object) -> None:
        h.services.cancel_flag("tab-1").set()

    with pytest.raises(gr.Error, match="cancel"):
        h.on_run_click(remove, tab, cancel_now)  # type: ignore[arg-type]


# ---------------------------------------------------------------- history


def test_history_restore_sets_the_controls_and_use_names_the_cell(h: Handlers, loaded: Session) -> None:
    p = h.p
    clicked = click(h, loaded, 64, 48)
    refined = h.on_refine_input(values(h, clicked, grow=4))[p.session]
    first = run(h, refined, "Replace background", bg_color="#00ff00")[p.session]
    chained = h.on_use_click(values(h, first))
    assert np.array_equal(chained[p.photo], first.result)  # the photo box shows the result used as input
    second = run(h, click(h, chained[p.session], 20, 20), "Remove")[p.session]
    assert len(second.history) == 2 and h.on_use_click(values(h, second))[p.session].photo.name == "result of #2"
    out = h.on_history_select(values(h, second), item(0))
    s = out[p.session]
    assert np.array_equal(s.photo.image, loaded.photo.image) and np.array_equal(s.result, first.result)
    assert s.shown_cell == 1 and len(s.history) == 2  # branching keeps every cell
    assert s.steps == clicked.steps and np.array_equal(s.mask, clicked.mask) and s.refine == Refine(grow_px=4)
    assert np.array_equal(out[p.photo], s.photo.display)  # the photo box shows the restored photo
    assert out[p.edit["operation"]] == "Replace background" and out[p.edit["bg_color"]] == "#00ff00"
    assert out[p.refine["grow"]] == 4 and out[p.refine["feather"]] == 0.0
    assert out[p.comparison] is first.history[0].preview and out[p.result_info].startswith("**#1 background")
    used = h.on_use_click(values(h, s))[p.session]
    assert used.photo.name == "result of #1" and np.array_equal(used.photo.image, first.result)
    assert used.photo.origin == first.history[0].recipe
    more = click(h, s, 70, 48, "negative")  # the restored clicks step stays open
    assert len(more.steps) == 1 and len(more.steps[0].points) == 2
    branch = run(h, more, "Remove")  # a branch from #1: cell #3, replayable on the original photo
    replayed = recipes.run(recipe_of(branch, h), loaded.photo.image, h.services.engines)
    assert np.array_equal(replayed.image, png(branch[p.downloads][0])) and len(branch[p.history]) == 3


def test_restore_an_unknown_cell_is_a_clear_error(h: Handlers, loaded: Session) -> None:
    with pytest.raises(gr.Error, match="no longer exists"):
        h.on_history_select(values(h, loaded), item(3))


def test_history_is_bounded_and_old_cells_live_on_disk(h: Handlers, loaded: Session) -> None:
    s = click(h, loaded, 64, 48)
    results, folders = {}, {}
    for index in range(1, MAX_CELLS + 3):
        out_format = "jpeg" if index == 3 else "png"  # a lossy download: the exact result is kept beside it
        s = run(h, s, "Replace background", bg_color=f"#{index:02x}ff00", out_format=out_format)[h.p.session]
        results[index], folders[index] = s.result, s.history[-1].folder
    assert [c.index for c in s.history] == list(range(3, MAX_CELLS + 3))
    in_memory = [c.index for c in s.history if c.pictures is not None]
    assert in_memory == list(range(MAX_CELLS + 3 - FULL_SIZE_CELLS, MAX_CELLS + 3))
    assert not folders[1].exists() and not folders[2].exists() and folders[3].exists()
    assert (folders[3] / "pictures.npz").exists()
    out = h.on_history_select(values(h, s), item(0))  # cell #3, spilled to disk
    restored = out[h.p.session]
    assert np.array_equal(restored.photo.image, loaded.photo.image) and np.array_equal(restored.result, results[3])
    assert np.array_equal(restored.mask, s.mask) and out[h.p.edit["bg_color"]] == "#03ff00"
    assert out[h.p.edit["out_format"]] == "jpeg"
    fourth = h.on_history_select(values(h, s), item(1))[h.p.session]  # cell #4, a lossless PNG download
    assert np.array_equal(fourth.result, results[4]) and fourth.shown_cell == 4
    folder = s.folder
    assert folder is not None and folder.exists()
    forget(restored)
    assert not folder.exists()


# ---------------------------------------------------------------- recipe files


def recipe_file(tmp_path: Path, recipe: Recipe) -> str:
    path = tmp_path / "recipe.json"
    path.write_text(recipes.dumps(recipe))
    return str(path)


def test_recipe_file_restores_mask_steps_and_controls(h: Handlers, loaded: Session, tmp_path) -> None:
    p = h.p
    mask_steps = (
        Clicks(size=(128, 96), points=(Point(64.0, 48.0, True), Point(70.0, 48.0, False))),
        LuminanceRange(low=0.0, high=0.5, combine="intersect"),
    )
    refine = Refine(grow_px=3, feather_px=2.0, matte_px=2)
    edit = ReplaceBackground(
        fill=SolidColor((0, 0, 255)),
        shadow=Shadow(kind="contact", opacity=0.6),
        margin_px=h.services.settings.context_px,
    )
    recipe = Recipe((*mask_steps, refine, edit, Output(format="webp", quality=80)))
    out = h.on_recipe_file_upload({p.recipe_file: recipe_file(tmp_path, recipe), p.session: loaded})
    s = out[p.session]
    assert s.steps == mask_steps and s.refine == refine and s.photo is loaded.photo
    assert np.array_equal(s.mask, recipes.run(Recipe(mask_steps), loaded.photo.image, h.services.engines).mask)
    assert (out[p.refine["grow"]], out[p.refine["feather"]], out[p.refine["matte"]]) == (3, 2.0, 2)
    assert out[p.edit["operation"]] == "Replace background" and out[p.edit["bg_color"]] == "#0000ff"
    assert out[p.edit["shadow"]] is True and out[p.edit["shadow_kind"]] == "contact"
    assert (out[p.edit["out_format"]], out[p.edit["out_quality"]]) == ("webp", 80)
    # Run with the controls the recipe set makes the same recipe again
    again = run_values(h, {**values(h, s), **shown_controls(h, out)})
    assert recipe_of(again, h) == recipe
    assert [Path(f).name for f in again[p.downloads]][0] == "result.webp"


def test_recipe_file_with_earlier_edits_makes_their_photo(h: Handlers, loaded: Session, tmp_path) -> None:
    first = run(h, click(h, loaded, 64, 48), "Replace background", bg_color="#00ff00")[h.p.session]
    chained = h.on_use_click(values(h, first))[h.p.session]
    made = run(h, click(h, chained, 20, 20), "Remove", seed=3)
    path = made[h.p.downloads][-1]
    fresh = notebook.load(h.services, loaded.photo.image, "disc.png", Session())
    out = h.on_recipe_file_upload({h.p.recipe_file: path, h.p.session: fresh})
    s = out[h.p.session]
    assert np.array_equal(s.photo.image, first.result) and "after 1 edit" in s.photo.name
    assert kinds(s.steps) == ["mask", "clicks"] and out[h.p.edit["operation"]] == "Remove"
    assert out[h.p.edit["seed"]] == 3
    again = run_values(h, {**values(h, s), **shown_controls(h, out)})
    assert recipes.dumps(recipe_of(again, h)) == Path(path).read_text()
    assert np.array_equal(png(again[h.p.downloads][0]), png(made[h.p.downloads][0]))


def test_recipe_file_made_on_another_size_is_refused(h: Handlers, loaded: Session, tmp_path) -> None:
    clicks = Clicks(size=(200, 100), points=(Point(64.0, 48.0, True),))
    with pytest.raises(gr.Error, match=r"step 1 \(clicks\).*200x100.*128x96"):
        h.on_recipe_file_upload({h.p.recipe_file: recipe_file(tmp_path, Recipe((clicks,))), h.p.session: loaded})
    stored = StoredMask(levels=np.zeros((10, 10), np.uint8), combine="add")
    ok = Clicks(size=(128, 96), points=(Point(64.0, 48.0, True),))
    with pytest.raises(gr.Error, match=r"step 2 \(mask\)"):
        h.on_recipe_file_upload({h.p.recipe_file: recipe_file(tmp_path, Recipe((ok, stored))), h.p.session: loaded})
    assert loaded.steps == () and loaded.mask is None  # the session is unchanged


def test_recipe_file_of_unknown_version_is_refused(h: Handlers, loaded: Session, tmp_path) -> None:
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"stencil_recipe": 99, "steps": []}))
    with pytest.raises(gr.Error, match="version 99"):
        h.on_recipe_file_upload({h.p.recipe_file: str(path), h.p.session: loaded})
    with pytest.raises(gr.Error, match="no photo yet"):
        h.on_recipe_file_upload({h.p.recipe_file: str(path), h.p.session: None})


# ---------------------------------------------------------------- edit controls


def test_without_a_diffusion_model_prompts_are_off(h: Handlers, classic_h: Handlers, photo) -> None:
    assert h.services.generates and not classic_h.services.generates
    off, on = classic_h.p.edit, h.p.edit
    for name in ("prompt", "bg_prompt", "out_prompt", "negative", "steps", "seed"):
        assert off[name].interactive is False and on[name].interactive is not False, name
    assert "Prompt" not in [value for _, value in off["bg_kind"].choices]
    assert "Prompt" in [value for _, value in on["bg_kind"].choices]
    assert "diffusion" not in [value for _, value in off["engine"].choices]
    s = click(classic_h, notebook.load(classic_h.services, photo, "disc.png", Session()), 64, 48)
    out = run(classic_h, s, "Remove")
    assert "engine: exemplar" in out[classic_h.p.result_info].lower()  # removal copies texture (no LaMa file)
    assert "engine: fake-engine" in run(h, click(h, s, 64, 48), "Remove")[h.p.result_info].lower()


def test_removing_most_of_the_photo_warns_in_the_page_and_still_fills(h: Handlers, loaded: Session) -> None:
    clicked = click(h, loaded, 64, 48)
    inverted = h.on_refine_input(values(h, clicked, invert=True))[h.p.session]
    with pytest.warns(UserWarning, match=r"covers \d+% of the photo"):
        out = run(h, inverted, "Remove", invert=True)
    assert out[h.p.session].history  # the result is there; only a warning was added


def test_extend_canvas_recipe_carries_its_own_prompt(h: Handlers, loaded: Session) -> None:
    out = run(h, loaded, "Extend canvas", prompt="a red vase", out_prompt="a sandy beach", left=8, seed=5)
    edit = recipe_of(out, h).steps[-1]
    assert isinstance(edit, ExtendCanvas) and edit.prompting.prompt == "a sandy beach" and edit.prompting.seed == 5
    aspect = recipe_of(run(h, loaded, "Extend canvas", aspect="1:1"), h).steps[-1]
    assert aspect.aspect == (1, 1) and aspect.padding is None


def test_remove_recipe_carries_the_advanced_settings(h: Handlers, loaded: Session) -> None:
    out = run(h, click(h, loaded, 64, 48), "Remove", seed=7, steps=12, margin=64, engine="classic")
    edit = recipe_of(out, h).steps[-1]
    assert isinstance(edit, Remove) and (edit.engine, edit.margin_px) == ("classic", 64)
    assert (edit.prompting.seed, edit.prompting.steps) == (7, 12)
    assert "engine: exemplar" in out[h.p.result_info].lower()  # classic removal is the exemplar fill


def test_visibility_handlers_show_only_the_relevant_controls(h: Handlers) -> None:
    p, e = h.p, h.p.edit

    def shown(out: V) -> dict[Any, bool]:
        return {comp: update["visible"] for comp, update in out.items()}

    groups = shown(h.on_operation_change({e["operation"]: "Inpaint"}))
    assert groups == {p.inpaint_group: True, p.background_group: False, p.extend_group: False}
    groups = shown(h.on_operation_change({e["operation"]: "Extend canvas"}))
    assert groups == {p.inpaint_group: False, p.background_group: False, p.extend_group: True}
    kinds_shown = shown(h.on_bg_kind_change({e["bg_kind"]: "Gradient"}))
    assert [n for n in ("bg_color", "bg_color2", "bg_blur", "bg_image", "bg_prompt") if kinds_shown[e[n]]] == [
        "bg_color",
        "bg_color2",
    ]
    assert [n for n, c in e.items() if shown(h.on_bg_kind_change({e["bg_kind"]: "Blur"})).get(c)] == ["bg_blur"]
    shadow = ("shadow_kind", "shadow_angle", "shadow_distance", "shadow_softness", "shadow_opacity")
    assert shown(h.on_shadow_change({e["shadow"]: True})) == {e[n]: True for n in shadow}
    assert shown(h.on_shadow_change({e["shadow"]: False})) == {e[n]: False for n in shadow}


def test_shadow_and_edge_matte_reach_the_recipe(h: Handlers, loaded: Session) -> None:
    matted = h.on_refine_input(values(h, click(h, loaded, 64, 48), matte=4))[h.p.session]
    assert matted.refine.matte_px == 4
    out = run(h, matted, "Replace background", shadow=True, shadow_kind="contact", shadow_opacity=0.6)
    steps = recipe_of(out, h).steps
    assert steps[1] == Refine(matte_px=4)
    assert steps[2].shadow == Shadow(kind="contact", opacity=0.6)
    no_shadow = recipe_of(run(h, matted, "Replace background", shadow_kind="contact"), h).steps[-1]
    assert no_shadow.shadow is None  # the settings count only with the box ticked


@pytest.mark.parametrize(
    ("operation", "name", "value", "label"),
    [
        ("Inpaint", "steps", math.nan, "steps"),
        ("Inpaint", "steps", 2.5, "steps"),
        ("Inpaint", "seed", math.inf, "seed"),
        ("Inpaint", "seed", 1.5, "seed"),
        ("Remove", "margin", math.nan, "context margin"),
        ("Remove", "margin", 2.5, "context margin"),
        ("Extend canvas", "left", math.inf, "left side"),
        ("Extend canvas", "bottom", 1.5, "bottom side"),
        ("Remove", "canvas_w", math.nan, "canvas width"),
    ],
)
def test_whole_number_controls_refuse_nan_infinity_and_fractions(
    h: Handlers, loaded: Session, operation: str, name: str, value: float, label: str
) -> None:
    clicked = click(h, loaded, 64, 48)
    with pytest.raises(gr.Error, match=rf"{label} is .*whole number"):
        run(h, clicked, operation, **{name: value})


# ---------------------------------------------------------------- examples, errors, sessions


def test_example_shows_in_the_photo_box_and_its_copy_does_not_reload(h: Handlers, tmp_path) -> None:
    pytest.importorskip("examples.catalog", reason="the examples package is not available")
    if not h.p.gallery.value:
        pytest.skip("no example photos")
    out = h.on_gallery_select({h.p.session: None}, item(0))
    s, shown = out[h.p.session], out[h.p.photo]
    assert shown.shape == s.photo.display.shape and np.array_equal(shown, s.photo.display)
    assert s.mask is not None and len(s.steps) == 1 and out[h.p.edit["operation"]] in ("Replace background", "Remove")
    copy = tmp_path / "shown.webp"
    PILImage.fromarray(shown).save(copy, quality=80)  # what the photo box holds (lossy WebP)
    assert h.on_photo_input({h.p.photo: str(copy), h.p.session: s}) == {}
    other = tmp_path / "other.png"
    PILImage.fromarray(255 - shown).save(other)
    reloaded = h.on_photo_input({h.p.photo: str(other), h.p.session: s})[h.p.session]
    assert reloaded.photo.image.shape == shown.shape and reloaded.steps == ()


def test_errors_say_what_to_do_and_keep_the_state(h: Handlers, loaded: Session) -> None:
    with pytest.raises(gr.Error, match="no photo yet"):
        h.on_click_image_select(values(h, Session()), at(3, 3))
    with pytest.raises(gr.Error, match="mask is empty"):
        run(h, loaded, "Remove")
    with pytest.raises(gr.Error, match="banana"):
        h.on_tolerance_release(values(h, loaded, picked="banana"))
    with pytest.raises(gr.Error, match="no result yet"):
        h.on_use_click(values(h, loaded))
    assert loaded.photo is not None and loaded.mask is None and loaded.history == ()


def test_corrupt_upload_is_a_clear_error(h: Handlers, tmp_path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(gr.Error, match="broken.png"):
        h.on_photo_input({h.p.photo: str(broken), h.p.session: None})
    with pytest.raises(gr.Error, match="no photo"):
        h.on_photo_input({h.p.photo: None, h.p.session: None})


def test_sessions_do_not_share_state(h: Handlers, photo: np.ndarray, big_photo: np.ndarray) -> None:
    a = notebook.load(h.services, photo, "a", Session())
    b = notebook.load(h.services, big_photo, "b", Session())
    a2 = click(h, a, 64, 48)
    assert b.mask is None and a.mask is None and a2.mask.shape == (96, 128)
    assert a.folder != b.folder
    assert not any(isinstance(v, (np.ndarray, Session)) for v in vars(h).values())
    assert not any(isinstance(v, (np.ndarray, Session)) for v in vars(h.services).values())


# ---------------------------------------------------------------- imports


def test_imported_masks_are_steps_of_their_own_and_replay(h: Handlers, loaded: Session, tmp_path: Path) -> None:
    p = h.p
    left, right = np.zeros((96, 128), np.uint8), np.zeros((96, 128), np.uint8)
    left[10:40, 10:40], right[50:90, 80:120] = 255, 128  # the second one is a grey map
    PILImage.fromarray(left).save(tmp_path / "left.png")
    PILImage.fromarray(right).save(tmp_path / "right.png")
    first = h.on_import_mask_click(values(h, loaded, combine="add") | {p.mask_file: str(tmp_path / "left.png")})
    s = first[p.session]
    second = h.on_import_mask_click(
        values(h, s, combine="add", gray_threshold=0.4) | {p.mask_file: str(tmp_path / "right.png")}
    )[p.session]
    assert kinds(second.steps) == ["mask", "mask"] and [st.origin for st in second.steps] == ["mask", "gray"]
    assert second.mask[20, 20] == 1.0 and second.mask[70, 100] == 1.0 and second.mask[70, 60] == 0.0  # 0.5 >= 0.4
    replayed = recipes.run(second.recipe(), loaded.photo.image, h.services.engines).mask
    assert np.array_equal(replayed, second.mask)


def test_alpha_imports_and_the_photos_own_transparency(h: Handlers, photo: np.ndarray, tmp_path: Path) -> None:
    p = h.p
    alpha = np.zeros((96, 128), np.uint8)
    alpha[:, 64:] = 200
    PILImage.fromarray(np.dstack([photo, alpha])).save(tmp_path / "rgba.png")
    s = h.on_photo_input({p.photo: str(tmp_path / "rgba.png"), p.session: None})[p.session]
    own = h.on_own_alpha_click(values(h, s))[p.session]
    assert kinds(own.steps) == ["alpha"] and abs(float(own.mask[5, 100]) - 200 / 255) < 1e-6 and own.mask[5, 5] == 0
    other = np.zeros((48, 64), np.uint8)
    other[:, :32] = 255
    PILImage.fromarray(np.dstack([photo[::2, ::2], other])).save(tmp_path / "half.png")
    imported = h.on_import_alpha_click(values(h, own) | {p.alpha_file: str(tmp_path / "half.png")})[p.session]
    assert kinds(imported.steps) == ["alpha", "mask"] and imported.mask[48, 10] == 1.0 and imported.mask[48, 120] == 0
    with pytest.raises(gr.Error, match="no alpha channel"):
        h.on_import_alpha_click(values(h, own) | {p.alpha_file: _opaque(tmp_path, photo)})


def _opaque(tmp_path: Path, photo: np.ndarray) -> str:
    PILImage.fromarray(photo).save(tmp_path / "opaque.png")
    return str(tmp_path / "opaque.png")


def test_label_map_classes_become_a_step(h: Handlers, loaded: Session, tmp_path: Path) -> None:
    p = h.p
    labels = np.zeros((96, 128), np.uint8)
    labels[:48], labels[48:, :64] = 3, 7
    PILImage.fromarray(labels).save(tmp_path / "labels.png")
    out = h.on_import_labels_click(values(h, loaded) | {p.labels_file: str(tmp_path / "labels.png"), p.classes: "7"})
    s = out[p.session]
    assert kinds(s.steps) == ["labels"] and s.steps[0].classes == (7,)
    assert s.mask[60, 10] == 1.0 and s.mask[10, 10] == 0.0 and s.mask[60, 100] == 0.0
    with pytest.raises(gr.Error, match="class numbers"):
        h.on_import_labels_click(values(h, loaded) | {p.labels_file: str(tmp_path / "labels.png"), p.classes: ""})


def test_a_prompt_recipe_on_a_page_without_diffusion_sets_only_mask_and_refine(
    classic_h: Handlers, photo: np.ndarray, tmp_path: Path
) -> None:
    from pipeline.edits.background import PromptBackground
    from pipeline.inpaint.protocol import Prompting

    p = classic_h.p
    s = notebook.load(classic_h.services, photo, "disc.png", Session())
    recipe = Recipe(
        (
            LuminanceRange(low=0.0, high=0.5),
            Refine(grow_px=2),
            ReplaceBackground(fill=PromptBackground(Prompting("a beach"))),
        )
    )
    with pytest.warns(UserWarning, match="paints from a prompt"):
        out = classic_h.on_recipe_file_upload({p.recipe_file: recipe_file(tmp_path, recipe), p.session: s})
    assert out[p.refine["grow"]] == 2 and p.edit["bg_kind"] not in out
    assert kinds(out[p.session].steps) == ["luminance"]


def test_a_page_recipe_replayed_by_stencil_apply_gives_the_same_pixels(photo: np.ndarray, tmp_path: Path) -> None:
    """The real classical backends on both sides: the page's recipe.json through the CLI."""
    from pipeline.cli import main
    from pipeline.models import make_inpainter, make_segmenter

    settings = Settings()
    services = Services(settings, make_segmenter("classic", settings), make_inpainter("classic", settings), "cpu")
    real = build_demo(services=services).stencil_handlers  # type: ignore[attr-defined]
    s = notebook.load(real.services, photo, "disc.png", Session())
    s = click(real, s, 64, 48)
    s = real.on_refine_input(values(real, s, feather=2.0, fill_holes=True))[real.p.session]
    for operation, extra in (("Replace background", {"bg_kind": "Gradient"}), ("Remove", {})):
        out = run(real, s, operation, **extra)
        result, _, cutout, _, recipe = out[real.p.downloads]
        PILImage.fromarray(photo).save(tmp_path / "disc.png")
        code = main(["apply", recipe, str(tmp_path / "disc.png"), "-o", str(tmp_path / "cli.png"),
                     "--cutout-out", str(tmp_path / "cli-cutout.png")])  # fmt: skip
        assert code == 0
        assert np.array_equal(png(str(tmp_path / "cli.png")), png(result)), operation
        assert np.array_equal(png(str(tmp_path / "cli-cutout.png")), png(cutout)), operation
