"""Extend the canvas (outpainting): add pixels on any side, or grow to an aspect ratio.

The new area, plus a feathered overlap of ``overlap_px`` into the original's border, is the
mask of the edit. The promise, in this op's terms: on the new canvas, pixels where that mask
is 0 (the original image, except its outer ``overlap_px`` band next to a new side) are
byte-identical to the input image, shifted by the padding.

A diffusion engine paints the new area from the prompt. The classical engine extends the
edges: the border is mirrored outward and blurred more the farther it goes, so texture and
colour continue near the seam and settle into soft colour far from it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline import masks
from pipeline.edits.remove import EditResult, keep_outside, read_only, run_engine
from pipeline.errors import InvalidInput
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.inpaint.protocol import DEFAULT_PROMPTING, CancelFlag, Inpainter, InpaintRequest, ProgressFn, Prompting
from pipeline.limits import MAX_EXTEND_FACTOR
from pipeline.types import Image, Mask, check_image

log = logging.getLogger(__name__)

MAX_GROWTH = MAX_EXTEND_FACTOR
"""A side may grow by at most this many times the image's size along that axis."""


@dataclass(frozen=True)
class Padding:
    """Pixels to add on each side (>= 0; at least one side > 0)."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0

    def __post_init__(self) -> None:
        sides = (self.left, self.right, self.top, self.bottom)
        if any(not isinstance(v, (int, np.integer)) or v < 0 for v in sides):
            raise InvalidInput(f"padding {sides} must be whole pixels >= 0 (left, right, top, bottom)")
        if not any(sides):
            raise InvalidInput("nothing to extend: give at least one side a positive number of pixels")


def parse_aspect(text: str) -> tuple[int, int]:
    """``"16:9"`` -> ``(16, 9)``; raises ``InvalidInput`` for anything else."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*[:x/]\s*(\d{1,4})\s*", text)
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        raise InvalidInput(f"aspect {text!r} is not W:H with positive whole numbers, such as 1:1, 4:5 or 16:9")
    return int(match.group(1)), int(match.group(2))


def padding_for_aspect(size: tuple[int, int], aspect: tuple[int, int]) -> Padding:
    """The padding that extends a ``(width, height)`` image to ``aspect`` (W, H), centred.

    Only adds pixels: a wider target adds left and right, a taller one top and bottom.
    Raises ``InvalidInput`` when the image already has that aspect ratio.
    """
    width, height = size
    target = aspect[0] / aspect[1]
    if abs(width / height - target) * height < 1:
        raise InvalidInput(f"the image ({width}x{height}) already has aspect {aspect[0]}:{aspect[1]}")
    if width / height < target:
        extra = round(height * target) - width
        return Padding(left=extra // 2, right=extra - extra // 2)
    extra = round(width / target) - height
    return Padding(top=extra // 2, bottom=extra - extra // 2)


def prepare_canvas(image: Image, padding: Padding, *, overlap_px: int = 16) -> tuple[Image, Mask]:
    """The extended canvas (edges mirrored outward and blurred) and the mask of the edit.

    The mask is 1 on the new area and ramps down to 0 over ``overlap_px`` inside the original,
    next to each extended side only. Returns ``(canvas (H', W', 3) uint8, mask (H', W') float32)``.
    """
    check_image(image)
    height, width = image.shape[:2]
    if padding.left + padding.right > MAX_GROWTH * width or padding.top + padding.bottom > MAX_GROWTH * height:
        raise InvalidInput(f"padding {padding} grows the {width}x{height} image more than {MAX_GROWTH} times")
    if not 0 <= overlap_px <= 256:
        raise InvalidInput(f"overlap is {overlap_px} px; use 0 to 256")
    canvas = extend_edges(image, padding)
    new = np.ones(canvas.shape[:2], np.float32)
    inner = (slice(padding.top, padding.top + height), slice(padding.left, padding.left + width))
    new[inner] = 0.0
    mask = _overlap(new, padding, overlap_px, (height, width))
    return canvas, mask


def _overlap(new: Mask, padding: Padding, overlap_px: int, size: tuple[int, int]) -> Mask:
    """``new`` plus a ramp into the original next to each extended side (0 where none is wanted)."""
    if overlap_px == 0:
        return new
    height, width = size
    grown = masks.feather(masks.grow(new, overlap_px / 2), overlap_px)
    inner = (slice(padding.top, padding.top + height), slice(padding.left, padding.left + width))
    # The ramp stays within overlap_px of an extended side.
    ys, xs = np.mgrid[0:height, 0:width]
    near = np.zeros((height, width), bool)
    for pad, distance in ((padding.left, xs), (padding.right, width - 1 - xs),
                          (padding.top, ys), (padding.bottom, height - 1 - ys)):  # fmt: skip
        if pad:
            near |= distance < overlap_px
    part = np.where(near, grown[inner], 0.0)
    out = new.copy()
    out[inner] = part
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def extend_edges(image: Image, padding: Padding) -> Image:
    """Mirror the border outward and blur it more with distance (the classical extension)."""
    p = padding
    height, width = image.shape[:2]
    # Reflection needs the image to be longer than the padding; beyond that, repeat the edge.
    fits = max(p.top, p.bottom) < height and max(p.left, p.right) < width
    border = cv2.BORDER_REFLECT_101 if fits else cv2.BORDER_REPLICATE
    mirrored = np.asarray(cv2.copyMakeBorder(image, p.top, p.bottom, p.left, p.right, border), np.uint8)
    total_h, total_w = mirrored.shape[:2]
    ys, xs = np.mgrid[0:total_h, 0:total_w].astype(np.float32)
    dx = np.maximum(np.maximum(p.left - xs, xs - (p.left + width - 1)), 0)
    dy = np.maximum(np.maximum(p.top - ys, ys - (p.top + height - 1)), 0)
    distance = np.hypot(dx, dy)
    out = mirrored.astype(np.float32)
    reach = max(p.left, p.right, p.top, p.bottom, 1)
    for sigma in (2.0, 6.0, 18.0, 54.0):
        if sigma > reach:
            break
        blurred = _blur(mirrored, sigma)
        weight = np.clip(distance / (2.0 * sigma) - 0.5, 0.0, 1.0)[..., None]
        out = out * (1.0 - weight) + blurred * weight
    result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    result[p.top : p.top + height, p.left : p.left + width] = image
    return result


def _blur(image: Image, sigma: float) -> np.ndarray:
    """Gaussian blur (float32), at a reduced scale for large sigmas."""
    scale = min(1.0, 4.0 / sigma)
    if scale >= 1.0:
        return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT).astype(np.float32)
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), sigma * scale, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def extend_canvas(
    image: Image,
    padding: Padding,
    inpainter: Inpainter,
    *,
    overlap_px: int = 16,
    prompting: Prompting = DEFAULT_PROMPTING,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> EditResult:
    """Add ``padding`` around ``image`` and fill it (see the module docstring).

    The classical engine (``ClassicInpainter``) uses the mirrored, blurred extension; any other
    engine inpaints the canvas under the mask, starting from that extension. The result's
    ``mask`` is the edit's mask on the new canvas.
    """
    canvas, mask = prepare_canvas(image, padding, overlap_px=overlap_px)
    if isinstance(inpainter, ClassicInpainter):
        # The canvas already is the classical extension; the overlap band blends it in.
        out = keep_outside(_placed(image, padding, canvas), canvas, mask)
        return EditResult(out, mask, inpainter.name)
    request = InpaintRequest(read_only(canvas), read_only(mask), prompting)
    out = run_engine(inpainter, request, progress=progress, cancel=cancel)
    return EditResult(out, mask, inpainter.name)


def _placed(image: Image, padding: Padding, canvas: Image) -> Image:
    """``canvas`` with ``image`` placed at the padding offset (what 'unchanged' refers to)."""
    out = canvas.copy()
    height, width = image.shape[:2]
    out[padding.top : padding.top + height, padding.left : padding.left + width] = image
    return out
