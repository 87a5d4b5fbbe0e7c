"""The page's ControlNet guidance controls <-> the ``Control`` of an Edit step, and what the page previews.

Values (by name, as in ``ui.controls``): ``control`` (a label of ``CHOICES``, or the kind itself:
the API passes ``seg``, ``canny``, ``mask``, ``image`` or ``none``), ``control_picture`` (the
segmentation map or control image: an array, or the sketchpad's ``{"background", "layers"}``),
``seg_unknown``, ``control_scale``, ``control_start``, ``control_end``, ``canny_low``, ``canny_high``.
Every key may be missing (older API calls): guidance is then off.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np

from pipeline.errors import InvalidInput
from pipeline.inpaint.control import MAX_SCALE, Control, check_controls, class_legend, seg_colors, work_picture
from pipeline.types import Image, Mask

OFF = "Off"
CHOICES = {
    OFF: None,
    "Segmentation map": "seg",
    "Edges (Canny)": "canny",
    "Mask (inpainting ControlNet)": "mask",
    "Control image": "image",
}
DEFAULTS = Control(kind="canny")
ALPHA_DRAWN = 128
"""A sketchpad stroke pixel counts as drawn from this opacity on (its colour is the brush's)."""


def kind_of(choice: object) -> str | None:
    """The control kind a choice names (a page label or the kind itself), None for off."""
    if choice in (None, "", "none", OFF):
        return None
    if choice in CHOICES:
        return CHOICES[choice]  # type: ignore[index]
    if choice in CHOICES.values():
        return str(choice)
    raise InvalidInput(f"guidance {choice!r} is not one of none, seg, canny, mask, image")


def picture_from(value: object) -> np.ndarray | None:
    """The control picture the page or API gave: an array, or the sketchpad's background with its strokes on top.

    Strokes replace the background where they are at least half opaque, in the brush's colour
    exactly (no blending, so a drawn segmentation map keeps the palette's colours).
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        base = value.get("background")
        if base is None:
            return None
        out = np.array(base)[..., :3].astype(np.uint8) if np.asarray(base).ndim == 3 else np.array(base)
        for layer in value.get("layers") or []:
            layer = np.asarray(layer)
            if layer.ndim == 3 and layer.shape[2] == 4 and layer.shape[:2] == out.shape[:2] and out.ndim == 3:
                drawn = layer[..., 3] >= ALPHA_DRAWN
                out[drawn] = layer[..., :3][drawn]
        return out
    array = np.asarray(value)
    if array.ndim == 3 and array.shape[2] == 4:
        array = np.ascontiguousarray(array[..., :3])
    return array


def _number(values: Mapping[str, Any], name: str, default: float) -> float:
    value = values.get(name)
    return default if value is None else value


def controls_from(values: Mapping[str, Any]) -> tuple[Control, ...]:
    """The Edit step's ``controls`` (empty when guidance is off); bad values raise ``InvalidInput``."""
    kind = kind_of(values.get("control"))
    if kind is None:
        return ()
    common: dict[str, Any] = {
        "scale": _number(values, "control_scale", DEFAULTS.scale),
        "start": _number(values, "control_start", DEFAULTS.start),
        "end": _number(values, "control_end", DEFAULTS.end),
    }
    if kind == "canny":
        low, high = _number(values, "canny_low", DEFAULTS.low), _number(values, "canny_high", DEFAULTS.high)
        return (Control(kind="canny", low=int(low), high=int(high), **common),)
    if kind == "mask":
        return (Control(kind="mask", **common),)
    picture = picture_from(values.get("control_picture"))
    if picture is None:
        what = (
            "segmentation map (draw or upload it, or use the imported label map)" if kind == "seg" else "control image"
        )
        raise InvalidInput(f"no {what}: add one under Advanced › Guidance, or turn guidance off")
    unknown = "unknown" if values.get("seg_unknown") else "error"
    if kind == "image" and picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2).astype(np.uint8)
    return (Control(kind=kind, picture=picture, unknown=unknown, **common),)  # type: ignore[arg-type]


def guidance_values(controls: tuple[Control, ...]) -> dict[str, Any]:
    """The guidance controls that show ``controls`` (the first; the page sets one at a time)."""
    if not controls:
        return {"control": OFF}
    control = controls[0]
    label = next(label for label, kind in CHOICES.items() if kind == control.kind)
    values: dict[str, Any] = {
        "control": label,
        "control_scale": control.scale,
        "control_start": control.start,
        "control_end": control.end,
        "canny_low": control.low,
        "canny_high": control.high,
        "seg_unknown": control.unknown == "unknown",
    }
    if control.picture is not None:
        picture = control.picture
        values["control_picture"] = seg_colors(picture, unknown=control.unknown) if control.kind == "seg" else picture
    return values


def preview(control: Control, image: Image, mask: Mask, engine: Any) -> Image:
    """The control image ``engine`` will give the model for this photo and mask: its crop, at its work size."""
    check_controls((control,), image)
    plan_of = getattr(engine, "plan", None)
    if plan_of is None:
        raise InvalidInput("guidance needs the diffusion engine: start Stencil with --inpaint-model and --controlnet")
    plan = plan_of(mask)
    grow_px = int(getattr(getattr(engine, "pipe", None), "vae_scale_factor", 0) or 0)
    return work_picture(control, image, mask, plan, grow_px=grow_px)


def legend_html() -> str:
    """The ADE20K colour -> class legend: a swatch and a name per class (id 0, unknown, first)."""
    items = "".join(
        f'<span title="id {index}" style="display:inline-flex;align-items:center;margin:2px 8px 2px 0">'
        f'<span style="width:14px;height:14px;background:{code};border:1px solid #888;margin-right:4px"></span>'
        f"{escape(name)} <code style='margin-left:4px'>{code}</code></span>"
        for index, name, code in class_legend()
    )
    return f'<div id="seg-legend" style="max-height:180px;overflow:auto;font-size:12px">{items}</div>'


def brush_colors() -> list[str]:
    """Sketchpad brush colours: unknown and every ADE20K class, in id order."""
    return [code for _, _, code in class_legend()]


SCALE_RANGE = (0.0, MAX_SCALE)


def imported_labels(steps: tuple[Any, ...], unknown: bool) -> Image:
    """The label map of the notebook's last label step, as ADE20K colours (its ids are read as ADE20K ids)."""
    from pipeline.recipe import LabelClasses

    maps = [step.labels for step in steps if isinstance(step, LabelClasses) and step.labels is not None]
    if not maps:
        raise InvalidInput("no label map in this notebook: import one in step 2 (Label map), or draw or upload a map")
    return seg_colors(maps[-1], unknown="unknown" if unknown else "error")


def blank_map(size: tuple[int, int]) -> Image:
    """An all-unknown (black) segmentation map of ``size`` ``(width, height)``, to draw regions on."""
    return np.zeros((size[1], size[0], 3), np.uint8)


def edit_mask(edit: Any, refined: Mask) -> Mask:
    """The mask the engine fills for ``edit``: the refined mask (Inpaint), or 1 - subject (a prompted background)."""
    from pipeline.recipe import Inpaint, ReplaceBackground

    if isinstance(edit, Inpaint):
        return refined
    if isinstance(edit, ReplaceBackground):
        return (1.0 - refined).astype(np.float32)
    raise InvalidInput("guidance steers Inpaint and a prompted background; choose one of them in Operation")
