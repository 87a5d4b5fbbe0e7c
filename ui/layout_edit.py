"""Steps 4 and 5 of the page: the edit's controls (by name, see ``ui.controls``) and the result."""

from __future__ import annotations

from typing import Any

import gradio as gr

from pipeline.edits.background import Shadow
from pipeline.inpaint.protocol import DEFAULT_PROMPTING
from pipeline.recipe import Output
from ui.controls import ASPECTS, BACKGROUNDS, FORMATS, OPERATIONS, PROMPT_BACKGROUND, SIDES_ONLY
from ui.guidance import CHOICES, DEFAULTS, OFF, brush_colors, legend_html
from ui.many import MANY_MAX_BYTES, MANY_MAX_PHOTOS
from ui.theme import picker_gallery, step_heading
from ui.uploads import checked

NO_MODEL = "needs a diffusion model: start Stencil with --inpaint-model (or STENCIL_INPAINT_MODEL)"


def edit_step(
    parts: dict[str, Any], *, generates: bool, margin_px: int, guides: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Step 4. ``generates``: a diffusion model is configured, so prompts can act; ``guides``: its ControlNets."""
    step_heading(4, "Edit", "Choose what to do with the masked area, then Run.")
    operation = gr.Radio(list(OPERATIONS), value="Replace background", label="Operation", elem_id="operation")
    engine_note = gr.Markdown(
        "" if generates else f"Prompts are off: the classical engine fills from the surroundings ({NO_MODEL}).",
        elem_id="engine-note",
    )
    prompt_box = {"interactive": generates, "placeholder": "what should appear" if generates else NO_MODEL}
    with gr.Group(visible=False) as inpaint_group:
        prompt = gr.Textbox(label="Prompt", elem_id="prompt", **prompt_box)
    c: dict[str, Any] = {"operation": operation, "prompt": prompt}
    with gr.Group(visible=True) as background_group:
        c.update(_background_controls(prompt_box, generates))
    with gr.Group(visible=False) as extend_group:
        c.update(_extend_controls(prompt_box))
    with gr.Accordion("Advanced", open=False):
        c.update(_advanced_controls(generates, margin_px))
        c.update(_guidance_controls(parts, guides))
    with gr.Accordion("Output: format and catalogue frame", open=False):
        c.update(_output_controls())
    with gr.Row():
        run = gr.Button("Run", variant="primary", elem_id="run", scale=3)
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel", scale=1)
    parts.update(
        run=run,
        cancel=cancel,
        engine_note=engine_note,
        inpaint_group=inpaint_group,
        background_group=background_group,
        extend_group=extend_group,
    )
    return c


def _background_controls(prompt_box: dict[str, Any], generates: bool) -> dict[str, Any]:
    kinds = [*BACKGROUNDS, PROMPT_BACKGROUND] if generates else list(BACKGROUNDS)
    with gr.Row():
        bg_kind = gr.Radio(kinds, value="Colour", label="New background", elem_id="bg-kind", scale=2)
        bg_color = gr.ColorPicker(value="#ffffff", label="Colour", elem_id="bg-color", elem_classes="swatch")
        bg_color2 = gr.ColorPicker(
            value="#c7d2fe", label="Gradient end colour", visible=False, elem_id="bg-color2", elem_classes="swatch"
        )
        bg_blur = gr.Slider(1, 80, value=24, step=1, label="Blur radius, px", visible=False, elem_id="bg-blur")
    bg_image = checked(
        gr.Image(label="Background image", type="numpy", height=140, sources=["upload", "clipboard"], visible=False)
    )
    bg_prompt = gr.Textbox(label="Background prompt", visible=False, elem_id="bg-prompt", **prompt_box)
    shadow_default = Shadow()
    with gr.Row():
        shadow = gr.Checkbox(label="Soft shadow under the product", elem_id="shadow")
        shadow_kind = gr.Radio(["drop", "contact"], value=shadow_default.kind, label="Shadow", visible=False)
        shadow_angle = gr.Slider(
            -180, 180, value=shadow_default.angle_deg, step=5, label="Falls toward, °", visible=False
        )
        shadow_distance = gr.Slider(
            0, 200, value=shadow_default.distance_px, step=1, label="Distance, px", visible=False
        )
        shadow_softness = gr.Slider(
            0, 100, value=shadow_default.softness_px, step=1, label="Softness, px", visible=False
        )
        shadow_opacity = gr.Slider(0, 1, value=shadow_default.opacity, step=0.05, label="Darkness", visible=False)
    return {
        "bg_kind": bg_kind,
        "bg_color": bg_color,
        "bg_color2": bg_color2,
        "bg_blur": bg_blur,
        "bg_image": bg_image,
        "bg_prompt": bg_prompt,
        "shadow": shadow,
        "shadow_kind": shadow_kind,
        "shadow_angle": shadow_angle,
        "shadow_distance": shadow_distance,
        "shadow_softness": shadow_softness,
        "shadow_opacity": shadow_opacity,
    }


def _extend_controls(prompt_box: dict[str, Any]) -> dict[str, Any]:
    with gr.Row():
        sides = {
            side: gr.Number(value=0, minimum=0, maximum=4096, precision=0, label=f"{side.capitalize()}, px")
            for side in ("left", "right", "top", "bottom")
        }
        aspect = gr.Dropdown([SIDES_ONLY, *ASPECTS], value=SIDES_ONLY, label="Or extend to aspect", elem_id="aspect")
    out_prompt = gr.Textbox(label="What to paint in the new area", elem_id="out-prompt", **prompt_box)
    return {**sides, "aspect": aspect, "out_prompt": out_prompt}


def _advanced_controls(generates: bool, margin_px: int) -> dict[str, Any]:
    d = DEFAULT_PROMPTING
    diffusion = {"interactive": generates}
    with gr.Row():
        engine = gr.Dropdown(
            ["auto", "classic", "diffusion"] if generates else ["auto", "classic"], value="auto", label="Engine"
        )
        negative = gr.Textbox(label="Negative prompt", placeholder="what to avoid", **diffusion)
    with gr.Row():
        steps = gr.Slider(1, 100, value=d.steps, step=1, label="Steps", **diffusion)
        strength = gr.Slider(0.05, 1.0, value=d.strength, step=0.05, label="Strength", **diffusion)
        guidance = gr.Slider(0, 20, value=d.guidance, step=0.5, label="Guidance", **diffusion)
        seed = gr.Number(value=-1 if d.seed is None else d.seed, precision=0, label="Seed (−1 = random)", **diffusion)
        margin = gr.Slider(0, 512, value=margin_px, step=8, label="Context margin, px")
    return {
        "engine": engine,
        "negative": negative,
        "steps": steps,
        "strength": strength,
        "guidance": guidance,
        "seed": seed,
        "margin": margin,
    }


def _guidance_controls(parts: dict[str, Any], guides: tuple[str, ...]) -> dict[str, Any]:
    """ControlNet guidance of an inpaint or a prompted background: the control image, its scale and span."""
    d = DEFAULTS
    loaded = f"ControlNets loaded: {', '.join(guides)}." if guides else (
        "No ControlNet is loaded: start Stencil with `--controlnet seg=MODEL` (or canny=, mask=, image=; "
        "also `STENCIL_CONTROLNET`)."
    )  # fmt: skip
    with gr.Accordion("Guidance (ControlNet)", open=False, elem_id="guidance"):
        gr.Markdown(f"Steers what the prompt paints: a segmentation map keeps each region's class, edges keep the "
                    f"scene's structure, the mask keeps the product's outline. {loaded}")  # fmt: skip
        control = gr.Radio(list(CHOICES), value=OFF, label="Guide with", elem_id="control", interactive=bool(guides))
        with gr.Row():
            scale = gr.Slider(0, 2, value=d.scale, step=0.05, label="Conditioning scale", elem_id="control-scale")
            start = gr.Slider(0, 1, value=d.start, step=0.05, label="Guidance from (share of steps)")
            end = gr.Slider(0, 1, value=d.end, step=0.05, label="Guidance until (share of steps)")
            low = gr.Slider(0, 1000, value=d.low, step=1, label="Canny low threshold")
            high = gr.Slider(0, 1000, value=d.high, step=1, label="Canny high threshold")
        colors = brush_colors()
        picture = gr.ImageEditor(
            label="Segmentation map (ADE20K colours: draw or upload) or control image, the photo's size",
            type="numpy", format="png", image_mode="RGBA", height=320, elem_id="control-picture", layers=False,
            brush=gr.Brush(colors=colors, default_color=colors[1], color_mode="fixed"), eraser=False,
        )  # fmt: skip
        unknown = gr.Checkbox(label="Draw colours outside the ADE20K palette as unknown (otherwise they are an error)")
        with gr.Row():
            use_labels = gr.Button("Use the imported label map", elem_id="control-labels")
            blank = gr.Button("Blank map (all unknown)", elem_id="control-blank")
            show = gr.Button("Show the control image the model will see", elem_id="control-show")
        shown = gr.Image(label="Control image at the crop and size the model works at", interactive=False,
                         height=256, format="png", elem_id="control-preview")  # fmt: skip
        with gr.Accordion("ADE20K colours → classes", open=False):
            gr.HTML(legend_html())
    parts.update(control_labels=use_labels, control_blank=blank, control_show=show, control_preview=shown)
    return {
        "control": control,
        "control_scale": scale,
        "control_start": start,
        "control_end": end,
        "canny_low": low,
        "canny_high": high,
        "control_picture": picture,
        "seg_unknown": unknown,
    }


def _output_controls() -> dict[str, Any]:
    d = Output()
    width, height = d.canvas or (0, 0)
    with gr.Row():
        out_format = gr.Dropdown(list(FORMATS), value=d.format, label="Format", elem_id="out-format")
        out_quality = gr.Slider(1, 100, value=d.quality, step=1, label="JPEG quality (PNG and WebP are lossless)")
        canvas_w = gr.Number(value=width, minimum=0, maximum=8192, precision=0, label="Canvas width, px (0 = keep)")
        canvas_h = gr.Number(value=height, minimum=0, maximum=8192, precision=0, label="Canvas height, px")
        subject_share = gr.Slider(0.05, 1.0, value=d.subject_share, step=0.05, label="Product fills this share")
    return {
        "out_format": out_format,
        "out_quality": out_quality,
        "canvas_w": canvas_w,
        "canvas_h": canvas_h,
        "subject_share": subject_share,
    }


def result_step() -> dict[str, Any]:
    step_heading(5, "Result", "Drag the slider to compare. Downloads are full resolution.")
    comparison = gr.ImageSlider(
        label="Before / after", format="jpeg", height=520, elem_id="comparison", interactive=False
    )
    result_info = gr.Markdown("", elem_id="result-info")
    with gr.Row(equal_height=False):
        downloads = gr.File(
            label="Downloads: result, mask, cutout, crop to the mask, and the recipe (JSON, replayable)",
            file_count="multiple",
            interactive=False,
            elem_id="downloads",
            scale=3,
        )
        use = gr.Button("Use result as input", elem_id="use", scale=1)
    history = picker_gallery(
        "History of this session (click a cell to restore it, with its controls, and branch from it)",
        columns=6,
        height=260,
        elem_id="history",
    )
    return {
        "comparison": comparison,
        "result_info": result_info,
        "downloads": downloads,
        "use": use,
        "history": history,
        **_many_controls(),
    }


def _many_controls() -> dict[str, Any]:
    with gr.Accordion("Apply this recipe to many photos", open=False, elem_id="many"):
        gr.Markdown(
            f"Runs the shown result's recipe (its mask must come from a colour, luminance, alpha or label "
            f"classes, not clicks or painting) on up to {MANY_MAX_PHOTOS} photos, {MANY_MAX_BYTES >> 20} MB "
            "in all. For more, run `stencil apply recipe.json FOLDER -o OUT --workers N`."
        )
        with gr.Row(equal_height=False):
            many_files = gr.File(
                label="Photos: a .zip and/or several photos",
                file_count="multiple",
                file_types=[".zip", "image"],
                height=140,
                elem_id="many-files",
            )
            many_out = gr.File(
                label="Results: a zip with manifest.jsonl", interactive=False, height=140, elem_id="many-out"
            )
        many_run = gr.Button("Run the recipe on these photos", variant="primary", elem_id="many-run")
        many_info = gr.Markdown("", elem_id="many-info")
    return {"many_files": many_files, "many_out": many_out, "many_run": many_run, "many_info": many_info}
