"""The two solves of the classical selector, at the working scale.

- ``first_cut``: no previous mask. A GrabCut-like loop: colour histograms from the clicks (or
  the box) against the photo border, a graph cut, histograms re-estimated from the cut.
- ``correct``: one new click on a previous mask. A local graph cut in a window around the
  click, sized by how far the click is from the region it contradicts; the previous mask is a
  prior that fades towards the click; colour models are local; all clicks are hard seeds.

Masks here are boolean ``(h, w)`` arrays at the working scale; seeds are in working pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.classic_select_colour import histogram, likelihood_costs
from pipeline.classic_select_graph import HARD_COST, EdgeLengths, PairWeights, geodesic_distance, min_cut
from pipeline.types import Box


@dataclass(frozen=True)
class Seed:
    """A click at working-scale row ``y`` and column ``x``; ``positive`` marks object."""

    y: int
    x: int
    positive: bool


@dataclass(frozen=True)
class Features:
    """Per-photo features at the working scale (computed once by ``prepare``)."""

    bins: np.ndarray  # (h, w) int32 colour-histogram bins
    weights: PairWeights
    lengths: EdgeLengths
    coarse_lengths: EdgeLengths  # the same at half the working scale, for large geodesic windows


def geodesic(features: Features, window: tuple[slice, slice], start: tuple[int, int], edge_weight: float) -> np.ndarray:
    """Geodesic distance (working px) from ``start`` (row, col within ``window``) over ``window``.

    Windows above ``COARSE_ABOVE_PX`` pixels are solved at half scale and upsampled.
    """
    import cv2

    (y0, y1), (x0, x1) = (window[0].start, window[0].stop), (window[1].start, window[1].stop)
    if (y1 - y0) * (x1 - x0) <= COARSE_ABOVE_PX:
        return geodesic_distance(features.lengths, window, start, edge_weight=edge_weight)
    ch, cw = features.coarse_lengths.down.shape[0] + 1, features.coarse_lengths.right.shape[1] + 1
    cy0, cy1 = y0 // 2, min(ch, max(y0 // 2 + 1, (y1 + 1) // 2))
    cx0, cx1 = x0 // 2, min(cw, max(x0 // 2 + 1, (x1 + 1) // 2))
    sy, sx = min(cy1 - 1, (y0 + start[0]) // 2) - cy0, min(cx1 - 1, (x0 + start[1]) // 2) - cx0
    coarse = geodesic_distance(
        features.coarse_lengths, (slice(cy0, cy1), slice(cx0, cx1)), (sy, sx), edge_weight=edge_weight
    )
    up = cv2.resize(2 * coarse, ((cx1 - cx0) * 2, (cy1 - cy0) * 2), interpolation=cv2.INTER_LINEAR)
    up = np.pad(up, ((0, max(0, y1 - 2 * cy0 - up.shape[0])), (0, max(0, x1 - 2 * cx0 - up.shape[1]))), mode="edge")
    return up[y0 - 2 * cy0 : y1 - 2 * cy0, x0 - 2 * cx0 : x1 - 2 * cx0]


@dataclass(frozen=True)
class Tuning:
    """Energy weights of the classical selector (dimensionless unless marked ``_px``)."""

    smoothness: float = 2.0  # Potts weight against colour costs of ~[0, 9]
    seed_radius_frac: float = 0.006  # hard disk around each click, fraction of the diagonal
    first_sigma_frac: float = 0.12  # spread of the first object colour sample
    first_iterations: int = 3
    location_weight: float = 3.0  # first cut: cost of object per diagonal of distance from the clicks
    window_factor: float = 2.5  # correction window half-size, in units of the click's reach
    window_min_frac: float = 0.04
    prior_weight: float = 4.0  # cost of leaving the previous label far from the click
    inner_reach: float = 1.0  # geodesic reaches from the click: inside, the click's label is favoured
    outer_reach: float = 2.0  # beyond, the previous mask is kept
    edge_weight: float = 2.0  # geodesic step cost per relative colour distance
    click_sample_weight: float = 1.0  # its share of the own-label colour model
    colour_weight: float = 1.0
    pull_weight: float = 3.0  # cost of refusing the click's label, fading over the error region


TUNING = Tuning()
COARSE_ABOVE_PX = 40_000


def _diag(shape: tuple[int, ...]) -> float:
    return float(np.hypot(shape[0], shape[1]))


def _disk_mask(shape: tuple[int, ...], seeds: tuple[Seed, ...], radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Boolean maps of the hard object and background disks around ``seeds``."""
    import cv2

    fg = np.zeros(shape[:2], np.uint8)
    bg = np.zeros(shape[:2], np.uint8)
    r = max(1, round(radius))
    for s in seeds:
        cv2.circle(fg if s.positive else bg, (s.x, s.y), r, 1, -1)
    bg[fg > 0] = 0  # the later, explicit object click wins where they overlap
    return fg > 0, bg > 0


def _distance_to(shape: tuple[int, ...], seeds: tuple[Seed, ...]) -> np.ndarray:
    """Euclidean distance (working px) from every pixel to the nearest of ``seeds``."""
    import cv2

    marks = np.ones(shape[:2], np.uint8)
    for s in seeds:
        marks[s.y, s.x] = 0
    return cv2.distanceTransform(marks, cv2.DIST_L2, 5)


def keep_seeded(mask: np.ndarray, seeds: tuple[Seed, ...], previous: np.ndarray | None = None) -> np.ndarray:
    """Drop the object components that hold no positive seed and no pixel of ``previous``.

    When no component holds a positive seed (a box alone) the mask is returned unchanged.
    """
    import cv2

    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = {labels[s.y, s.x] for s in seeds if s.positive} - {0}
    if previous is not None:
        keep |= set(np.unique(labels[previous & mask]).tolist()) - {0}
    if not keep:
        return mask
    return np.isin(labels, sorted(keep))


def first_cut(features: Features, seeds: tuple[Seed, ...], box: Box | None, tuning: Tuning | None = None) -> np.ndarray:
    """Object mask (bool, working scale) from clicks and/or a box, with no previous mask."""
    tuning = tuning or TUNING
    bins, weights = features.bins, features.weights
    shape = bins.shape
    h, w = shape
    diag = _diag(shape)
    hard_fg, hard_bg = _disk_mask(shape, seeds, tuning.seed_radius_frac * diag)
    positives = tuple(s for s in seeds if s.positive)
    inside = np.zeros(shape, bool)
    if box is not None:
        x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
        inside[y0 : int(np.ceil(box.y1)), x0 : int(np.ceil(box.x1))] = True
    else:
        inside[:] = True
    border = np.zeros(shape, bool)
    ring = max(2, round(0.03 * min(h, w)))
    border[:ring], border[-ring:], border[:, :ring], border[:, -ring:] = True, True, True, True
    location = np.zeros(shape, np.float32)
    if positives:
        dist = _distance_to(shape, positives)
        fg_weight = np.exp(-0.5 * (dist / (tuning.first_sigma_frac * diag)) ** 2)
        location = tuning.location_weight * dist / diag
    else:
        fg_weight = inside.astype(np.float64)
    if box is not None:
        bg_weight = (~inside).astype(np.float64) + 0.2 * border
        fg_weight = fg_weight * inside
    else:
        bg_weight = border.astype(np.float64) + 0.05 * (1 - fg_weight)
    mask = None
    for _ in range(tuning.first_iterations):
        fg_hist = histogram(bins, fg_weight)
        bg_hist = histogram(bins, bg_weight)
        cost_fg, cost_bg = likelihood_costs(bins, fg_hist, bg_hist)
        cost_fg = cost_fg + location
        cost_fg[hard_bg] = HARD_COST
        cost_bg[hard_fg] = HARD_COST
        fixed = np.zeros(shape, bool)
        mask = keep_seeded(min_cut(inside, cost_fg, cost_bg, weights, tuning.smoothness, fixed), seeds)
        fg_weight = mask.astype(np.float64)
        bg_weight = (~mask).astype(np.float64)
    assert mask is not None
    return mask


def _reach(mask: np.ndarray, seed: Seed) -> float:
    """Distance (working px) from ``seed`` to the nearest pixel already labelled as the seed says."""
    import cv2

    target = mask if seed.positive else ~mask
    if not target.any():
        return 0.5 * _diag(mask.shape)
    dist = cv2.distanceTransform((~target).astype(np.uint8), cv2.DIST_L2, 5)
    return max(1.0, float(dist[seed.y, seed.x]))


def correct(
    features: Features, seeds: tuple[Seed, ...], previous: np.ndarray, tuning: Tuning | None = None
) -> np.ndarray:
    """Refine ``previous`` (bool, working scale) with the last of ``seeds``; the others stay hard."""
    tuning = tuning or TUNING
    bins = features.bins
    shape = bins.shape
    h, w = shape
    diag = _diag(shape)
    click = seeds[-1]
    reach = _reach(previous, click)
    half = max(tuning.window_min_frac * diag, tuning.window_factor * reach)
    y0, y1 = max(0, int(click.y - half)), min(h, int(click.y + half) + 1)
    x0, x1 = max(0, int(click.x - half)), min(w, int(click.x + half) + 1)
    win = (slice(y0, y1), slice(x0, x1))
    geo = geodesic(features, win, (click.y - y0, click.x - x0), tuning.edge_weight)
    prev_win = previous[win]
    contradicted = prev_win != click.positive
    region = contradicted & (geo < tuning.inner_reach * reach)
    # colour models: the estimated error region against the rest of the contradicted label
    sub_bins = bins[win]
    own = (~contradicted).astype(np.float64)
    own_w = own / max(own.sum(), 1e-6) + tuning.click_sample_weight * region / max(region.sum(), 1)
    other_w = (contradicted & ~region).astype(np.float64)
    own_hist, other_hist = histogram(sub_bins, own_w), histogram(sub_bins, other_w)
    fg_hist, bg_hist = (own_hist, other_hist) if click.positive else (other_hist, own_hist)
    cost_fg, cost_bg = likelihood_costs(sub_bins, fg_hist, bg_hist)
    cost_fg *= tuning.colour_weight
    cost_bg *= tuning.colour_weight
    ramp = np.clip((geo / reach - tuning.inner_reach) / (tuning.outer_reach - tuning.inner_reach), 0, 1)
    prior = tuning.prior_weight * ramp
    cost_fg = cost_fg + prior * ~prev_win
    cost_bg = cost_bg + prior * prev_win
    pull = tuning.pull_weight * (1 - ramp)
    if click.positive:
        cost_bg = cost_bg + pull
    else:
        cost_fg = cost_fg + pull
    hard_fg, hard_bg = _disk_mask(shape, seeds, tuning.seed_radius_frac * diag)
    cost_fg[hard_bg[win]] = HARD_COST
    cost_bg[hard_fg[win]] = HARD_COST
    full_fg = np.zeros(shape, np.float32)
    full_bg = np.zeros(shape, np.float32)
    full_fg[win], full_bg[win] = cost_fg, cost_bg
    active = np.zeros(shape, bool)
    active[win] = True
    mask = min_cut(active, full_fg, full_bg, features.weights, tuning.smoothness, previous)
    return keep_seeded(mask, seeds, previous)
