"""The page's controls <-> recipe steps, both ways: one place that knows what each control means.

Values arrive as ``{name: value}`` (the handlers turn Gradio's component-keyed dicts into
names). Defaults live in the step dataclasses (``Prompting``, ``Shadow``, ``Output``, ``Refine``);
the layout reads them from there, so no default is written twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline import limits
from pipeline.colors import parse_color, to_hex
from pipeline.edits.background import BlurredOriginal, Gradient, ImageBackground, PromptBackground, Shadow, SolidColor
from pipeline.edits.outpaint import Padding
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import DEFAULT_PROMPTING, Prompting
from pipeline.recipe import Edit, ExtendCanvas, Inpaint, Output, Refine, Remove, ReplaceBackground
from pipeline.recipe.steps import Fill
from ui import guidance

OPERATIONS = {"Replace background": "background", "Remove": "remove", "Inpaint": "inpaint", "Extend canvas": "outpaint"}
BACKGROUNDS = {"Colour": SolidColor, "Gradient": Gradient, "Blur": BlurredOriginal, "Image": ImageBackground}
PROMPT_BACKGROUND = "Prompt"
ASPECTS = {"1:1": (1, 1), "4:5": (4, 5), "3:2": (3, 2), "16:9": (16, 9), "9:16": (9, 16)}
SIDES_ONLY = "Sides only"
FORMATS = ("png", "jpeg", "webp")
BACKGROUND_IMAGE_MAX_SIDE = 2048
"""A background picture is kept (in the session and the recipe) at most this long on its longer side."""

Values = Mapping[str, Any]


def whole(value: object, name: str, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``; NaN, infinity and fractions are refused with a clear message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{name} is {value!r}; type a whole number from {low} to {high}")
    if value != int(value) or not low <= value <= high:
        raise InvalidInput(f"{name} is {value:g}; use a whole number from {low} to {high}")
    return int(value)


def number(value: object, name: str, low: float, high: float) -> float:
    """``value`` as a finite float in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{name} is {value!r}; use a number from {low:g} to {high:g}")
    if not low <= value <= high:
        raise InvalidInput(f"{name} is {value:g}; use a number from {low:g} to {high:g}")
    return float(value)


def seed_from(value: object) -> int | None:
    """The seed box: empty or negative means random (None)."""
    if value is None or (isinstance(value, (int, float)) and math.isfinite(value) and value < 0):
        return None
    return whole(value, "seed", 0, 2**63 - 1)


# ---------------------------------------------------------------- refine


def refine_from(v: Values) -> Refine:
    return Refine(
        fill_holes=bool(v["fill_holes"]),
        min_speck_px=whole(v["speck"], "speck size", 0, 100_000_000),
        grow_px=whole(v["grow"], "grow / shrink", -limits.MAX_GROW_PX, limits.MAX_GROW_PX),
        matte_px=whole(v["matte"], "edge matte", 0, limits.MAX_MATTE_PX),
        invert=bool(v["invert"]),
        feather_px=number(v["feather"], "feather", 0.0, limits.MAX_FEATHER_PX),
    )


def refine_values(refine: Refine) -> dict[str, Any]:
    return {
        "grow": refine.grow_px,
        "feather": refine.feather_px,
        "speck": refine.min_speck_px,
        "matte": refine.matte_px,
        "invert": refine.invert,
        "fill_holes": refine.fill_holes,
    }


# ---------------------------------------------------------------- edit


def prompting_from(v: Values, prompt: str) -> Prompting:
    return Prompting(
        prompt=prompt or "",
        negative_prompt=v["negative"] or "",
        seed=seed_from(v["seed"]),
        steps=whole(v["steps"], "steps", 1, limits.MAX_STEPS),
        strength=number(v["strength"], "strength", 0.01, 1.0),
        guidance=number(v["guidance"], "guidance", 0.0, 50.0),
    )


def edit_from(v: Values) -> Edit:
    """The ``Edit`` step the controls describe (full-resolution pixels)."""
    operation = OPERATIONS.get(v["operation"])
    if operation is None:
        raise InvalidInput(f"operation {v['operation']!r} is not one of {', '.join(OPERATIONS)}")
    engine = v["engine"]
    if engine not in ("auto", "classic", "diffusion"):
        raise InvalidInput(f"engine {engine!r} is not one of auto, classic, diffusion")
    margin = None if v["margin"] is None else whole(v["margin"], "context margin", 0, limits.MAX_MARGIN_PX)
    if operation == "remove":
        return Remove(prompting=prompting_from(v, ""), engine=engine, margin_px=margin)
    if operation == "inpaint":
        return Inpaint(
            prompting=prompting_from(v, v["prompt"]), engine=engine, margin_px=margin,
            controls=guidance.controls_from(v),
        )  # fmt: skip
    if operation == "background":
        shadow = shadow_from(v) if v["shadow"] else None
        fill = fill_from(v)
        guided = guidance.controls_from(v) if isinstance(fill, PromptBackground) else ()
        return ReplaceBackground(fill=fill, shadow=shadow, engine=engine, margin_px=margin, controls=guided)
    if v["aspect"] in ASPECTS:
        return ExtendCanvas(
            aspect=ASPECTS[v["aspect"]], prompting=prompting_from(v, v["out_prompt"]), engine=engine, margin_px=margin
        )
    sides = [whole(v[side], f"{side} side", 0, 16384) for side in ("left", "right", "top", "bottom")]
    return ExtendCanvas(
        padding=Padding(*sides), prompting=prompting_from(v, v["out_prompt"]), engine=engine, margin_px=margin
    )


def fill_from(v: Values) -> Fill:
    kind = v["bg_kind"]
    if kind == "Colour":
        return SolidColor(parse_color(v["bg_color"]))
    if kind == "Gradient":
        return Gradient(parse_color(v["bg_color"]), parse_color(v["bg_color2"]))
    if kind == "Blur":
        return BlurredOriginal(number(v["bg_blur"], "blur", 0.5, limits.MAX_BLUR_PX))
    if kind == "Image":
        picture = v["bg_image"]
        if picture is None:
            raise InvalidInput("no background image: upload one under 'Background image', or pick another background")
        return ImageBackground(background_picture(np.asarray(picture)))
    if kind == PROMPT_BACKGROUND:
        return PromptBackground(prompting_from(v, v["bg_prompt"]))
    raise InvalidInput(f"background {kind!r} is not one of {', '.join([*BACKGROUNDS, PROMPT_BACKGROUND])}")


def background_picture(picture: np.ndarray) -> np.ndarray:
    """An uploaded background as ``(h, w, 3)`` uint8 RGB, at most ``BACKGROUND_IMAGE_MAX_SIDE`` long."""
    from ui.display import fit_display

    rgb = np.ascontiguousarray(picture[..., :3], dtype=np.uint8)
    return fit_display(rgb, BACKGROUND_IMAGE_MAX_SIDE)[0]


def shadow_from(v: Values) -> Shadow:
    return Shadow(
        kind=v["shadow_kind"],
        angle_deg=number(v["shadow_angle"], "shadow angle", -360.0, 360.0),
        distance_px=number(v["shadow_distance"], "shadow distance", 0.0, limits.MAX_SHADOW_PX),
        softness_px=number(v["shadow_softness"], "shadow softness", 0.0, limits.MAX_FEATHER_PX),
        opacity=number(v["shadow_opacity"], "shadow opacity", 0.0, 1.0),
    )


def output_from(v: Values) -> Output:
    width, height = (
        whole(v["canvas_w"], "canvas width", 0, limits.MAX_CANVAS_SIDE),
        whole(v["canvas_h"], "canvas height", 0, limits.MAX_CANVAS_SIDE),
    )
    canvas = (width, height) if width and height else None
    if (width or height) and canvas is None:
        raise InvalidInput("give the catalogue canvas both a width and a height (or 0 for both to keep the size)")
    return Output(
        format=v["out_format"],
        quality=whole(v["out_quality"], "quality", 1, 100),
        canvas=canvas,
        subject_share=number(v["subject_share"], "product share", 0.05, 1.0),
    )


def edit_values(edit: Edit, output: Output) -> dict[str, Any]:
    """The controls that show ``edit`` and ``output`` (what restoring a cell or a recipe sets)."""
    values: dict[str, Any] = {
        "operation": next(label for label, op in OPERATIONS.items() if op == type(edit).kind),  # type: ignore[attr-defined]
        "engine": edit.engine,
        **output_values(output),
    }
    if edit.margin_px is not None:
        values["margin"] = edit.margin_px
    prompting: Prompting | None = None
    if isinstance(edit, Remove):
        prompting = edit.prompting
    elif isinstance(edit, Inpaint):
        prompting, values["prompt"] = edit.prompting, edit.prompting.prompt
        values.update(guidance.guidance_values(edit.controls))
    elif isinstance(edit, ExtendCanvas):
        prompting, values["out_prompt"] = edit.prompting, edit.prompting.prompt
        aspect = next((label for label, ratio in ASPECTS.items() if ratio == edit.aspect), SIDES_ONLY)
        values["aspect"] = aspect
        padding = edit.padding or Padding(left=0, right=0, top=0, bottom=1)
        values.update(left=padding.left, right=padding.right, top=padding.top, bottom=padding.bottom)
    elif isinstance(edit, ReplaceBackground):
        values.update(fill_values(edit.fill), shadow=edit.shadow is not None)
        if edit.shadow is not None:
            values.update(shadow_values(edit.shadow))
        if isinstance(edit.fill, PromptBackground):
            prompting = edit.fill.prompting
            values.update(guidance.guidance_values(edit.controls))
    if prompting is not None:
        values.update(prompting_values(prompting))
    return values


def fill_values(fill: Fill) -> dict[str, Any]:
    if isinstance(fill, SolidColor):
        return {"bg_kind": "Colour", "bg_color": to_hex(fill.rgb)}
    if isinstance(fill, Gradient):
        return {"bg_kind": "Gradient", "bg_color": to_hex(fill.start), "bg_color2": to_hex(fill.end)}
    if isinstance(fill, BlurredOriginal):
        return {"bg_kind": "Blur", "bg_blur": fill.radius_px}
    if isinstance(fill, ImageBackground):
        return {"bg_kind": "Image", "bg_image": fill.image}
    return {"bg_kind": PROMPT_BACKGROUND, "bg_prompt": fill.prompting.prompt}


def shadow_values(shadow: Shadow = Shadow()) -> dict[str, Any]:  # noqa: B008 - frozen defaults
    return {
        "shadow_kind": shadow.kind,
        "shadow_angle": shadow.angle_deg,
        "shadow_distance": shadow.distance_px,
        "shadow_softness": shadow.softness_px,
        "shadow_opacity": shadow.opacity,
    }


def output_values(output: Output = Output()) -> dict[str, Any]:  # noqa: B008 - frozen defaults
    width, height = output.canvas or (0, 0)
    return {
        "out_format": output.format,
        "out_quality": output.quality,
        "canvas_w": width,
        "canvas_h": height,
        "subject_share": output.subject_share,
    }


def prompting_values(prompting: Prompting = DEFAULT_PROMPTING) -> dict[str, Any]:
    return {
        "negative": prompting.negative_prompt,
        "seed": -1 if prompting.seed is None else prompting.seed,
        "steps": prompting.steps,
        "strength": prompting.strength,
        "guidance": prompting.guidance,
    }


def needs_generation(edit: Edit) -> bool:
    """Whether ``edit`` only makes sense with a diffusion model (a prompt to paint, or the engine asked for)."""
    if edit.engine == "diffusion":
        return True
    if isinstance(edit, ReplaceBackground):
        return isinstance(edit.fill, PromptBackground)
    return isinstance(edit, (Inpaint, ExtendCanvas)) and bool(edit.prompting.prompt.strip())


def caption(index: int, edit: Edit, engine: str) -> str:
    """``#2 remove · classic``, ``#1 background: colour #00ff00``: a history cell's label and engine."""
    detail = ""
    if isinstance(edit, ReplaceBackground):
        fill = fill_values(edit.fill)
        detail = fill["bg_kind"].lower() + (f" {fill['bg_color']}" if "bg_color" in fill else "")
        detail += ", shadow" if edit.shadow else ""
    elif isinstance(edit, Inpaint):
        detail = repr(edit.prompting.prompt) if edit.prompting.prompt else "no prompt"
    elif isinstance(edit, ExtendCanvas):
        detail = f"aspect {edit.aspect[0]}:{edit.aspect[1]}" if edit.aspect else "sides"
    kind = type(edit).kind  # type: ignore[attr-defined]
    ran = "" if engine == "none" else f" · {engine}"
    return f"#{index} {kind}" + (f": {detail}" if detail else "") + ran
