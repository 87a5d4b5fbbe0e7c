"""The classical inpainting engine: no weights, fast on large photos.

``cv2.inpaint`` (Telea) marches pixel by pixel over the hole, so on a 12 MP photo with a large
hole it takes many seconds and smears long streaks. This engine fills each hole coarse to fine:

1. Each connected hole is handled in its own crop (its bounding box plus a margin), so the cost
   follows the hole, not the photo.
2. The crop is shrunk until it is at most ``coarse_side_px`` on its longer side; Telea fills the
   hole there, where it is cheap and its streaks are short.
3. The coarse fill is enlarged back to full size. It carries the low frequencies; the detail the
   shrinking lost is restored at the hole's rim: the difference between the full-size known
   pixels and the enlarged coarse image is spread into the hole by push-pull interpolation
   (``smooth_fill``), so the fill meets the surrounding pixels without a seam.

The engine fills every pixel where the mask is above 0; callers blend the result through the
(soft) mask with ``pipeline.edits.remove.keep_outside``, which keeps pixels where the mask is 0 exact.
Prompts, seeds, steps and guidance are ignored; every strength is treated as 1.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import InvalidInput
from pipeline.inpaint.holes import FillsEachHole
from pipeline.types import Image

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]

DETAIL_SIDE_PX = 1024
"""Longest side of the level where the fill is matched to the known pixels' detail."""


def smooth_fill(values: Floats, known: Floats) -> Floats:
    """Fill unknown pixels of ``values`` smoothly from the known ones (push-pull interpolation).

    ``values``: ``(H, W)`` or ``(H, W, C)`` float32. ``known``: ``(H, W)`` float32 weights in
    [0, 1] (1 = trust the value, 0 = fill it). Known pixels are kept; unknown ones get a smooth,
    distance-weighted blend of the known values around them (like a membrane, in O(H*W)).
    With no known pixel at all the result is zero. Returns a new float32 array of ``values``' shape.
    """
    if known.shape != values.shape[:2]:
        raise InvalidInput(f"known weights are {known.shape} but the values are {values.shape[:2]}")
    squeeze = values.ndim == 2
    vals = (values[..., None] if squeeze else values).astype(np.float32)
    weight = np.clip(known, 0.0, 1.0).astype(np.float32)
    if not weight.any():
        return np.zeros_like(values, dtype=np.float32)
    binary = bool(np.all((weight == 0) | (weight == 1)))
    weighted = vals * weight[..., None] if not binary else np.where(weight[..., None] > 0, vals, 0).astype(np.float32)
    filled = _push_pull(weighted, weight, binary=binary)
    return filled[..., 0] if squeeze else filled


def _push_pull(weighted: Floats, weight: Floats, *, binary: bool = False) -> Floats:
    """Push-pull on premultiplied ``weighted`` (H, W, C) and ``weight`` (H, W) in [0, 1].

    ``binary`` says every weight is 0 or 1, which allows a cheaper final blend at this level.
    """
    h, w = weight.shape
    if max(h, w) <= 2:
        total = max(float(weight.sum()), 1e-6)
        mean = weighted.reshape(-1, weighted.shape[2]).sum(axis=0) / total
        out = weighted / np.maximum(weight, 1e-6)[..., None]
        return np.where(weight[..., None] > 0, out, mean[None, None, :]).astype(np.float32)
    size = (max(1, (w + 1) // 2), max(1, (h + 1) // 2))
    small_weighted = _resize(weighted, size, cv2.INTER_AREA)
    small_weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    # A coarse pixel is fully trusted once a quarter of its footprint is known.
    trust = np.minimum(1.0, 4.0 * small_weight)
    scale = trust / np.maximum(small_weight, 1e-6)
    coarse = _push_pull(small_weighted * scale[..., None], trust)
    up = _resize(coarse, (w, h), cv2.INTER_LINEAR)
    if binary:  # known pixels keep their value (weighted == value there), the rest take ``up``
        np.copyto(up, weighted, where=weight[..., None] > 0)
        return up
    # weight * colour + (1 - weight) * up, with weight * colour == weighted
    return (weighted + (1.0 - weight[..., None]) * up).astype(np.float32)


def _resize(array: Floats, size: tuple[int, int], interpolation: int) -> Floats:
    """``cv2.resize`` that keeps a trailing channel axis of length 1 (cv2 drops it)."""
    out = cv2.resize(array, size, interpolation=interpolation)
    return np.asarray(out, np.float32).reshape(size[1], size[0], -1)


class ClassicInpainter(FillsEachHole):
    """Coarse-to-fine Telea with push-pull detail matching (see the module docstring).

    - ``coarse_side_px``: longest side of a hole's crop at the coarse level (64 to 2048).
    - ``radius_px``: Telea's neighbourhood radius at the coarse level.
    - ``margin``: context around a hole, as a fraction of the hole's longer side (at least 8 px).
    """

    name = "classic"
    min_pad_px = 8

    def __init__(self, *, coarse_side_px: int = 256, radius_px: int = 5, margin: float = 0.25) -> None:
        if not 64 <= coarse_side_px <= 2048:
            raise InvalidInput(f"coarse_side_px is {coarse_side_px}; use 64 to 2048 (256 is the default)")
        if not 1 <= radius_px <= 50:
            raise InvalidInput(f"radius_px is {radius_px}; use 1 to 50 (5 is the default)")
        if not 0.0 <= margin <= 4.0:
            raise InvalidInput(f"margin is {margin}; use 0 to 4 (a fraction of the hole's size)")
        self.coarse_side_px = coarse_side_px
        self.radius_px = radius_px
        self.margin = margin

    def fill_hole(self, crop: Image, hole: npt.NDArray[np.bool_]) -> Image:
        """Fill ``hole`` (bool, H x W) in ``crop`` (H x W x 3 uint8); returns a new crop."""
        height, width = hole.shape
        if hole.all():  # the hole covers the whole crop: nothing to extend from
            return np.full_like(crop, 127)
        if max(height, width) <= self.coarse_side_px:
            return _telea(crop, hole, self.radius_px)
        hole_u8 = np.ascontiguousarray(hole).view(np.uint8)
        known_only = np.zeros_like(crop)
        cv2.copyTo(crop, 1 - hole_u8, known_only)
        # Working level (at most DETAIL_SIDE_PX): where the fill is matched to the known detail.
        step = -(-max(height, width) // DETAIL_SIDE_PX)
        # Shrinking in uint8 rounds each cell's sum; the error (<= 0.5 / known share) stays small.
        known_only, known_u8 = _pad_to(known_only, step), _pad_to((1 - hole_u8) * np.uint8(255), step)
        work_size = (known_u8.shape[1] // step, known_u8.shape[0] // step)
        known = cv2.resize(known_u8, work_size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        total = cv2.resize(known_only, work_size, interpolation=cv2.INTER_AREA).astype(np.float32)
        colour = total / np.maximum(known, 1e-3)[..., None]
        # Coarse level (at most coarse_side_px): where Telea draws the structure.
        factor = -(-max(colour.shape[:2]) // self.coarse_side_px)
        small, small_known = _shrink_known(colour * known[..., None], known, factor)
        # A coarse pixel is unknown unless all of its footprint is known (the object bleeds in).
        small_hole = cv2.erode((small_known >= 0.999).view(np.uint8), np.ones((3, 3), np.uint8)) == 0
        coarse = _telea(np.clip(small + 0.5, 0, 255).astype(np.uint8), small_hole, self.radius_px)
        base = _resize(coarse.astype(np.float32), (small.shape[1] * factor, small.shape[0] * factor), cv2.INTER_LINEAR)
        base = base[: work_size[1], : work_size[0]]
        detail = smooth_fill(colour - base, known)
        filled = np.clip(base + detail + 0.5, 0, 255).astype(np.uint8)
        if step > 1:
            filled = cv2.resize(filled, (work_size[0] * step, work_size[1] * step), interpolation=cv2.INTER_LINEAR)
        out = crop.copy()
        cv2.copyTo(np.ascontiguousarray(filled[:height, :width]), hole_u8, out)
        return out


def _shrink_known(premultiplied: Floats, known: Floats, factor: int) -> tuple[Floats, Floats]:
    """Shrink by the integer ``factor``: (mean colour of each cell's known pixels, known share).

    ``premultiplied``: (H, W, C) float32 colours times ``known``; ``known``: (H, W) in [0, 1].
    Edges are padded by replication to a multiple of ``factor`` (so cv2's exact area path runs).
    Cells without a known pixel get colour 0.
    """
    if factor == 1:
        colour = premultiplied / np.maximum(known, 1e-3)[..., None]
        return colour.astype(np.float32), known
    premultiplied, known = _pad_to(premultiplied, factor), _pad_to(known, factor)
    size = (known.shape[1] // factor, known.shape[0] // factor)
    share = cv2.resize(known, size, interpolation=cv2.INTER_AREA)
    total = _resize(premultiplied, size, cv2.INTER_AREA)
    colour = total / np.maximum(share, 1e-3)[..., None]
    return colour.astype(np.float32), np.asarray(share, np.float32)


def _pad_to(array: np.ndarray, factor: int) -> np.ndarray:
    """Pad the bottom and right edges by replication to multiples of ``factor`` (no copy if none)."""
    pad_y, pad_x = (-array.shape[0]) % factor, (-array.shape[1]) % factor
    if not (pad_y or pad_x):
        return array
    padded = cv2.copyMakeBorder(array, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    return padded.reshape(padded.shape[0], padded.shape[1], *array.shape[2:])


def _telea(image: Image, hole: npt.NDArray[np.bool_], radius_px: int) -> Image:
    """``cv2.inpaint`` (Telea) in RGB; cv2 does not care about channel order here."""
    if not hole.any():
        return image.copy()
    filled = cv2.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8), radius_px, cv2.INPAINT_TELEA)
    return np.asarray(filled, np.uint8)
