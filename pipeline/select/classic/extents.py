"""Candidates of different extent and scores that estimate their IoU.

A click is ambiguous: on a shoe it may mean the lace, the shoe or the pair. From one cut the
selector offers up to three masks, all at the working scale and all holding the object clicks:

- ``object``: the cut itself;
- ``part``: the cut's pixels geodesically nearest the object clicks (paths that cross colour
  edges are long, so the part stops at the object's inner edges), offered when it is clearly
  smaller than the object;
- ``neighbours``: the object plus what lies as near the clicks as the object's own far side
  (similar, adjacent things not separated by a strong edge), offered when clearly larger.

Each candidate's score is a linear estimate of its IoU from a few things that can be measured
without the truth (how strong the photo's edges are along its boundary, how much its colours
overlap the rest's, its size, how much of it touches the photo border, the number of clicks and
its kind), clipped to [0, 1]. The weights are fitted by ``python -m bench.select_quality --fit``
on the shared GrabCut set; the benchmark reports the calibration on held-out folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.select.classic.colour import BINS
from pipeline.select.classic.graph import PairWeights

KINDS = ("object", "part", "neighbours")
PART_QUANTILE = 0.4  # the part: the object's pixels within this quantile of geodesic distance to the clicks
NEIGHBOUR_REACH = 1.5  # the neighbours: within this many times the object's 90th-percentile distance
DISTINCT_IOU = 0.85  # a variant this close to the object is not offered
FEATURES = ("bias", "contrast", "overlap", "area", "border", "clicks", "part", "neighbours")


@dataclass(frozen=True)
class ScoreModel:
    """Linear weights over ``FEATURES``: ``score = clip(weights . features, 0, 1)``."""

    weights: tuple[float, ...]

    def score(self, features: np.ndarray) -> float:
        return float(np.clip(np.dot(self.weights, features), 0.0, 1.0))

    @classmethod
    def fit(cls, rows: Sequence[np.ndarray], ious: Sequence[float], ridge: float = 1e-3) -> ScoreModel:
        """Least-squares fit of IoU on feature rows (a small ridge keeps rare kinds stable)."""
        x = np.asarray(rows, np.float64)
        y = np.asarray(ious, np.float64)
        gram = x.T @ x + ridge * len(y) * np.eye(x.shape[1])
        return cls(tuple(float(v) for v in np.linalg.solve(gram, x.T @ y)))


# Fitted on all 30 shared GrabCut photos (every candidate of every simulated click, default
# settings) by `python -m bench.select_quality --fit`; held-out calibration in docs/BENCHMARKS.md.
SCORES = ScoreModel((0.7185, 0.1115, -0.1827, -0.0319, -0.0591, 0.0654, -0.3861, -0.2984))


def _boundary_contrast(mask: np.ndarray, weights: PairWeights) -> float:
    """Mean edge strength (1 - pair weight, in [0, 1]) across the mask's boundary; 0 without one."""
    cut_right = mask[:, 1:] != mask[:, :-1]
    cut_down = mask[1:] != mask[:-1]
    n = int(cut_right.sum() + cut_down.sum())
    if n == 0:
        return 0.0
    return float(((1 - weights.right[cut_right]).sum() + (1 - weights.down[cut_down]).sum()) / n)


def _colour_overlap(mask: np.ndarray, bins: np.ndarray) -> float:
    """Shared mass of the inside and outside colour histograms (0 = disjoint colours, 1 = the same)."""
    inside = np.bincount(bins[mask], minlength=BINS**3).astype(np.float64)
    outside = np.bincount(bins[~mask], minlength=BINS**3).astype(np.float64)
    if inside.sum() == 0 or outside.sum() == 0:
        return 1.0
    return float(np.minimum(inside / inside.sum(), outside / outside.sum()).sum())


def describe(mask: np.ndarray, kind: str, clicks: int, bins: np.ndarray, weights: PairWeights) -> np.ndarray:
    """The ``FEATURES`` row of one candidate."""
    ring = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return np.array(
        [
            1.0,
            _boundary_contrast(mask, weights),
            _colour_overlap(mask, bins),
            float(mask.mean()),
            float(ring.mean()),
            float(np.log(max(clicks, 1))),  # a box alone counts as one click (log 0 is -inf)
            float(kind == "part"),
            float(kind == "neighbours"),
        ]
    )


def _holding(region: np.ndarray, clicks: list[tuple[int, int]]) -> np.ndarray:
    """The connected pieces of ``region`` that hold a click (empty when none does)."""
    import cv2

    _, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    keep = {int(labels[y, x]) for y, x in clicks} - {0}
    return np.isin(labels, sorted(keep)) if keep else np.zeros_like(region)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def extents(mask: np.ndarray, d_positive: np.ndarray, clicks: list[tuple[int, int]], allowed: np.ndarray) -> dict:
    """``{kind: mask}``: the object and its distinct part and neighbours variants (working scale).

    ``d_positive`` is the geodesic distance to the nearest object click, ``clicks`` their
    ``(row, col)``, ``allowed`` where the object may be (outside background clicks and the box).
    """
    import cv2

    found = {"object": mask}
    inside = d_positive[mask]
    if not clicks or inside.size == 0 or not np.isfinite(inside).all():
        return found
    smooth = np.ones((3, 3), np.uint8)
    part = mask & (d_positive <= np.quantile(inside, PART_QUANTILE))
    part = _holding(cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_OPEN, smooth) > 0, clicks)
    if part.any() and _iou(part, mask) < DISTINCT_IOU:
        found["part"] = part
    wide = mask | (allowed & (d_positive <= NEIGHBOUR_REACH * np.quantile(inside, 0.9)))
    wide = _holding(cv2.morphologyEx(wide.astype(np.uint8), cv2.MORPH_CLOSE, smooth) > 0, clicks) | mask
    if _iou(wide, mask) < DISTINCT_IOU:
        found["neighbours"] = wide
    return found
