"""Pure mask operations: sources, refinement and metrics, all on one mask type.

A mask is an ``(H, W)`` float32 array in [0, 1]; 1 means "selected / change this". Every
function here returns a new array and never modifies its inputs. Bad input raises
``InvalidInput`` (``SizeMismatch`` for two arrays of different sizes) with a message that
says what to do.

- Sources: ``from_alpha``, ``from_gray``, ``from_labels``, ``from_color``, ``from_luminance``
  (in ``pipeline.masks.sources``).
- Refine: ``invert``, ``grow``, ``shrink`` (``pipeline.masks.morphology``), ``feather``
  (``pipeline.masks.feather``), ``fill_holes``, ``remove_islands``, ``combine``, ``threshold``.
- Measure: ``bounding_box``, ``area_px``, ``iou``, ``sad``.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from pipeline.errors import InvalidInput
from pipeline.masks.checks import require_level
from pipeline.masks.feather import feather, feather_outward, gaussian_sigma
from pipeline.masks.morphology import fill_holes, grow, remove_islands, shrink
from pipeline.masks.sources import (
    DEFAULT_COLOR_TOLERANCE,
    from_alpha,
    from_color,
    from_gray,
    from_labels,
    from_luminance,
)
from pipeline.types import Box, Mask, check_mask, check_same_size

__all__ = [
    "DEFAULT_COLOR_TOLERANCE",
    "COMBINE_MODES",
    "CombineMode",
    "area_px",
    "bounding_box",
    "combine",
    "feather",
    "feather_outward",
    "fill_holes",
    "from_alpha",
    "from_color",
    "from_gray",
    "from_labels",
    "from_luminance",
    "gaussian_sigma",
    "grow",
    "invert",
    "iou",
    "remove_islands",
    "sad",
    "shrink",
    "threshold",
]

CombineMode = Literal["add", "subtract", "intersect", "replace"]
COMBINE_MODES: tuple[CombineMode, ...] = get_args(CombineMode)


def invert(mask: Mask) -> Mask:
    """``1 - mask``: select what was not selected. ``(H, W)`` float32 in [0, 1] in and out.

    Exact on binary masks and on values >= 0.5; elsewhere ``invert(invert(m))`` may differ
    from ``m`` by float32 rounding (at most 2**-24).
    """
    mask = check_mask(mask)
    return np.float32(1.0) - mask


def threshold(mask: Mask, level: float = 0.5) -> Mask:
    """A binary mask: 1 where ``mask >= level`` (``level`` in [0, 1]), else 0."""
    mask = check_mask(mask)
    return (mask >= require_level(level)).astype(np.float32)


def combine(base: Mask, other: Mask, mode: CombineMode) -> Mask:
    """Combine two masks of the same size pixel by pixel (fuzzy set operations).

    ``"add"``: ``max(base, other)`` (union); ``"subtract"``: ``min(base, 1 - other)``;
    ``"intersect"``: ``min(base, other)``; ``"replace"``: a copy of ``other``.
    Raises ``InvalidInput`` for another mode, ``SizeMismatch`` for different sizes.
    """
    if mode not in COMBINE_MODES:
        raise InvalidInput(f"unknown combine mode {mode!r}; use one of {', '.join(COMBINE_MODES)}")
    base = check_mask(base, "base mask")
    other = check_mask(other, "other mask")
    check_same_size(base, other, "base mask", "other mask")
    if mode == "add":
        return np.maximum(base, other)
    if mode == "subtract":
        return np.minimum(base, np.float32(1.0) - other)
    if mode == "intersect":
        return np.minimum(base, other)
    return other.copy()


def area_px(mask: Mask, *, level: float = 0.5) -> int:
    """The number of selected pixels: those with ``mask >= level`` (default 0.5)."""
    mask = check_mask(mask)
    return int(np.count_nonzero(mask >= require_level(level)))


def bounding_box(mask: Mask, *, level: float = 0.5) -> Box | None:
    """The smallest box holding every pixel with ``mask >= level``, or None if there is none.

    In pixels: ``x0, y0`` is the first selected column and row, ``x1, y1`` one past the last
    (so ``x1 - x0`` is the width in pixels, and ``mask[y0:y1, x0:x1]`` the cropped selection).
    """
    mask = check_mask(mask)
    selected = mask >= require_level(level)
    columns = np.flatnonzero(selected.any(axis=0))
    if columns.size == 0:
        return None
    rows = np.flatnonzero(selected[:, columns[0] : columns[-1] + 1].any(axis=1))
    return Box(float(columns[0]), float(rows[0]), float(columns[-1] + 1), float(rows[-1] + 1))


def iou(mask: Mask, reference: Mask, *, ignore: np.ndarray | None = None) -> float:
    """Intersection over union of ``mask`` and ``reference``, both read at 0.5, in [0, 1].

    Both are ``(H, W)`` float32 in [0, 1] (selected where ``>= 0.5``). ``ignore``: an
    optional ``(H, W)`` bool array of pixels left out of the count (for example the
    unlabeled band, value 128, of the GrabCut ground truth). Two empty masks score 1.0.
    """
    mask = check_mask(mask)
    reference = check_mask(reference, "reference")
    check_same_size(mask, reference, "mask", "reference")
    predicted, truth = mask >= 0.5, reference >= 0.5
    if ignore is not None:
        if not isinstance(ignore, np.ndarray) or ignore.dtype != np.bool_:
            raise InvalidInput(f"ignore must be an (H, W) bool array, got {getattr(ignore, 'dtype', type(ignore))}")
        check_same_size(ignore, mask, "ignore", "mask")
        keep = ~ignore
        predicted, truth = predicted & keep, truth & keep
    union = int(np.count_nonzero(predicted | truth))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(predicted & truth)) / union


def sad(mask: Mask, alpha: Mask) -> float:
    """Sum of absolute differences between ``mask`` and a true ``alpha``, both in [0, 1].

    The unit is "fully wrong pixels": one pixel that is 1 where it should be 0 adds 1.0.
    alphamatting.com tables report this divided by 1000 (``sad(...) / 1000``).
    """
    mask = check_mask(mask)
    alpha = check_mask(alpha, "alpha")
    check_same_size(mask, alpha, "mask", "alpha")
    return float(np.abs(mask - alpha).sum(dtype=np.float64))
