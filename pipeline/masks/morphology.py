"""Shape operations on masks: grow, shrink, fill holes, remove islands.

Radii are exact Euclidean distances between pixel centres: ``grow(mask, r)`` selects every
pixel within ``r`` px of a selected pixel (a dilation by the disc ``x^2 + y^2 <= r^2``), and
``shrink(mask, r)`` keeps the pixels whose whole disc is selected. The work is split into tiles
of 256 px (or 4 r) processed on OpenCV's thread count; a tile is skipped when no value within
``r`` of it could change it (inside or far outside the selection). A binary tile goes through
a distance transform (cost independent of ``r``); a soft tile through a grey-level dilation or
erosion with the same disc (exact, but its cost grows with ``r^2``: grow or shrink before
feathering). Outside the frame counts as neither selected nor unselected: growing never
comes in from the edge, and shrinking never eats away from it.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from pipeline.masks.checks import require_count, require_radius
from pipeline.types import Mask, check_mask


def grow(mask: Mask, radius_px: float) -> Mask:
    """Dilate ``mask`` by a disc of ``radius_px`` pixels (exact Euclidean radius).

    ``mask``: ``(H, W)`` float32 in [0, 1]; ``radius_px`` >= 0 (0 returns a copy). A soft mask
    stays soft (each pixel takes the largest value within the disc). Returns a new mask with
    ``grow(m, r) >= m`` everywhere.
    """
    return _morph(mask, radius_px, growing=True)


def shrink(mask: Mask, radius_px: float) -> Mask:
    """Erode ``mask`` by a disc of ``radius_px`` pixels (exact Euclidean radius).

    ``mask``: ``(H, W)`` float32 in [0, 1]; ``radius_px`` >= 0 (0 returns a copy). A soft mask
    stays soft (each pixel takes the smallest value within the disc). Returns a new mask with
    ``shrink(m, r) <= m`` everywhere; the frame edge does not erode.
    """
    return _morph(mask, radius_px, growing=False)


def disc(radius_px: float) -> np.ndarray:
    """The structuring element of ``grow``/``shrink``: uint8 ``(2k+1, 2k+1)``, ``k = floor(r)``.

    Pixel ``(x, y)`` (offset from the centre) is 1 where ``x^2 + y^2 <= r^2``.
    """
    reach = int(math.floor(radius_px))
    offsets = np.arange(-reach, reach + 1)
    squared = offsets[None, :] ** 2 + offsets[:, None] ** 2
    return (squared <= math.floor(radius_px**2)).astype(np.uint8)


def is_binary(mask: Mask) -> bool:
    """True if every value of ``mask`` is exactly 0 or 1."""
    return not bool(np.any((mask > 0.0) & (mask < 1.0)))


def _morph(mask: Mask, radius_px: float, *, growing: bool) -> Mask:
    """Dilate or erode tile by tile, skipping tiles whose neighbourhood cannot change them."""
    mask = check_mask(mask)
    # No two pixel centres are farther apart than the diagonal: a longer radius changes nothing more,
    # and capping it keeps the disc (and the work) bounded by the mask's size whatever is asked.
    radius = min(require_radius(radius_px), math.hypot(*mask.shape))
    out = np.array(mask, dtype=np.float32, order="C", copy=True)
    if radius < 1.0:  # no other pixel centre lies within the disc
        return out
    reach = int(math.floor(radius))
    tile = max(_TILE_PX, 4 * reach)
    work = _tiles_to_process(out, tile, reach, growing=growing)
    kernel = disc(radius)

    def process(index: tuple[int, int]) -> None:
        rows, cols = _tile_slices(index, tile, out.shape)
        padded_rows, padded_cols = _padded(rows, out.shape[0], reach), _padded(cols, out.shape[1], reach)
        crop = mask[padded_rows, padded_cols]
        result = _morph_crop(np.ascontiguousarray(crop), radius, kernel, growing=growing)
        inner = (
            slice(rows.start - padded_rows.start, rows.stop - padded_rows.start),
            slice(cols.start - padded_cols.start, cols.stop - padded_cols.start),
        )
        out[rows, cols] = result[inner]

    if len(work) > 1:
        with ThreadPoolExecutor(max_workers=max(1, cv2.getNumThreads())) as pool:
            list(pool.map(process, work))  # OpenCV releases the GIL; tiles write disjoint regions
    else:
        for index in work:
            process(index)
    return out


_TILE_PX = 256


def _tile_slices(index: tuple[int, int], tile: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    row, col = index
    return slice(row * tile, min((row + 1) * tile, shape[0])), slice(col * tile, min((col + 1) * tile, shape[1]))


def _padded(span: slice, size: int, reach: int) -> slice:
    return slice(max(0, span.start - reach), min(size, span.stop + reach))


def _tiles_to_process(mask: Mask, tile: int, reach: int, *, growing: bool) -> list[tuple[int, int]]:
    """Tiles where some value within ``reach`` px is larger (grow) or smaller (shrink) than one inside.

    Elsewhere a dilation (erosion) cannot change any pixel of the tile, so it is skipped.
    """
    row_starts = np.arange(0, mask.shape[0], tile)
    col_starts = np.arange(0, mask.shape[1], tile)
    lows = np.minimum.reduceat(np.stack([mask[r : r + tile].min(axis=0) for r in row_starts]), col_starts, axis=1)
    highs = np.maximum.reduceat(np.stack([mask[r : r + tile].max(axis=0) for r in row_starts]), col_starts, axis=1)
    span = 2 * math.ceil(reach / tile) + 1
    around = np.ones((span, span), np.uint8)
    changes = cv2.dilate(highs, around) > lows if growing else cv2.erode(lows, around) < highs
    return [(int(r), int(c)) for r, c in zip(*np.nonzero(changes), strict=True)]


def _morph_crop(crop: Mask, radius: float, kernel: np.ndarray, *, growing: bool) -> np.ndarray:
    """Dilate/erode one crop: a distance transform if it is binary, else a grey-level disc filter."""
    if not is_binary(crop):
        return cv2.dilate(crop, kernel) if growing else cv2.erode(crop, kernel)
    selected = crop > 0.5
    # Pixels at distance d qualify when d^2 <= floor(r^2); the 0.5 margin absorbs float error.
    limit = math.sqrt(math.floor(radius**2) + 0.5)
    if growing:  # distance of every unselected pixel to the nearest selected one
        distance = cv2.distanceTransform((~selected).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        return distance <= limit
    # distance of every selected pixel to the nearest unselected one
    distance = cv2.distanceTransform(selected.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return distance > limit


def fill_holes(mask: Mask, *, max_hole_px: int | None = None) -> Mask:
    """Select the holes of ``mask``: unselected regions that do not reach the frame.

    The mask is read at 0.5 (selected where ``mask >= 0.5``); a hole is a 4-connected region
    of unselected pixels that touches no edge of the image (the complement of 8-connected
    objects). Hole pixels become 1, every other pixel keeps its value, so soft edges stay
    soft. ``max_hole_px``: only fill holes of at most this many pixels (None: all).
    Returns a new ``(H, W)`` float32 mask.
    """
    mask = check_mask(mask)
    if max_hole_px is not None:
        max_hole_px = require_count(max_hole_px, "max_hole_px")
    background = (mask < 0.5).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(background, connectivity=4, ltype=cv2.CV_32S)
    is_hole = np.ones(count, dtype=bool)
    is_hole[0] = False  # label 0: the selected pixels
    for edge in (labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]):
        is_hole[np.unique(edge)] = False
    if max_hole_px is not None:
        is_hole &= stats[:, cv2.CC_STAT_AREA] <= max_hole_px
    out = np.array(mask, dtype=np.float32, copy=True)
    if is_hole.any():
        out[is_hole[labels]] = 1.0
    return out


def remove_islands(mask: Mask, min_area_px: int) -> Mask:
    """Drop the islands of ``mask`` smaller than ``min_area_px`` pixels.

    An island is an 8-connected region of pixels with ``mask > 0``; its area is the number of
    its pixels with ``mask >= 0.5``. Islands with area < ``min_area_px`` are set to 0 entirely
    (soft fringe included); the rest keep their values. ``min_area_px`` 0 or 1 removes only
    islands that are nowhere >= 0.5 (0 removes nothing). Returns a new ``(H, W)`` float32 mask.
    """
    mask = check_mask(mask)
    min_area = require_count(min_area_px, "min_area_px")
    out = np.array(mask, dtype=np.float32, copy=True)
    if min_area == 0:
        return out
    support = (mask > 0.0).view(np.uint8)
    count, labels = cv2.connectedComponents(support, connectivity=8, ltype=cv2.CV_32S)
    area = np.bincount(labels[mask >= 0.5], minlength=count)
    drop = area < min_area
    drop[0] = False  # label 0: pixels that are already 0
    if drop.any():
        out[drop[labels]] = 0.0
    return out
