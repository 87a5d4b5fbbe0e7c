"""The page's guidance controls with a tiny SD 1.5 model and one tiny ControlNet per kind (handlers, no server)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from tiny_diffusion import save_tiny_controlnet, save_tiny_pipeline  # noqa: E402
from ui_fakes import FakeSegmenter  # noqa: E402

from pipeline import recipe as recipes  # noqa: E402
from pipeline.inpaint import ade20k  # noqa: E402
from pipeline.inpaint.control import Control, work_picture  # noqa: E402
from pipeline.inpaint.diffusion.loader import load_inpainter  # noqa: E402
from pipeline.models import Chosen  # noqa: E402
from pipeline.recipe import LabelClasses  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from ui import notebook  # noqa: E402
from ui.guidance import picture_from  # noqa: E402
from ui.handlers import Handlers  # noqa: E402
from ui.page import build_demo  # noqa: E402
from ui.services import Services  # noqa: E402
from ui.state import Session  # noqa: E402

V = dict[Any, Any]
KINDS = ("seg", "canny", "mask", "image")


class FakeRequest:
    session_hash = "guided-tab"


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Handlers:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("page-models")
    model = save_tiny_pipeline(root / "inpaint")
    nets = tuple((kind, str(save_tiny_controlnet(root / kind, seed=i))) for i, kind in enumerate(KINDS))
    engine = load_inpainter(str(model), device="cpu", controlnets=nets)
    services = Services(Settings(), Chosen(FakeSegmenter(), "fake selector"), Chosen(engine, "diffusion: tiny"), "cpu")
    return build_demo(services=services).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def session_folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def labels(photo: np.ndarray) -> np.ndarray:
    ids = np.full(photo.shape[:2], 1, np.uint16)  # wall
    ids[70:] = 4  # floor
    ids[30:66, 34:94] = 16  # a table where the disc is
    return ids


@pytest.fixture
def masked(h: Handlers, photo: np.ndarray, labels: np.ndarray) -> Session:
    """The disc photo with its table region (ADE20K id 16) imported as the mask: a label step with its map."""
    s = notebook.load(h.services, photo, "disc.png", Session())
    return notebook.add_source(s, LabelClasses(classes=(16,), labels=labels, combine="replace"))


def values(h: Handlers, s: Session, **by_name: object) -> V:
    p = h.p
    v: V = {p.session: s}
    for comp in (*p.refine.values(), *p.edit.values()):
        v[comp] = comp.value
    for name, value in by_name.items():
        v[p.edit[name]] = value
    return v


def run(h: Handlers, v: V) -> V:
    return h.on_run_click(v, FakeRequest(), lambda *a, **k: None)  # type: ignore[arg-type]


def result_and_recipe(h: Handlers, out: V) -> tuple[np.ndarray, recipes.Recipe]:
    from PIL import Image as PILImage

    files = out[h.p.downloads]
    return np.asarray(PILImage.open(files[0]).convert("RGB")), recipes.loads(Path(files[-1]).read_text())


def test_the_page_offers_guidance_when_controlnets_are_loaded(h: Handlers) -> None:
    control = h.p.edit["control"]
    assert control.interactive and [c for c, _ in control.choices][0] == "Off"
    assert h.services.control_kinds == KINDS


@pytest.mark.parametrize(
    "choice", ["Segmentation map", "Edges (Canny)", "Mask (inpainting ControlNet)", "Control image"]
)
def test_each_kind_runs_end_to_end_and_keeps_pixels_outside_the_mask(
    h: Handlers, masked: Session, photo: np.ndarray, choice: str
) -> None:
    v = values(h, masked, operation="Inpaint", prompt="a vase", steps=2, seed=5, control=choice, control_scale=1.2)
    if choice == "Segmentation map":
        picked = h.on_control_labels_click(v)  # the label map imported in step 2, as ADE20K colours
        assert picked[h.p.edit["control"]] == "Segmentation map"
        v[h.p.edit["control_picture"]] = picked[h.p.edit["control_picture"]]
    if choice == "Control image":
        v[h.p.edit["control_picture"]] = {"background": np.flipud(photo).copy(), "layers": [], "composite": None}
    image, recipe = result_and_recipe(h, run(h, v))
    mask = masked.current_mask()
    assert np.array_equal(image[mask == 0], photo[mask == 0])
    (control,) = recipe.steps[-1].controls
    kinds = {"Segmentation map": "seg", "Edges (Canny)": "canny", "Mask (inpainting ControlNet)": "mask"}
    assert control.scale == 1.2 and control.kind == kinds.get(choice, "image")


def test_a_guided_prompt_background_keeps_the_product_exact(h: Handlers, masked: Session, photo: np.ndarray) -> None:
    v = values(h, masked, operation="Replace background", bg_kind="Prompt", bg_prompt="a kitchen", steps=2,
               control="Mask (inpainting ControlNet)")  # fmt: skip
    image, recipe = result_and_recipe(h, run(h, v))
    product = masked.current_mask() == 1.0
    assert np.array_equal(image[product], photo[product])
    assert [c.kind for c in recipe.steps[-1].controls] == ["mask"]


def test_the_preview_is_the_control_image_the_model_sees(
    h: Handlers, masked: Session, photo: np.ndarray, labels: np.ndarray
) -> None:
    colours = ade20k.palette()[labels]
    v = values(h, masked, operation="Inpaint", prompt="x", control="Segmentation map", control_picture=colours)
    shown = h.on_control_show_click(v)[h.p.control_preview]
    engine = h.services.inpainter.backend
    mask = masked.current_mask()
    expected = work_picture(Control(kind="seg", picture=colours), photo, mask, engine.plan(mask))
    assert shown.shape == (engine.plan(mask).work_h, engine.plan(mask).work_w, 3)
    assert np.array_equal(shown, expected)


def test_drawn_strokes_replace_the_map_in_the_brush_colour() -> None:
    base = np.zeros((4, 5, 3), np.uint8)
    layer = np.zeros((4, 5, 4), np.uint8)
    layer[1, 1] = (255, 6, 82, 255)  # a table stroke
    layer[2, 2] = (255, 6, 82, 40)  # a faint antialiased edge: not drawn
    out = picture_from({"background": base, "layers": [layer], "composite": None})
    assert tuple(out[1, 1]) == (255, 6, 82) and tuple(out[2, 2]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("controls", "said"),
    [({"control": "Control image", "control_picture": np.zeros((50, 60, 3), np.uint8)},
      "control image is 60x50 but the photo is 128x96"),
     ({"control": "Segmentation map", "control_picture": np.full((96, 128, 3), 7, np.uint8)},
      r"1 colour\(s\) outside the ADE20K palette: #070707 \(12288 px\)"),
     ({"control": "Edges (Canny)", "control_scale": 2.5}, "conditioning scale is 2.5; use 0 to 2"),
     ({"control": "Segmentation map"}, "no segmentation map")],
)  # fmt: skip
def test_bad_guidance_is_one_clear_error_and_the_notebook_is_kept(
    h: Handlers, masked: Session, controls: dict[str, Any], said: str
) -> None:
    v = values(h, masked, operation="Inpaint", prompt="x", steps=2, **controls)
    with pytest.raises(gr.Error, match=said):
        run(h, v)
    assert masked.photo is not None and masked.current_mask().sum() > 0 and not masked.history
    with pytest.raises(gr.Error, match=said):
        h.on_control_show_click(v)


def test_map_unknown_draws_off_palette_colours_as_unknown_when_asked(h: Handlers, masked: Session) -> None:
    bad = np.full((96, 128, 3), 7, np.uint8)
    v = values(h, masked, operation="Inpaint", prompt="x", steps=2, control="Segmentation map",
               control_picture=bad, seg_unknown=True)  # fmt: skip
    _, recipe = result_and_recipe(h, run(h, v))
    assert recipe.steps[-1].controls[0].unknown == "unknown"


def test_a_restored_cell_sets_the_guidance_controls_back(h: Handlers, masked: Session) -> None:
    v = values(h, masked, operation="Inpaint", prompt="x", steps=2, control="Edges (Canny)", control_scale=0.7,
               control_start=0.1, control_end=0.9, canny_low=30, canny_high=90)  # fmt: skip
    s = run(h, v)[h.p.session]
    out = h.on_history_select(values(h, s), gr.SelectData(None, {"index": 0, "value": None}))
    e = h.p.edit
    assert out[e["control"]] == "Edges (Canny)" and out[e["control_scale"]] == 0.7
    assert (out[e["control_start"]], out[e["control_end"]], out[e["canny_low"]], out[e["canny_high"]]) == (
        0.1,
        0.9,
        30,
        90,
    )
