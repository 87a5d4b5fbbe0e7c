"""Filling a photo's holes one at a time, each on a crop around it: the loop the removal engines
share (classical, exemplar, LaMa). Each engine says how it fills one crop; this finds the holes,
cuts the crops, pastes back hole pixels only (so nothing outside the mask changes) and checks
cancel and reports progress between holes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import Cancelled
from pipeline.inpaint.protocol import CancelFlag, InpaintRequest, ProgressFn
from pipeline.types import Image

MAX_SEPARATE_HOLES = 48
"""Above this many separate holes, one crop around all of them is cheaper than one per hole."""


class FillsEachHole:
    """An engine that fills each hole on its own crop: it sets ``margin`` (context around a hole, a
    fraction of its longer side) and ``min_pad_px``, and defines ``fill_hole``."""

    margin: float
    min_pad_px: int = 16

    def inpaint(
        self,
        request: InpaintRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelFlag | None = None,
    ) -> Image:
        """Fill every pixel where ``request.mask > 0``; other pixels come back unchanged.

        Returns a new ``(H, W, 3)`` uint8 image; ``request.image`` is not modified.
        """
        return fill_each_hole(
            request, self.fill_hole, margin=self.margin, min_pad_px=self.min_pad_px, progress=progress, cancel=cancel
        )

    def fill_hole(self, crop: Image, hole: npt.NDArray[np.bool_]) -> Image:
        """``crop`` (H x W x 3 uint8) with ``hole`` (H x W bool) filled; a new array."""
        raise NotImplementedError


def hole_boxes(hole: npt.NDArray[np.bool_], *, step: int = 4) -> list[tuple[int, int, int, int]]:
    """Bounding boxes ``(x0, y0, x1, y1)`` (x1, y1 exclusive) of the holes, largest first.

    Holes are found on a ``step`` times smaller copy (any hole pixel marks its cell), so holes
    closer than ``step`` px share a box; boxes are rounded outward to whole cells.
    """
    if not hole.any():
        return []
    height, width = hole.shape
    cells = (max(1, -(-width // step)), max(1, -(-height // step)))
    coarse = cv2.resize(hole.view(np.uint8), cells, interpolation=cv2.INTER_AREA) if step > 1 else hole.view(np.uint8)
    if step > 1:  # INTER_AREA averages: any hole pixel makes a cell non-zero unless it rounds away
        coarse = cv2.dilate(coarse, np.ones((2, 2), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats((coarse > 0).view(np.uint8), connectivity=8)
    stats = stats[1:count]
    if len(stats) > MAX_SEPARATE_HOLES or len(stats) == 0:
        ys, xs = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
        return [(int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1)]
    order = np.argsort(-stats[:, cv2.CC_STAT_AREA])
    boxes = []
    for row in stats[order]:
        x, y, w, h = (int(v) * step for v in row[:4])
        boxes.append((x, y, min(width, x + w), min(height, y + h)))
    return boxes


def fill_each_hole(
    request: InpaintRequest,
    fill: Callable[[Image, npt.NDArray[np.bool_]], Image],
    *,
    margin: float,
    min_pad_px: int,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> Image:
    """Fill ``request``'s holes one region at a time, largest first: ``fill(crop, hole)`` gets the
    region's box plus ``margin`` times its size (at least ``min_pad_px``) on each side and returns
    that crop filled. Only hole pixels are pasted back, so every other pixel comes back unchanged;
    holes filled earlier count as known for later ones. Cancel is checked between regions."""
    result = request.image.copy()
    remaining = request.mask > 0
    boxes = hole_boxes(remaining)
    height, width = remaining.shape
    for index, (x0, y0, x1, y1) in enumerate(boxes, start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("inpainting was cancelled; nothing was changed")
        pad = max(min_pad_px, int(math.ceil(margin * max(x1 - x0, y1 - y0))))
        window = (slice(max(0, y0 - pad), min(height, y1 + pad)), slice(max(0, x0 - pad), min(width, x1 + pad)))
        if remaining[y0:y1, x0:x1].any():
            hole = remaining[window]
            np.copyto(result[window], fill(result[window], hole), where=hole[..., None])
            remaining[window] = False
        if progress is not None:
            progress(index, len(boxes))
    return result
