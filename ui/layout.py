"""The page's components, step by step (no behaviour here; ``ui.page`` wires the events).

Controls that map onto a recipe step are kept by name in ``Page.refine`` and ``Page.edit``
(the names ``ui.controls`` reads); their defaults come from the step dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from pipeline.recipe import Refine
from ui.layout_clip import clip_controls
from ui.layout_edit import edit_step, result_step
from ui.layout_find import find_tab
from ui.state import forget
from ui.theme import picker_gallery, step_heading
from ui.uploads import checked

COMBINE_CHOICES = [("Replace", "replace"), ("Add", "add"), ("Subtract", "subtract"), ("Intersect", "intersect")]
CLICK_KINDS = [
    ("Object (+)", "positive"),
    ("Background (−)", "negative"),
    ("Box: two corners", "box"),
    ("Move the view here", "pan"),
]
ZOOMS = [("Fit", 1.0), ("2×", 2.0), ("4×", 4.0), ("8×", 8.0)]
PREVIEW = {"format": "jpeg", "interactive": False, "buttons": ["fullscreen"]}


@dataclass
class Page:
    """Every component the handlers read or write; ``refine`` and ``edit`` map control names to them."""

    session: Any
    parts: dict[str, Any]
    refine: dict[str, Any] = field(default_factory=dict)
    edit: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(name)


def build_page(
    status: str,
    examples: tuple[tuple[Any, str], ...],
    *,
    generates: bool,
    margin_px: int,
    session_ttl_s: float,
    guides: tuple[str, ...] = (),
    subject_note: str = "",
    find_note: tuple[str, bool] = ("", False),
    click_note: tuple[list[tuple[str, str]], str] = ([("Auto", "auto")], ""),
) -> Page:
    """Lay out the five steps; returns the components for wiring (the session lives ``session_ttl_s``).

    ``subject_note``: what the "Select subject" button runs and its limits, shown beside it;
    ``find_note``: what "Find by name" runs (or why it cannot) and whether it can;
    ``click_note``: the click backends to offer and what "Auto" is / why the others are unavailable.
    """
    gr.Markdown(
        "# Stencil\nMask-first image editing: pick a photo, make a mask, refine it, edit, download.", elem_id="title"
    )
    gr.Markdown(status, elem_id="status")
    session = gr.State(None, time_to_live=session_ttl_s, delete_callback=forget)
    parts: dict[str, Any] = {}
    parts.update(_image_step(examples))
    parts.update(clip_controls(session_ttl_s))
    parts.update(_mask_step(subject_note, find_note, click_note))
    refine = _refine_step(parts)
    edit = edit_step(parts, generates=generates, margin_px=margin_px, guides=guides)
    parts.update(result_step())
    return Page(session, parts, refine, edit)


def _image_step(examples: tuple[tuple[Any, str], ...]) -> dict[str, Any]:
    step_heading(1, "Image", "Upload or paste a product photo, or pick an example below. A saved recipe replays on it.")
    with gr.Row(equal_height=False):
        photo = checked(
            gr.Image(
                label="Photo",
                type="filepath",
                image_mode=None,
                sources=["upload", "clipboard"],
                height=300,
                scale=2,
                elem_id="photo",
            )
        )
        with gr.Column(scale=3):
            gallery = picker_gallery(
                "Example product photos (click one to load it with a suggested mask)",
                columns=5,
                height=300,
                elem_id="examples",
                value=list(examples),
                object_fit="cover",
            )
            photo_info = gr.Markdown("No photo yet.", elem_id="photo-info")
    recipe_file = gr.File(
        label="Load a recipe (recipe.json from step 5): restores its mask steps and every control for this photo",
        file_types=[".json"],
        height=90,
        elem_id="recipe-file",
    )
    return {"photo": photo, "gallery": gallery, "photo_info": photo_info, "recipe_file": recipe_file}


def _mask_step(
    subject_note: str, find_note: tuple[str, bool], click_note: tuple[list[tuple[str, str]], str]
) -> dict[str, Any]:
    step_heading(2, "Mask", "Every tab makes one mask step; choose how it combines with the current mask.")
    combine = gr.Radio(COMBINE_CHOICES, value="replace", label="Combine the next step with the mask", elem_id="combine")
    with gr.Row(equal_height=True):
        subject = gr.Button("Select subject", variant="primary", scale=0, min_width=160, elem_id="select-subject")
        gr.Markdown(subject_note, elem_id="subject-note")
    parts: dict[str, Any] = {"combine": combine, "select_subject": subject}
    with gr.Tabs():
        with gr.Tab("Click", elem_id="tab-click"):
            parts.update(_click_tab(*click_note))
        with gr.Tab("Find by name", elem_id="tab-find"):
            parts.update(find_tab(find_note[0], available=find_note[1]))
        with gr.Tab("Sketch", elem_id="tab-sketch"):
            parts.update(_sketch_tab())
        with gr.Tab("Colour / luminance", elem_id="tab-color"):
            parts.update(_color_tab())
        with gr.Tab("Import", elem_id="tab-import"):
            parts.update(_import_tab())
    return parts


def _click_tab(backends: list[tuple[str, str]], backend_note: str) -> dict[str, Any]:
    with gr.Row(equal_height=False):
        click_image = gr.Image(
            label="Click the product (the mask shows in blue)", height=520, scale=3, elem_id="click-image", **PREVIEW
        )
        with gr.Column(scale=1, min_width=240):
            click_kind = gr.Radio(CLICK_KINDS, value="positive", label="Next click marks", elem_id="click-kind")
            zoom = gr.Radio(ZOOMS, value=1.0, label="Zoom (centred on the last click)", elem_id="zoom")
            backend = gr.Dropdown(backends, value="auto", label="Click with", elem_id="click-backend")
            gr.Markdown(backend_note, elem_id="click-backend-note")
            with gr.Row():
                undo = gr.Button("Undo last point", size="sm", elem_id="undo")
                clear = gr.Button("Clear", size="sm", elem_id="clear")
            candidates = picker_gallery("Candidates (click one to use it)", columns=3, height=170, elem_id="candidates")
    return {
        "click_image": click_image,
        "click_kind": click_kind,
        "zoom": zoom,
        "click_backend": backend,
        "undo": undo,
        "clear": clear,
        "candidates": candidates,
    }


def _sketch_tab() -> dict[str, Any]:
    sketch = gr.ImageEditor(
        label="Paint the mask (brush adds, eraser removes; undo and zoom are in the toolbar)",
        type="numpy",
        image_mode="RGBA",
        sources=[],
        transforms=[],
        height=520,
        elem_id="sketch",
        layers=gr.LayerOptions(allow_additional_layers=False, layers=["Mask"]),
        brush=gr.Brush(default_size=24, colors=[("#ff3b30", 0.5)], color_mode="fixed"),
        eraser=gr.Eraser(default_size=24),
        buttons=["fullscreen"],
    )
    with gr.Row():
        push = gr.Button("Load the current mask into the sketch", elem_id="push")
        apply_sketch = gr.Button("Apply sketch to the mask", variant="primary", elem_id="apply-sketch")
    return {"sketch": sketch, "push": push, "apply_sketch": apply_sketch}


def _color_tab() -> dict[str, Any]:
    with gr.Row(equal_height=False):
        color_image = gr.Image(
            label="Click a colour in the photo", height=420, scale=3, elem_id="color-image", **PREVIEW
        )
        with gr.Column(scale=1, min_width=240):
            picked = gr.ColorPicker(label="Picked colour", value="#ffffff", elem_id="picked", elem_classes="swatch")
            tolerance = gr.Slider(
                0, 100, value=12, step=0.5, label="Colour tolerance (ΔE; 2.3 is just noticeable)", elem_id="tolerance"
            )
            gr.Markdown("**Luminance range** (0 = black, 1 = white)")
            lum_low = gr.Slider(0, 1, value=0.0, step=0.01, label="From", elem_id="lum-low")
            lum_high = gr.Slider(0, 1, value=0.3, step=0.01, label="To", elem_id="lum-high")
    return {
        "color_image": color_image,
        "picked": picked,
        "tolerance": tolerance,
        "lum_low": lum_low,
        "lum_high": lum_high,
    }


def _import_tab() -> dict[str, Any]:
    with gr.Row():
        with gr.Column():
            mask_file = gr.File(label="Mask or grey map (white = selected)", file_types=["image"], height=120)
            gray_threshold = gr.Slider(
                0, 1, value=0, step=0.01, label="Threshold (0 keeps grey levels soft)", elem_id="gray-threshold"
            )
            import_mask = gr.Button("Use mask", elem_id="import-mask")
        with gr.Column():
            alpha_file = gr.File(label="Image with transparency (its alpha)", file_types=["image"], height=120)
            import_alpha = gr.Button("Use its alpha channel", elem_id="import-alpha")
            own_alpha = gr.Button("Use this photo's own transparency", size="sm", elem_id="own-alpha")
        with gr.Column():
            labels_file = gr.File(label="Label map", file_types=["image"], height=120)
            classes = gr.Textbox(label="Classes", placeholder="e.g. 1, 3 or #ff0000")
            import_labels = gr.Button("Use classes", elem_id="import-labels")
    return {
        "mask_file": mask_file,
        "gray_threshold": gray_threshold,
        "alpha_file": alpha_file,
        "labels_file": labels_file,
        "classes": classes,
        "import_mask": import_mask,
        "import_alpha": import_alpha,
        "own_alpha": own_alpha,
        "import_labels": import_labels,
    }


def _refine_step(parts: dict[str, Any]) -> dict[str, Any]:
    step_heading(
        3,
        "Refine",
        "The preview follows the sliders; edits use the refined mask. Invert comes first; feather softens outward.",
    )
    defaults = Refine()
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            grow = gr.Slider(-64, 64, value=defaults.grow_px, step=1, label="Grow (+) / shrink (−), px", elem_id="grow")
            feather = gr.Slider(0, 64, value=defaults.feather_px, step=0.5, label="Feather, px", elem_id="feather")
            speck = gr.Slider(
                0, 5000, value=defaults.min_speck_px, step=10, label="Remove specks smaller than, px²", elem_id="speck"
            )
            matte = gr.Slider(
                0,
                32,
                value=defaults.matte_px,
                step=1,
                label="Edge matte band, px (hair, fur; 0 = off)",
                elem_id="matte",
            )
            with gr.Row():
                invert = gr.Checkbox(value=defaults.invert, label="Invert", elem_id="invert")
                fill_holes = gr.Checkbox(value=defaults.fill_holes, label="Fill holes", elem_id="fill-holes")
            mask_info = gr.Markdown("No photo yet.", elem_id="mask-info")
        refine_preview = gr.Image(
            label="Refined mask over the photo", height=420, scale=2, elem_id="refine-preview", **PREVIEW
        )
    matte_view = gr.Image(
        label="Edge matte: the alpha, and the cutout on a checkerboard (shown while the matte is on)",
        height=300, elem_id="matte-view", **PREVIEW,
    )  # fmt: skip
    parts.update(mask_info=mask_info, refine_preview=refine_preview, matte_view=matte_view)
    return {
        "grow": grow,
        "feather": feather,
        "speck": speck,
        "matte": matte,
        "invert": invert,
        "fill_holes": fill_holes,
    }
