"""Crop to the mask ("inpaint only masked"): where a diffusion engine works, and how its result goes back.

A diffusion model costs the same for every image of its native size (512 x 512 px for SD 1.5,
1024 x 1024 px for SDXL). Instead of shrinking a whole 4000 x 3000 photo to that size (and
losing its sharpness), the engine works on the part that matters:

1. the bounding box of every pixel with ``mask > 0`` (``selected_box``),
2. grown on each side by a context margin: ``max(context_px, context_fraction * longer side)``,
3. widened along its shorter side towards a square, then shifted and clamped into the image,
4. resized so its longer side is the native size (both sides multiples of 8; ``work_size``),
5. after the run, resized back and pasted through the mask (``paste``): ``out = original`` where
   ``mask == 0`` (byte-identical), ``round(original * (1 - m) + result * m)`` elsewhere.

"auto" mode uses the whole image instead (``mode == "full"``) when the image already fits in the
native size, or when the crop would cover at least ``full_area_fraction`` of the image (a crop
that large saves little and loses context). "full" mode resizes the whole image the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFilter

from pipeline.errors import EmptyMask, InvalidInput
from pipeline.types import Image, Mask

CropMode = Literal["auto", "crop", "full"]
SIZE_MULTIPLE_PX = 8
"""Work sizes are multiples of this (the VAE's downscaling factor of SD models)."""


@dataclass(frozen=True)
class CropOptions:
    """How the diffusion engine chooses its working region (see the module docstring)."""

    mode: CropMode = "auto"
    context_px: int = 32
    context_fraction: float = 0.25
    full_area_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "crop", "full"):
            raise InvalidInput(f"crop mode {self.mode!r} is not one of auto, crop, full")
        if self.context_px < 0 or not (0.0 <= self.context_fraction <= 4.0):
            raise InvalidInput(
                f"context margin {self.context_px} px / {self.context_fraction} is invalid; "
                "use context_px >= 0 and context_fraction in [0, 4]"
            )
        if not (0.0 < self.full_area_fraction <= 1.0):
            raise InvalidInput(f"full_area_fraction is {self.full_area_fraction}; use a value in (0, 1]")


DEFAULT_CROP = CropOptions()


@dataclass(frozen=True)
class CropPlan:
    """The region ``[y0:y1, x0:x1]`` of the image (half-open, pixels) and the model's size for it."""

    mode: Literal["crop", "full"]
    x0: int
    y0: int
    x1: int
    y1: int
    work_w: int
    work_h: int

    @property
    def region_size(self) -> tuple[int, int]:
        """``(width, height)`` of the region in image pixels."""
        return self.x1 - self.x0, self.y1 - self.y0

    @property
    def work_size(self) -> tuple[int, int]:
        """``(width, height)`` the model works at, multiples of 8."""
        return self.work_w, self.work_h


def selected_box(mask: Mask) -> tuple[int, int, int, int] | None:
    """Half-open ``(x0, y0, x1, y1)`` around every pixel with ``mask > 0``; ``None`` if there is none."""
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.max(axis=0) > 0)
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def work_size(width_px: int, height_px: int, native_px: int) -> tuple[int, int]:
    """``(W, H)`` with the longer side ``native_px`` and the aspect ratio kept, both multiples of 8."""
    native = max(SIZE_MULTIPLE_PX, native_px // SIZE_MULTIPLE_PX * SIZE_MULTIPLE_PX)
    scale = native / max(width_px, height_px)

    def side(n: int) -> int:
        return max(SIZE_MULTIPLE_PX, round(n * scale / SIZE_MULTIPLE_PX) * SIZE_MULTIPLE_PX)

    return side(width_px), side(height_px)


def _span(center: float, length: int, limit: int) -> tuple[int, int]:
    """A ``length``-long interval centred on ``center``, shifted to lie inside ``[0, limit)``."""
    length = min(length, limit)
    start = int(math.floor(center - length / 2))
    start = min(max(start, 0), limit - length)
    return start, start + length


def plan_crop(mask: Mask, *, native_px: int, options: CropOptions = DEFAULT_CROP) -> CropPlan:
    """Choose the region the engine works on for ``mask`` (``(H, W)``); raises ``EmptyMask`` if it is empty."""
    height, width = mask.shape
    box = selected_box(mask)
    if box is None:
        raise EmptyMask("nothing selected: the mask is empty; select the area to change first")
    if options.mode == "full":
        return _full_plan(width, height, native_px)
    bx0, by0, bx1, by1 = box
    longer = max(bx1 - bx0, by1 - by0)
    margin = max(options.context_px, round(options.context_fraction * longer))
    side = longer + 2 * margin
    x0, x1 = _span((bx0 + bx1) / 2, side, width)
    y0, y1 = _span((by0 + by1) / 2, side, height)
    # Shifting into the image never uncovers the selection: the span is at least as long as the box.
    x0, x1 = min(x0, bx0), max(x1, bx1)
    y0, y1 = min(y0, by0), max(y1, by1)
    if options.mode == "auto":
        fits_native = max(width, height) <= native_px
        too_large = (x1 - x0) * (y1 - y0) >= options.full_area_fraction * width * height
        if fits_native or too_large:
            return _full_plan(width, height, native_px)
    work_w, work_h = work_size(x1 - x0, y1 - y0, native_px)
    return CropPlan("crop", x0, y0, x1, y1, work_w, work_h)


def _full_plan(width: int, height: int, native_px: int) -> CropPlan:
    work_w, work_h = work_size(width, height, native_px)
    return CropPlan("full", 0, 0, width, height, work_w, work_h)


def cut_image(image: Image, plan: CropPlan) -> PILImage.Image:
    """The plan's region of ``image`` resized to the work size (Lanczos), as an RGB PIL image."""
    region = image[plan.y0 : plan.y1, plan.x0 : plan.x1]
    return PILImage.fromarray(np.ascontiguousarray(region), "RGB").resize(plan.work_size, PILImage.Resampling.LANCZOS)


def cut_mask(mask: Mask, plan: CropPlan, *, grow_px: int = 0) -> PILImage.Image:
    """The model's mask at the work size: 255 where any image pixel under a work pixel has ``mask > 0``.

    Each work pixel covers the image rows ``[floor(i * H / h), floor((i + 1) * H / h))`` (at least
    one row; the same for columns), so no selected pixel is lost when shrinking. ``grow_px`` then
    dilates the result (use the VAE factor, so thin strokes survive the model's downscaling to latents).
    """
    selected = mask[plan.y0 : plan.y1, plan.x0 : plan.x1] > 0
    rows = _cell_starts(selected.shape[0], plan.work_h)
    cols = _cell_starts(selected.shape[1], plan.work_w)
    pooled = np.maximum.reduceat(np.maximum.reduceat(selected, rows, axis=0), cols, axis=1)
    work = PILImage.fromarray(pooled.astype(np.uint8) * 255, "L")
    if grow_px > 0:
        work = work.filter(ImageFilter.MaxFilter(2 * grow_px + 1))
    return work


def _cell_starts(source_px: int, work_px: int) -> np.ndarray:
    """First source index of each of ``work_px`` cells partitioning ``source_px`` pixels."""
    return np.floor(np.arange(work_px) * source_px / work_px).astype(np.intp)


def paste(original: Image, result: Image, mask: Mask, plan: CropPlan) -> Image:
    """Put ``result`` (the model's output at the work size) back into a copy of ``original``.

    ``result`` is resized to the region (Lanczos) and blended through ``mask``: pixels where
    ``mask == 0`` are byte-identical to ``original``; where ``mask == 1`` they are the result.
    """
    if result.shape[:2] != (plan.work_h, plan.work_w):
        raise InvalidInput(f"result is {result.shape[1]}x{result.shape[0]}, expected the work size {plan.work_size}")
    region_w, region_h = plan.region_size
    back = np.asarray(PILImage.fromarray(result, "RGB").resize((region_w, region_h), PILImage.Resampling.LANCZOS))
    out = original.copy()
    orig = original[plan.y0 : plan.y1, plan.x0 : plan.x1].astype(np.float32)
    weight = mask[plan.y0 : plan.y1, plan.x0 : plan.x1, None]
    blended = np.clip(np.rint(orig * (1.0 - weight) + back.astype(np.float32) * weight), 0, 255).astype(np.uint8)
    kept = original[plan.y0 : plan.y1, plan.x0 : plan.x1]
    out[plan.y0 : plan.y1, plan.x0 : plan.x1] = np.where(weight > 0, blended, kept)
    return out
