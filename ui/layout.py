"""The page's components, step by step (no behaviour here; ``ui.page`` wires the events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.state import COMBINE_MODES
from ui.theme import step_heading

OPERATIONS = ["Replace background", "Remove", "Inpaint", "Extend canvas"]
BACKGROUNDS = ["Colour", "Gradient", "Blur", "Image", "Prompt"]
ASPECTS = ["Sides only", "1:1", "4:5", "3:2", "16:9", "9:16"]
ENGINES = ["auto", "classic", "diffusion"]
CLICK_KINDS = [("Object (+)", "positive"), ("Background (−)", "negative"), ("Box: two corners", "box")]
PREVIEW = {"format": "jpeg", "interactive": False, "buttons": ["fullscreen"]}
# Galleries set fit_columns=False: Gradio's default (True) cuts the grid to as many columns as there
# are items, so a single history cell or candidate is drawn as one picture as wide as the page.


@dataclass
class Page:
    """Every component the handlers read or write, by step."""

    photo: Any
    gallery: Any
    photo_info: Any
    combine: Any
    click_image: Any
    click_kind: Any
    undo: Any
    clear: Any
    candidates: Any
    sketch: Any
    push: Any
    apply_sketch: Any
    color_image: Any
    picked: Any
    tolerance: Any
    lum_low: Any
    lum_high: Any
    mask_file: Any
    alpha_file: Any
    labels_file: Any
    classes: Any
    import_mask: Any
    import_alpha: Any
    import_labels: Any
    grow: Any
    feather: Any
    invert: Any
    fill_holes: Any
    speck: Any
    refine_preview: Any
    mask_info: Any
    operation: Any
    bg_color: Any
    aspect: Any
    edit_inputs: list[Any]
    run: Any
    cancel: Any
    comparison: Any
    downloads: Any
    use: Any
    history: Any


def build_page(status: str, examples: tuple[tuple[Any, str], ...]) -> Page:
    """Lay out the five steps; returns the components for wiring."""
    gr.Markdown(
        "# Stencil\nMask-first image editing: pick a photo, make a mask, refine it, edit, download.", elem_id="title"
    )
    gr.Markdown(status, elem_id="status")
    parts: dict[str, Any] = {}
    parts.update(_image_step(examples))
    parts.update(_mask_step())
    parts.update(_refine_step())
    parts.update(_edit_step())
    parts.update(_result_step())
    return Page(**parts)


def _image_step(examples: tuple[tuple[Any, str], ...]) -> dict[str, Any]:
    step_heading(1, "Image", "Upload or paste a product photo, or pick an example below.")
    with gr.Row(equal_height=False):
        photo = gr.Image(
            label="Photo",
            type="filepath",
            image_mode=None,
            sources=["upload", "clipboard"],
            height=300,
            scale=2,
            elem_id="photo",
        )
        with gr.Column(scale=3):
            gallery = gr.Gallery(
                value=list(examples),
                label="Example product photos (click one to load it with a suggested mask)",
                columns=5,
                height=300,
                fit_columns=False,
                allow_preview=False,
                object_fit="cover",
                interactive=False,
                elem_id="examples",
            )
            photo_info = gr.Markdown("No photo yet.", elem_id="photo-info")
    return {"photo": photo, "gallery": gallery, "photo_info": photo_info}


def _mask_step() -> dict[str, Any]:
    step_heading(2, "Mask", "Every tab writes into one current mask; choose how each source combines with it.")
    combine = gr.Radio(
        [(m.capitalize(), m) for m in COMBINE_MODES], value="replace", label="Apply to current mask", elem_id="combine"
    )
    parts: dict[str, Any] = {"combine": combine}
    with gr.Tabs():
        with gr.Tab("Click", elem_id="tab-click"):
            parts.update(_click_tab())
        with gr.Tab("Sketch", elem_id="tab-sketch"):
            parts.update(_sketch_tab())
        with gr.Tab("Colour / luminance", elem_id="tab-color"):
            parts.update(_color_tab())
        with gr.Tab("Import", elem_id="tab-import"):
            parts.update(_import_tab())
    return parts


def _click_tab() -> dict[str, Any]:
    with gr.Row(equal_height=False):
        click_image = gr.Image(
            label="Click the product (the mask shows in blue)", height=520, scale=3, elem_id="click-image", **PREVIEW
        )
        with gr.Column(scale=1, min_width=240):
            click_kind = gr.Radio(CLICK_KINDS, value="positive", label="Next click marks", elem_id="click-kind")
            with gr.Row():
                undo = gr.Button("Undo last point", size="sm", elem_id="undo")
                clear = gr.Button("Clear", size="sm", elem_id="clear")
            candidates = gr.Gallery(
                label="Candidates (click one to use it)",
                columns=3,
                height=170,
                fit_columns=False,
                allow_preview=False,
                object_fit="contain",
                interactive=False,
                elem_id="candidates",
            )
    return {
        "click_image": click_image,
        "click_kind": click_kind,
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
            picked = gr.ColorPicker(label="Picked colour", value="#ffffff", elem_id="picked")
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
            mask_file = gr.File(label="Mask PNG (white = selected)", file_types=["image"], height=120)
            import_mask = gr.Button("Use mask")
        with gr.Column():
            alpha_file = gr.File(label="Image with transparency (its alpha)", file_types=["image"], height=120)
            import_alpha = gr.Button("Use alpha channel")
        with gr.Column():
            labels_file = gr.File(label="Label map", file_types=["image"], height=120)
            classes = gr.Textbox(label="Classes", placeholder="e.g. 1, 3")
            import_labels = gr.Button("Use classes")
    return {
        "mask_file": mask_file,
        "alpha_file": alpha_file,
        "labels_file": labels_file,
        "classes": classes,
        "import_mask": import_mask,
        "import_alpha": import_alpha,
        "import_labels": import_labels,
    }


def _refine_step() -> dict[str, Any]:
    step_heading(3, "Refine", "The preview follows the sliders as they move; edits use the refined mask.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            grow = gr.Slider(-64, 64, value=0, step=1, label="Grow (+) / shrink (−), px", elem_id="grow")
            feather = gr.Slider(0, 64, value=0, step=0.5, label="Feather radius, px", elem_id="feather")
            speck = gr.Slider(0, 5000, value=0, step=10, label="Remove specks smaller than, px²", elem_id="speck")
            with gr.Row():
                invert = gr.Checkbox(label="Invert", elem_id="invert")
                fill_holes = gr.Checkbox(label="Fill holes", elem_id="fill-holes")
            mask_info = gr.Markdown("No photo yet.", elem_id="mask-info")
        refine_preview = gr.Image(
            label="Refined mask over the photo", height=420, scale=2, elem_id="refine-preview", **PREVIEW
        )
    return {
        "grow": grow,
        "feather": feather,
        "speck": speck,
        "invert": invert,
        "fill_holes": fill_holes,
        "mask_info": mask_info,
        "refine_preview": refine_preview,
    }


def _edit_step() -> dict[str, Any]:
    step_heading(4, "Edit", "Choose what to do with the masked area, then Run.")
    operation = gr.Radio(OPERATIONS, value=OPERATIONS[0], label="Operation", elem_id="operation")
    with gr.Row():
        prompt = gr.Textbox(label="Prompt", placeholder="what should appear (diffusion engine)", scale=3)
        negative = gr.Textbox(label="Negative prompt", placeholder="what to avoid", scale=2)
    with gr.Accordion("Background options", open=True):
        with gr.Row():
            bg_kind = gr.Radio(BACKGROUNDS, value="Colour", label="New background", elem_id="bg-kind", scale=2)
            bg_color = gr.ColorPicker(value="#ffffff", label="Colour", elem_id="bg-color")
            bg_color2 = gr.ColorPicker(value="#c7d2fe", label="Gradient end colour")
            bg_blur = gr.Slider(1, 80, value=24, step=1, label="Blur radius, px")
        with gr.Row():
            bg_image = gr.Image(label="Background image", type="numpy", height=140, sources=["upload", "clipboard"])
            bg_prompt = gr.Textbox(label="Background prompt", placeholder="e.g. a marble table top, soft light")
    with gr.Accordion("Extend canvas options", open=False), gr.Row():
        sides = [
            gr.Number(value=0, minimum=0, maximum=4096, precision=0, label=f"{side}, px")
            for side in ("Left", "Right", "Top", "Bottom")
        ]
        aspect = gr.Dropdown(ASPECTS, value=ASPECTS[0], label="Or extend to aspect")
    with gr.Accordion("Advanced", open=False), gr.Row():
        engine = gr.Dropdown(ENGINES, value="auto", label="Engine")
        steps = gr.Slider(1, 100, value=30, step=1, label="Steps")
        strength = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label="Strength")
        guidance = gr.Slider(0, 20, value=7.5, step=0.5, label="Guidance")
        seed = gr.Number(value=-1, precision=0, label="Seed (−1 = random)")
        margin = gr.Slider(0, 512, value=64, step=8, label="Context margin, px")
    with gr.Row():
        run = gr.Button("Run", variant="primary", elem_id="run", scale=3)
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel", scale=1)
    edit_inputs = [
        operation,
        prompt,
        negative,
        bg_kind,
        bg_color,
        bg_color2,
        bg_blur,
        bg_image,
        bg_prompt,
        *sides,
        aspect,
        engine,
        steps,
        strength,
        guidance,
        seed,
        margin,
    ]
    return {
        "operation": operation,
        "bg_color": bg_color,
        "aspect": aspect,
        "edit_inputs": edit_inputs,
        "run": run,
        "cancel": cancel,
    }


def _result_step() -> dict[str, Any]:
    step_heading(5, "Result", "Drag the slider to compare. Downloads are full resolution.")
    comparison = gr.ImageSlider(
        label="Before / after", format="jpeg", height=520, elem_id="comparison", interactive=False
    )
    with gr.Row(equal_height=False):
        downloads = gr.File(
            label="Downloads: result, mask, cutout (PNG) and recipe (JSON)",
            file_count="multiple",
            interactive=False,
            elem_id="downloads",
            scale=3,
        )
        use = gr.Button("Use result as input", elem_id="use", scale=1)
    history = gr.Gallery(
        label="History of this session (click a cell to restore it and branch from it)",
        columns=6,
        height=260,
        fit_columns=False,
        allow_preview=False,
        object_fit="contain",
        interactive=False,
        elem_id="history",
    )
    return {"comparison": comparison, "downloads": downloads, "use": use, "history": history}
