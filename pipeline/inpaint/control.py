"""Guidance: what a ControlNet is shown, and how that picture follows the photo into the engine's crop.

A ``Control`` names one control image and how strongly it steers the model:

- ``seg``: a segmentation map in the ADE20K palette (``pipeline.inpaint.ade20k``): ``picture``
  is either a label map of ADE20K ids ``(H, W)`` (0 = unknown) or colour regions ``(H, W, 3)``
  (imported, or drawn on the sketchpad). Each region keeps its class (a wall stays a wall).
- ``canny``: the photo's edges (Canny, thresholds ``low`` and ``high``), found on the very crop
  the model sees, so thin edges survive the resize.
- ``mask``: the photo with the masked pixels marked (-1), for an inpainting ControlNet.
- ``image``: an uploaded control image ``(H, W, 3)`` (a depth map, a pose, ...).

``scale`` (0 to 2) weighs the ControlNet's residuals; it acts from ``start`` to ``end``, as
fractions of the denoising steps. Pictures carried by a control have the photo's size and are
cut with the same ``CropPlan`` as the photo and the mask: ``image`` through the photo's own
resize (Lanczos), ``seg`` by nearest neighbour so no colour outside the palette appears.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image as PILImage

from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.inpaint import ade20k
from pipeline.inpaint.crop import CropPlan, cut_image, cut_mask
from pipeline.types import Image, Mask

ControlKind = Literal["seg", "canny", "mask", "image"]
CONTROL_KINDS: tuple[str, ...] = ("seg", "canny", "mask", "image")
MAX_SCALE = 2.0
UnknownColors = Literal["error", "unknown"]


def _fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"guidance {name} is {value!r}; use a number from 0 to 1")
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"guidance {name} is {value}; use a fraction of the steps from 0 to 1")
    return float(value)


@dataclass(frozen=True, kw_only=True, eq=False)
class Control:
    """One control image for a ControlNet of the same ``kind`` (see the module docstring).

    - ``scale``: conditioning scale, 0 to 2 (1 is the trained strength).
    - ``start`` / ``end``: the guidance acts on steps in ``[start, end)`` of the run, 0 <= start < end <= 1.
    - ``low`` / ``high``: Canny thresholds (``canny`` only), 0 <= low < high <= 1000.
    - ``picture``: the label or colour map (``seg``) or the control image (``image``), at the
      photo's size; ``canny`` and ``mask`` take theirs from the photo and the mask.
    - ``unknown``: colours of a ``seg`` colour map outside the palette are an error ("error"),
      or drawn as unknown (black) when the user asks ("unknown").
    """

    kind: ControlKind
    scale: float = 1.0
    start: float = 0.0
    end: float = 1.0
    low: int = 100
    high: int = 200
    picture: np.ndarray | None = None
    unknown: UnknownColors = "error"

    def __post_init__(self) -> None:
        if self.kind not in CONTROL_KINDS:
            raise InvalidInput(f"control {self.kind!r} is not one of {', '.join(CONTROL_KINDS)}")
        scale = self.scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
            raise InvalidInput(f"conditioning scale is {scale!r}; use a number from 0 to {MAX_SCALE:g}")
        if not 0.0 <= scale <= MAX_SCALE:
            raise InvalidInput(f"conditioning scale is {scale}; use 0 to {MAX_SCALE:g} (1 is the trained strength)")
        if _fraction(self.start, "start") >= _fraction(self.end, "end"):
            raise InvalidInput(f"guidance starts at {self.start} but ends at {self.end}; start must be before end")
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
                raise InvalidInput(f"Canny {name} threshold is {value!r}; use a whole number from 0 to 1000")
        if self.low >= self.high:
            raise InvalidInput(f"Canny thresholds {self.low} and {self.high}: the low one must be below the high one")
        if self.unknown not in ("error", "unknown"):
            raise InvalidInput(f"unknown is {self.unknown!r}; use error or unknown")
        self._check_picture()

    def _check_picture(self) -> None:
        picture = self.picture
        if self.kind in ("canny", "mask"):
            if picture is not None:
                raise InvalidInput(f"the {self.kind} control is made from the photo; it takes no picture")
            return
        if not isinstance(picture, np.ndarray):
            what = "a label map or colour map" if self.kind == "seg" else "a control image"
            raise InvalidInput(f"the {self.kind} control needs {what} the size of the photo")
        if self.kind == "image" and not (picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8):
            raise InvalidInput(f"a control image must be RGB (H, W, 3) uint8, not {picture.shape} {picture.dtype}")
        if self.kind == "seg":
            seg_colors(picture, unknown=self.unknown)  # raises on ids or colours outside the palette

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the carried picture, or None for ``canny`` and ``mask``."""
        return None if self.picture is None else (int(self.picture.shape[1]), int(self.picture.shape[0]))

    def __eq__(self, other: object) -> bool:
        """Equal settings and an equal picture (dataclass equality cannot compare arrays)."""
        if not isinstance(other, Control):
            return NotImplemented
        fields = ("kind", "scale", "start", "end", "low", "high", "unknown")
        if any(getattr(self, f) != getattr(other, f) for f in fields):
            return False
        if self.picture is None or other.picture is None:
            return self.picture is other.picture
        return self.picture.shape == other.picture.shape and bool(np.array_equal(self.picture, other.picture))

    def __hash__(self) -> int:
        return hash((self.kind, self.scale, self.start, self.end, self.low, self.high, self.size, self.unknown))


def seg_colors(picture: np.ndarray, *, unknown: UnknownColors = "error") -> Image:
    """A label map (ADE20K ids) or colour map as ADE20K colours, ``(H, W, 3)`` uint8.

    Ids above 150, or colours that no class has, raise ``InvalidInput`` naming them (at most
    five, with their pixel counts), unless ``unknown="unknown"``: then they are drawn black.
    """
    colors = ade20k.palette()
    if picture.ndim == 2 and np.issubdtype(picture.dtype, np.integer):
        if picture.size and int(picture.min()) >= 0 and int(picture.max()) < len(colors):
            return colors[picture]
        outside = (picture < 0) | (picture >= len(colors))
        if unknown == "error":
            found, counts = np.unique(picture[outside], return_counts=True)
            listed = ", ".join(f"{v} ({c} px)" for v, c in list(zip(found.tolist(), counts.tolist(), strict=True))[:5])
            raise InvalidInput(
                f"the label map has {found.size} id(s) outside ADE20K's 0..150: {listed}; "
                "relabel them, or choose to map them to unknown"
            )
        return colors[np.where(outside, 0, picture)]
    if not (picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8):
        raise InvalidInput(
            "a segmentation map must be ADE20K ids (H, W) or colours (H, W, 3) uint8, "
            f"not {picture.shape} {picture.dtype}"
        )
    packed = _pack(picture)
    table = np.zeros(1 << 24, bool)  # a lookup by packed colour: one gather, no sort, on 12 MP maps too
    table[_pack(colors)] = True
    known = table[packed]
    if known.all():
        return picture
    if unknown == "error":
        found, counts = np.unique(packed[~known], return_counts=True)
        order = np.argsort(-counts)[:5]
        listed = ", ".join(f"#{int(found[i]):06x} ({int(counts[i])} px)" for i in order)
        raise InvalidInput(
            f"the segmentation map has {found.size} colour(s) outside the ADE20K palette: {listed}; "
            "paint with the legend's colours, or choose to map them to unknown"
        )
    out = picture.copy()
    out[~known] = 0
    return out


def _pack(rgb: np.ndarray) -> np.ndarray:
    """``r << 16 | g << 8 | b`` of each pixel (or palette row)."""
    wide = rgb.astype(np.int32)
    return (wide[..., 0] << 16) | (wide[..., 1] << 8) | wide[..., 2]


def class_legend() -> list[tuple[int, str, str]]:
    """``(id, name, "#rrggbb")`` of every ADE20K class, unknown (0) first: the page's legend."""
    return [(index, name, code) for index, (name, code) in enumerate([ade20k.UNKNOWN, *ade20k.CLASSES])]


def check_kinds(controls: tuple[Control, ...]) -> None:
    """Raise ``InvalidInput`` unless every item is a ``Control`` and no kind comes twice."""
    kinds = [getattr(control, "kind", None) for control in controls]
    for control in controls:
        if not isinstance(control, Control):
            raise InvalidInput(f"a control is {type(control).__name__}; use a Control")
        if kinds.count(control.kind) > 1:
            raise InvalidInput(f"the {control.kind} control is given twice; use each kind once")


def check_controls(controls: tuple[Control, ...], image: Image) -> None:
    """Raise ``SizeMismatch`` when a control's picture is not the photo's size, ``InvalidInput`` on repeats."""
    height, width = image.shape[:2]
    check_kinds(controls)
    for control in controls:
        if control.size is not None and control.size != (width, height):
            raise SizeMismatch(
                f"the {control.kind} control image is {control.size[0]}x{control.size[1]} but the photo is "
                f"{width}x{height}; use a control image of the photo's size"
            )


def work_picture(control: Control, image: Image, mask: Mask, plan: CropPlan, *, grow_px: int = 0) -> Image:
    """The control image the model sees: cut with ``plan`` like the photo, ``(work_h, work_w, 3)`` uint8.

    For ``mask`` this is the cut photo with the model's mask (``cut_mask`` with ``grow_px``) in
    black; the engine hands the model -1 there (``model_input``).
    """
    if control.kind == "image":
        assert control.picture is not None
        return np.asarray(cut_image(control.picture, plan))
    if control.kind == "seg":
        assert control.picture is not None
        region = seg_colors(control.picture[plan.y0 : plan.y1, plan.x0 : plan.x1], unknown=control.unknown)
        region = np.ascontiguousarray(region)
        return np.asarray(PILImage.fromarray(region, "RGB").resize(plan.work_size, PILImage.Resampling.NEAREST))
    photo = np.asarray(cut_image(image, plan))
    if control.kind == "canny":
        import cv2

        edges = cv2.Canny(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), control.low, control.high)
        return np.repeat(edges[..., None], 3, axis=2)
    masked = np.asarray(cut_mask(mask, plan, grow_px=grow_px)) > 127
    out = photo.copy()
    out[masked] = 0
    return out


def model_input(control: Control, picture: Image, work_mask: np.ndarray | None = None) -> np.ndarray:
    """``picture`` as the ``(H, W, 3)`` float32 in [0, 1] a ControlNet takes; masked pixels -1 for ``mask``."""
    values = picture.astype(np.float32) / 255.0
    if control.kind == "mask" and work_mask is not None:
        values[work_mask > 127] = -1.0
    return values
