"""The solve of the classical selector, at the working scale.

Every click re-solves the whole working-scale photo from all clicks so far and the previous
mask (a prior; what a later click may change is limited, ``limit_change``):

- Geodesic distances (paths that cross colour edges are long) from the object clicks and
  from the background clicks; before the first background click the photo border stands in
  for the background, at a cost, so it is weak evidence only.
- Per-pixel costs: colour likelihood from two smoothed colour histograms (object against
  background) plus a geodesic term that favours, for each pixel, the label of the clicks it
  is geodesically nearer to; every click is a hard disk of its label.
- On a first solve, the zero-click subject's piece under the object clicks adds its own costs
  and colours (``subject_prior.subject_evidence``).
- Near a later background click, colour costs from local samples (``_local_colour``).
- A contrast-sensitive graph cut, re-estimating the colour histograms from the cut a few
  times (GrabCut-style); object parts that hold no object click are dropped.

Masks here are boolean ``(h, w)`` arrays at the working scale; seeds are in working pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pipeline.select.classic.colour import histogram, likelihood_costs
from pipeline.select.classic.cut import CutGraph
from pipeline.select.classic.graph import HARD_COST, GeodesicGraph, PairWeights, geodesic_distance
from pipeline.select.classic.inputs import TUNING, Seed, Tuning
from pipeline.select.classic.limits import click_reach, limit_change
from pipeline.select.classic.subject_prior import subject_evidence
from pipeline.types import Box

__all__ = ["TUNING", "ClassicPrepared", "Distances", "Features", "Seed", "Tuning", "segment"]


@dataclass(frozen=True)
class Features:
    """Per-photo features at the working scale (computed once by ``prepare``)."""

    bins: np.ndarray  # (h, w) int32 colour-histogram bins
    weights: PairWeights
    geodesic: GeodesicGraph
    border_distance: np.ndarray  # (h, w) float32 geodesic distance from the border node, working px
    cuts: CutGraph  # the photo's max-flow grid, reused by every cut
    subject: np.ndarray | None = None  # (h, w) bool zero-click subject (``subject_prior``), None when not computed


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
    for s in seeds:  # a click always holds its own pixel
        (fg if s.positive else bg)[s.y, s.x], (bg if s.positive else fg)[s.y, s.x] = 1, 0
    both = (fg > 0) & (bg > 0)
    return (fg > 0) & ~both, (bg > 0) & ~both


def keep_seeded(mask: np.ndarray, seeds: tuple[Seed, ...]) -> np.ndarray:
    """Drop the object components that hold no positive seed (unchanged when none holds one)."""
    import cv2

    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = {labels[s.y, s.x] for s in seeds if s.positive} - {0}
    if not keep:
        return mask
    return np.isin(labels, sorted(keep))


def hard_background(shape: tuple[int, ...], seeds: tuple[Seed, ...], box: Box | None, tuning: Tuning) -> np.ndarray:
    """Where the object cannot be: the background clicks' disks and outside the box (working scale)."""
    return _disk_mask(shape, seeds, tuning.seed_radius_frac * _diag(shape))[1] | ~_box_inside(shape, box)


def _box_inside(shape: tuple[int, ...], box: Box | None) -> np.ndarray:
    inside = np.zeros(shape[:2], bool)
    if box is None:
        inside[:] = True
    else:
        x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
        inside[y0 : int(np.ceil(box.y1)), x0 : int(np.ceil(box.x1))] = True
    return inside


@dataclass(frozen=True)
class Distances:
    """Geodesic distances (working px, ``(h, w)`` float32) to the nearest object / background click.

    Before the first background click, ``negative`` is the distance to the photo border.
    """

    positive: np.ndarray
    negative: np.ndarray


def distances(features: Features, seeds: tuple[Seed, ...], before: Distances | None) -> tuple[Distances, np.ndarray]:
    """Distances for ``seeds`` and the distance from the last seed alone.

    ``before`` holds the distances of ``seeds[:-1]`` (one shortest-path solve then) or is None.
    """
    click = seeds[-1]
    d_click = geodesic_distance(features.geodesic, [(click.y, click.x)])
    if before is None:
        earlier = seeds[:-1]
        pos = [(s.y, s.x) for s in earlier if s.positive]
        neg = [(s.y, s.x) for s in earlier if not s.positive]
        border = features.border_distance if not neg else np.full(d_click.shape, np.inf, np.float32)
        d_neg = np.minimum(border, geodesic_distance(features.geodesic, neg))
        before = Distances(geodesic_distance(features.geodesic, pos), d_neg)
    if click.positive:
        return Distances(np.minimum(before.positive, d_click), before.negative), d_click
    has_negative = any(not s.positive for s in seeds[:-1])
    negative = np.minimum(before.negative, d_click) if has_negative else d_click
    return Distances(before.positive, negative), d_click


def _prior(d_click: np.ndarray, click: Seed, previous: np.ndarray, tuning: Tuning) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel costs ``(keep, pull)``: of changing ``previous`` (zero near the new click,
    ``prior_weight`` far from it) and of refusing the click's label (``pull_weight`` at the click,
    fading to zero at the edge of "near").

    "Near" is within ``prior_reach`` times the click's geodesic reach: its geodesic distance to
    the nearest pixel that already has its label (the protocol, and a user, click in the middle
    of a wrong region, so the reach measures how large a region the click means to flip).
    """
    relative = d_click / max(tuning.prior_reach * click_reach(d_click, click, previous), 1.0)
    return tuning.prior_weight * np.clip(relative - 1.0, 0.0, 1.0), tuning.pull_weight * np.clip(
        1.0 - relative, 0.0, 1.0
    )


def _location_costs(
    dist: Distances, d_click: np.ndarray | None, seeds: tuple[Seed, ...], previous: np.ndarray | None, tuning: Tuning
) -> tuple[np.ndarray, np.ndarray]:
    """Non-colour costs ``(cost_fg, cost_bg)``: the geodesic share of each label plus the previous-mask prior."""
    d_pos, d_neg = dist.positive, dist.negative
    geo_fg = np.zeros(d_pos.shape, np.float32)
    geo_bg = np.zeros(d_pos.shape, np.float32)
    has_share = bool(np.isfinite(d_pos).any() and np.isfinite(d_neg).any())
    if has_share:
        share = d_pos / np.maximum(d_pos + d_neg, 1e-6)  # 0 at object clicks, 1 at background ones
        geo_fg, geo_bg = tuning.geodesic_weight * share, tuning.geodesic_weight * (1 - share)
    if previous is not None and d_click is not None:
        prior, pull = _prior(d_click, seeds[-1], previous, tuning)
        pull = pull * (not has_share)  # without object clicks (a box) nothing else pulls
        geo_fg = geo_fg + prior * ~previous + (0 if seeds[-1].positive else pull)
        geo_bg = geo_bg + prior * previous + (pull if seeds[-1].positive else 0)
    return geo_fg, geo_bg


def _colour_samples(
    dist: Distances, inside: np.ndarray, boxed: bool, previous: np.ndarray | None, tuning: Tuning
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel weights ``(object, background)`` of the first colour histograms."""
    sigma = tuning.sample_frac * _diag(inside.shape)
    fg_w = np.exp(-dist.positive / sigma) if np.isfinite(dist.positive).any() else inside.astype(np.float64)
    bg_w = np.exp(-dist.negative / sigma) + 0.05 * np.clip(1 - fg_w, 0, 1)
    if boxed:  # outside the box is background; it gets the same say as the click samples
        fg_w = fg_w * inside
        bg_w = bg_w / max(float(bg_w.sum()), 1e-6) + ~inside / max(float(np.count_nonzero(~inside)), 1.0)
    if previous is not None:
        fg_w = fg_w + tuning.previous_sample * previous
        bg_w = bg_w + tuning.previous_sample * ~previous
    return fg_w, bg_w


def _local_colour(
    bins: np.ndarray, dist: Distances, d_click: np.ndarray, seeds: tuple[Seed, ...], previous: np.ndarray | None,
    tuning: Tuning,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:  # fmt: skip
    """Colour costs ``(share, cost_fg, cost_bg)`` near a later background click from local samples, or None.

    The global colour model is re-estimated from the previous mask; when that mask has swallowed
    neighbouring things (a cluttered shelf), their colours are "object", so a background click on
    one of them removes little more than its own disk (on the cluttered set a click fixed a few
    percent of the wrong region it landed in). Near the click, colours are instead judged by the
    click's own geodesic neighbourhood against the object clicks' neighbourhood, not against the
    previous mask. Their share is ``local_colour`` where the click may change the mask (``_prior``:
    within ``prior_reach`` geodesic reaches), fading to zero where the prior is full, and shrinking
    where the local costs of the two labels differ by less than ``local_confidence`` (a neighbour of
    the object's own colour: there the local samples cannot tell, the global model can), and with
    ``local_nearer`` (off: round 9 kept it off) only where the click is geodesically nearer than every
    object click. Object clicks keep the global model: with local colours too they spilled into
    clutter (in-sample, clutter NoC@90 10.4 against 9.96 without).
    """
    click = seeds[-1]
    if tuning.local_colour <= 0 or click.positive or previous is None or not np.isfinite(dist.positive).any():
        return None
    sigma = tuning.local_sample_frac * _diag(bins.shape)
    local_fg, local_bg = likelihood_costs(
        bins, histogram(bins, np.exp(-dist.positive / sigma)), histogram(bins, np.exp(-d_click / sigma))
    )
    relative = d_click / max(tuning.prior_reach * click_reach(d_click, click, previous), 1.0)
    share = tuning.local_colour * np.clip(2.0 - relative, 0.0, 1.0)
    if tuning.local_confidence > 0:  # local samples that cannot tell the labels apart leave the global model be
        share = share * np.clip(np.abs(local_fg - local_bg) / tuning.local_confidence, 0.0, 1.0)
    if tuning.local_nearer:  # the object's own pixels beyond the join keep the global model
        share = share * (d_click < dist.positive)
    return share.astype(np.float32), local_fg, local_bg


def segment(
    features: Features,
    seeds: tuple[Seed, ...],
    box: Box | None,
    previous: np.ndarray | None = None,
    before: Distances | None = None,
    tuning: Tuning | None = None,
    backed: bool = False,
) -> tuple[np.ndarray, Distances, bool]:
    """Object mask (bool, working scale), click distances and whether the subject backs the mask,
    from all clicks so far, a box and the previous mask.

    ``previous`` is the mask of ``seeds[:-1]`` (or None); ``before`` their distances (or None);
    ``backed`` whether the subject backed ``previous`` (its later clicks then have the
    ``backed_prior_*`` prior: a first mask with more evidence behind it is kept more firmly).
    """
    tuning = tuning or TUNING
    if previous is not None and all(s.positive for s in seeds) and previous[seeds[-1].y, seeds[-1].x]:
        # only object clicks, the last on what is already object: it corrects nothing, it adds
        # evidence (a suggested selection's clicks on a product's parts), so all clicks solve afresh
        previous, before = None, None
    if previous is not None and backed:
        tuning = replace(tuning, prior_weight=tuning.backed_prior_weight, prior_reach=tuning.backed_prior_reach)
    bins = features.bins
    shape = bins.shape
    hard_fg, hard_bg = _disk_mask(shape, seeds, tuning.seed_radius_frac * _diag(shape))
    inside = _box_inside(shape, box)
    hard_bg |= ~inside
    if seeds:
        dist, d_click = distances(features, seeds, before)
    else:
        dist, d_click = Distances(np.full(shape, np.inf, np.float32), features.border_distance), None
    geo_fg, geo_bg = _location_costs(dist, d_click, seeds, previous, tuning)
    fg_w, bg_w = _colour_samples(dist, inside, box is not None, previous, tuning)
    if previous is not None and d_click is not None and not np.isfinite(dist.positive).any():
        # no object click (a box): the new click's own sample is its whole reach, as much as the rest
        own = fg_w if seeds[-1].positive else bg_w
        pull = _prior(d_click, seeds[-1], previous, tuning)[1]
        own += pull * (float(own.sum()) / max(float(pull.sum()), 1e-6))
    piece = subject_evidence(features.subject, seeds, dist, tuning) if previous is None else None
    if piece is not None:  # a first solve of clicks on the zero-click subject
        geo_fg = geo_fg + tuning.subject_weight * ~piece
        geo_bg = geo_bg + tuning.subject_weight * piece
        fg_w = fg_w / max(float(fg_w.sum()), 1e-6) + tuning.subject_sample * piece / float(piece.sum())
    local = _local_colour(bins, dist, d_click, seeds, previous, tuning) if d_click is not None else None
    cuts = features.cuts
    cut = cuts.cut if cuts.smoothness == tuning.smoothness else CutGraph(cuts.weights, tuning.smoothness).cut
    mask = hard_fg
    for _ in range(tuning.iterations):
        cost_fg, cost_bg = likelihood_costs(bins, histogram(bins, fg_w), histogram(bins, bg_w))
        if local is not None:
            share, local_fg, local_bg = local
            cost_fg = cost_fg * (1 - share) + local_fg * share
            cost_bg = cost_bg * (1 - share) + local_bg * share
        cost_fg += geo_fg
        cost_bg += geo_bg
        cost_fg[hard_bg] = HARD_COST
        cost_bg[hard_fg] = HARD_COST
        mask = keep_seeded(cut(cost_fg, cost_bg), seeds)
        fg_w = mask.astype(np.float64)
        bg_w = (~mask).astype(np.float64)
    if previous is not None and d_click is not None:
        disk = hard_fg if seeds[-1].positive else hard_bg
        click = seeds[-1]
        has_opposite = any(s.positive != click.positive for s in seeds[:-1])
        opposite = (dist.negative if click.positive else dist.positive) if has_opposite else None
        mask = keep_seeded(limit_change(previous, mask, click, d_click, opposite, disk, tuning), seeds)
    return mask, dist, piece is not None or (backed and previous is not None)


@dataclass(frozen=True)
class ClassicPrepared:
    """A photo ready for clicks: the full image and its working-scale copy and features."""

    image: np.ndarray  # (H, W, 3) uint8, full size
    small: np.ndarray  # (h, w, 3) uint8 working copy
    features: Features
    scale: float  # working pixels per image pixel (<= 1)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])
