"""Click simulation: the standard interactive-segmentation protocol and its metrics.

The protocol (as in the published GrabCut comparisons): the first click goes to the interior
point of the object farthest from its boundary; each next click goes to the interior point of
the largest error region (positive where object was missed, negative where background was
selected), farthest from that region's boundary. A run stops once the target IoU is reached
(after at least the clicks needed for ``mIoU@k``) or after ``max_clicks``; a sample that never
reaches a target counts ``max_clicks`` for it.

Ground truth is a boolean object mask plus an optional boolean ``ignore`` mask (the unlabeled
band of the GrabCut masks, value 128); ignored pixels count neither as errors nor in IoU.
Everything here is backend-agnostic: it takes any ``Segmenter``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import InvalidInput
from pipeline.select.protocol import Segmenter, Selection
from pipeline.types import Point

log = logging.getLogger(__name__)

DEFAULT_MAX_CLICKS = 20
NOC_TARGETS = (0.85, 0.90)
MIOU_CLICKS = (1, 5)


@dataclass(frozen=True)
class ClickCurve:
    """IoU after each simulated click of one image: ``ious[k - 1]`` is the IoU after ``k`` clicks."""

    name: str
    ious: tuple[float, ...]
    max_clicks: int = DEFAULT_MAX_CLICKS

    def noc(self, target: float) -> int:
        """Clicks needed to reach ``target`` IoU; ``max_clicks`` when never reached."""
        for k, value in enumerate(self.ious, start=1):
            if value >= target:
                return k
        return self.max_clicks

    def iou_at(self, clicks: int) -> float:
        """IoU after ``clicks`` clicks; a run that stopped earlier keeps its last value."""
        if not self.ious:
            return 0.0
        return self.ious[min(clicks, len(self.ious)) - 1]


@dataclass(frozen=True)
class ClickSummary:
    """The benchmark figures over a set of curves."""

    noc85: float
    noc90: float
    miou1: float
    miou5: float
    n: int

    def line(self) -> str:
        """``NoC@85=<f> NoC@90=<f> mIoU@1=<f> mIoU@5=<f> n=<int>`` (the CLI's last line)."""
        return (
            f"NoC@85={self.noc85:.2f} NoC@90={self.noc90:.2f} "
            f"mIoU@1={self.miou1:.4f} mIoU@5={self.miou5:.4f} n={self.n}"
        )


def iou(prediction: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """IoU of two boolean ``(H, W)`` masks, leaving out ``ignore`` pixels; 1.0 when both are empty."""
    valid = ~ignore if ignore is not None else np.ones_like(truth, dtype=bool)
    inter = np.count_nonzero(prediction & truth & valid)
    union = np.count_nonzero((prediction | truth) & valid)
    return 1.0 if union == 0 else inter / union


def _interior_point(region: np.ndarray) -> tuple[int, int, float]:
    """``(x, y, distance_px)`` of the pixel of ``region`` farthest from its boundary (image edge counts)."""
    import cv2

    padded = np.pad(region.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    flat = int(np.argmax(dist))
    y, x = divmod(flat, region.shape[1])
    return x, y, float(dist[y, x])


def next_click(prediction: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None) -> Point | None:
    """The protocol's next click for a boolean ``prediction`` against ``truth``; None when there is no error.

    The largest connected error region (by area, ignored pixels excluded) gets the click, at its
    interior point farthest from the region's boundary; positive where object was missed.
    """
    import cv2

    valid = ~ignore if ignore is not None else np.ones_like(truth, dtype=bool)
    best: tuple[int, np.ndarray, bool] | None = None
    for positive, error in ((True, truth & ~prediction & valid), (False, prediction & ~truth & valid)):
        if not error.any():
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(error.astype(np.uint8), connectivity=8)
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = int(stats[largest, cv2.CC_STAT_AREA])
        if best is None or area > best[0]:
            best = (area, labels == largest, positive)
    if best is None:
        return None
    x, y, _ = _interior_point(best[1])
    return Point(float(x), float(y), best[2])


def run_protocol(
    segmenter: Segmenter,
    image: np.ndarray,
    truth: np.ndarray,
    ignore: np.ndarray | None = None,
    *,
    name: str = "",
    max_clicks: int = DEFAULT_MAX_CLICKS,
    stop_iou: float = max(NOC_TARGETS),
    min_clicks: int = max(MIOU_CLICKS),
) -> ClickCurve:
    """Simulate clicks on one image and return its IoU curve.

    ``truth`` and ``ignore`` are boolean ``(H, W)`` masks at the image's size. ``prepare`` runs
    once; every click passes all clicks so far and the previous ``Selection``. The run stops
    when IoU reaches ``stop_iou`` after at least ``min_clicks`` clicks, when there is no error
    left, or after ``max_clicks``.
    """
    if truth.shape != image.shape[:2] or (ignore is not None and ignore.shape != truth.shape):
        raise InvalidInput(
            f"ground truth is {truth.shape[1]}x{truth.shape[0]} but the image is {image.shape[1]}x{image.shape[0]}"
        )
    if not truth.any():
        raise InvalidInput(f"ground truth of {name or 'the image'} selects nothing; it cannot be clicked on")
    prepared = segmenter.prepare(image)
    prediction = np.zeros_like(truth, dtype=bool)
    points: list[Point] = []
    previous: Selection | None = None
    ious: list[float] = []
    for _ in range(max_clicks):
        click = next_click(prediction, truth, ignore)
        if click is None:  # perfect already: later clicks change nothing
            ious.extend([ious[-1] if ious else 1.0] * (min_clicks - len(ious)))
            break
        points.append(click)
        previous = segmenter.select(prepared, tuple(points), None, previous)
        prediction = previous.best.mask >= 0.5
        ious.append(iou(prediction, truth, ignore))
        if ious[-1] >= stop_iou and len(ious) >= min_clicks:
            break
    log.info("%s: %d clicks, IoU %s", name, len(ious), " ".join(f"{v:.3f}" for v in ious))
    return ClickCurve(name, tuple(ious), max_clicks)


def summarize(curves: Sequence[ClickCurve]) -> ClickSummary:
    """NoC@85, NoC@90 (mean clicks) and mIoU@1, mIoU@5 (mean IoU) over ``curves``."""
    if not curves:
        raise InvalidInput("no images were evaluated; check that the image and mask folders share file stems")
    return ClickSummary(
        noc85=float(np.mean([c.noc(0.85) for c in curves])),
        noc90=float(np.mean([c.noc(0.90) for c in curves])),
        miou1=float(np.mean([c.iou_at(1) for c in curves])),
        miou5=float(np.mean([c.iou_at(5) for c in curves])),
        n=len(curves),
    )
