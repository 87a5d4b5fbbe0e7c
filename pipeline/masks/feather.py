"""Feathering: a Gaussian blur of a mask, fast for large radii.

``feather(mask, radius_px)`` blurs with a Gaussian of ``sigma = radius_px / 2`` pixels, the
mask mirrored at the frame (``cv2.BORDER_REFLECT``: a selection touching the edge of the
photo stays selected up to the edge). Radii under 16 px are an exact Gaussian (OpenCV's,
truncated at 4 sigma). Larger radii go through a pyramid and differ from the true Gaussian by
at most about 1.5/255 on ordinary masks (discs, squares, noise; 0.5/255 at 64 px), measured
in ``tests/pipeline/masks/test_masks.py`` and printed by ``bench/masks.py``; the worst case we know of is
about 6/255 at 16 px, for gratings of one-pixel lines about 2 px apart, whose moire the first
area halving cannot fully remove.

How it is fast: for ``sigma`` >= 8 px the mask is shrunk by ``2**L`` (``L`` >= 2)
with area averaging (several halvings at once while the box is under ``sigma / 8``, then a
[1, 2, 1] / 4 filter before each further halving to suppress aliasing), blurred there with
the remaining sigma, clamped to [0, 1] and brought back to full size with bilinear
interpolation. The variances of the area boxes, the [1, 2, 1] filters and the bilinear kernel
are subtracted from ``sigma**2``, so the result has the requested width; ``L`` keeps 2 to 8
low-resolution samples per sigma, which keeps the interpolation error under 1.5/255. No banding
(float32 throughout) and no ringing: every stage is a positive kernel, so the output is a
convex combination of input values. Full-resolution work is one area shrink (a read) and
one bilinear upsampling (a write); everything else runs on 1/4 of the pixels or fewer.
"""

from __future__ import annotations

import math
from typing import cast

import cv2
import numpy as np

from pipeline.masks.checks import require_radius
from pipeline.types import Mask, check_mask

BORDER = cv2.BORDER_REFLECT
"""Border rule of ``feather`` (the mask mirrored at the frame, edge pixel repeated)."""

_MIN_PYRAMID_SIGMA = 8.0  # below this, a direct Gaussian at full resolution
_SAMPLES_PER_SIGMA = 4.0  # deeper levels once the low-resolution sigma exceeds this
_MIN_SIDE = 8  # never halve below this many samples on the short side
_BINOMIAL = np.array([0.25, 0.5, 0.25], dtype=np.float32)  # variance 1/2 sample^2


def gaussian_sigma(radius_px: float) -> float:
    """The Gaussian sigma, in pixels, that ``feather(mask, radius_px)`` uses: ``radius_px / 2``."""
    return require_radius(radius_px) / 2.0


def feather(mask: Mask, radius_px: float) -> Mask:
    """Soften the edges of ``mask`` by ``radius_px`` pixels (Gaussian, ``sigma = radius_px / 2``).

    ``mask``: ``(H, W)`` float32 in [0, 1]. ``radius_px``: >= 0, any size (0 returns a copy;
    the UI offers 0 to 64 and more). Returns a new ``(H, W)`` float32 mask in [0, 1]; regions
    farther than about ``2 * radius_px`` from any edge keep their value. The frame mirrors the
    mask (see ``BORDER``). Raises ``InvalidInput`` for a bad mask or a negative radius.
    """
    mask = check_mask(mask)
    return gaussian_feather(np.ascontiguousarray(mask), gaussian_sigma(radius_px))


def feather_outward(mask: Mask, radius_px: float) -> Mask:
    """``feather`` that only adds: ``max(mask, feather(mask, radius_px))``.

    Every pixel keeps at least its value, so what the mask fully selects stays fully selected and
    the soft band lies outside the selection. This is Stencil's one meaning of "feather" in the
    page, the CLI and recipes (``pipeline.recipe.Refine``).
    """
    mask = check_mask(mask)
    if require_radius(radius_px) == 0:
        return mask.copy()
    return np.maximum(mask, gaussian_feather(np.ascontiguousarray(mask), gaussian_sigma(radius_px)))


def gaussian_feather(mask: Mask, sigma: float) -> Mask:
    """``feather`` for a C-contiguous ``(H, W)`` float32 mask and ``sigma`` >= 0 px.

    No input checks: the caller has checked that the values are in [0, 1].
    """
    if sigma == 0.0:
        return mask.copy()
    levels = pyramid_levels(sigma, mask.shape)
    if levels == 0:
        out = cast(Mask, cv2.GaussianBlur(mask, (0, 0), sigma, borderType=BORDER))
        return np.clip(out, 0.0, 1.0, out=out)
    return _blur_through_pyramid(mask, sigma, levels)


def pyramid_levels(sigma: float, shape: tuple[int, ...]) -> int:
    """How many times ``feather`` halves a mask of ``shape`` (H, W) for a blur of ``sigma`` px.

    0 means a direct Gaussian at full resolution (``sigma`` < 8 px, or a tiny mask).
    """
    if sigma < _MIN_PYRAMID_SIGMA:
        return 0
    levels = max(2, int(math.floor(math.log2(sigma / _SAMPLES_PER_SIGMA))))
    short_side = min(shape[0], shape[1])
    while levels > 0 and short_side / 2**levels < _MIN_SIDE:
        levels -= 1
    return levels


def _shrink_by(array: np.ndarray, factor: int) -> np.ndarray:
    """Divide both sides by ``factor`` with area averaging (partial blocks round up)."""
    height, width = array.shape
    size = (-(-width // factor), -(-height // factor))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def _blur_through_pyramid(mask: Mask, sigma: float, levels: int) -> Mask:
    """Area-shrink by ``2**levels``, blur with the remaining sigma, clamp, upsample bilinearly.

    The first shrink takes several halvings at once while the box stays under ``sigma / 8``
    (its aliasing is then below 2/255); each later halving is preceded by a [1, 2, 1] filter.
    """
    height, width = mask.shape
    first = max(1, min(levels, int(math.floor(math.log2(sigma / 8.0))) if sigma >= 16.0 else 1))
    small = _shrink_by(mask, 2**first)
    extra_x = extra_y = 0.0  # variance, in full-resolution px^2, added by the [1, 2, 1] filters
    for _ in range(first, levels):
        step_x, step_y = width / small.shape[1], height / small.shape[0]
        small = cv2.sepFilter2D(small, -1, _BINOMIAL, _BINOMIAL, borderType=BORDER)
        extra_x += 0.5 * step_x**2
        extra_y += 0.5 * step_y**2
        small = _shrink_by(small, 2)
    step_x, step_y = width / small.shape[1], height / small.shape[0]
    # An area box of width s adds s^2 / 12, bilinear upsampling s^2 / 6: s^2 / 4 in all.
    sigma_x = math.sqrt(max(sigma**2 - extra_x - step_x**2 / 4.0, 0.0)) / step_x
    sigma_y = math.sqrt(max(sigma**2 - extra_y - step_y**2 / 4.0, 0.0)) / step_y
    small = cv2.GaussianBlur(small, (0, 0), sigma_x, sigmaY=sigma_y, borderType=BORDER)
    np.clip(small, 0.0, 1.0, out=small)
    return cast(Mask, cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))
