"""One level of the exemplar engine's completion, and the final full-size vote.

``complete_level`` runs Wexler et al.'s expectation-maximisation at one pyramid level with the
PatchMatch kernels of ``patchmatch``: match every patch that touches the hole to a wholly known
one (guided, near sources preferred), then rebuild the hole from the matches' weighted votes.
``final_vote`` carries the finest field to full size. See ``exemplar`` for the whole method.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]


def _points(where: Bools) -> npt.NDArray[np.int32]:
    return np.ascontiguousarray(np.argwhere(where).astype(np.int32))


def _source_centres(known: Bools, radius: int) -> Bools:
    """Pixels whose whole patch is known and inside the picture."""
    size = 2 * radius + 1
    inside = cv2.erode(
        known.view(np.uint8), np.ones((size, size), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0
    )
    return inside > 0


def _targets(hole: Bools, radius: int) -> Bools:
    size = 2 * radius + 1
    return cv2.dilate(hole.view(np.uint8), np.ones((size, size), np.uint8)) > 0


@dataclass(frozen=True)
class Step:
    """One level's EM settings (see ``ExemplarInpainter``)."""

    radius: int
    rounds: int
    near_grey: float
    guide_weight: float
    vote_sharpness: float
    seed: int
    reuse_grey: float = 0.0


def complete_level(
    image: Floats,
    share: Floats,
    coarse_field: npt.NDArray[np.int32] | None,
    coarse_filled: Floats | None,
    guide: Floats | None,
    step: Step,
) -> tuple[Floats | None, npt.NDArray[np.int32], Floats]:
    """EM completion at one level: ``image`` holds the mean colour of each pixel's known part and
    ``share`` how much of it is known (< 0.999 = hole). Starts from the coarser level's field and
    fill if given. Returns (filled image or None when no patch is wholly known, field, vote weights)."""
    from pipeline.inpaint import patchmatch as pm

    radius = step.radius
    hole = share < 0.999
    height, width = hole.shape
    source = _source_centres(~hole, radius)
    if not source.any():
        return None, np.zeros((height, width, 2), np.int32), np.zeros((height, width), np.float32)
    is_target = _targets(hole, radius)
    targets, holes = _points(is_target), _points(hole)
    image = np.ascontiguousarray(image, dtype=np.float32).copy()
    # A partly known pixel (a thin island of the photo inside a hairy hole, seen from a coarse
    # level) keeps its known share after every vote, so the islands steer the fill as Telea's do.
    kept = np.where(hole, share, 0.0).astype(np.float32)[..., None]
    kept_colour = kept * image
    field = np.zeros((height, width, 2), np.int32)
    cost = np.full((height, width), np.float32(3.0e38))
    if coarse_field is None or coarse_filled is None:
        pm.random_field(targets, _points(source), field, step.seed)
        # Telea's onion-peel order carries each side's colour inward (a mean would blend them).
        start = cv2.inpaint(np.clip(image + 0.5, 0, 255).astype(np.uint8), hole.view(np.uint8), 3, cv2.INPAINT_TELEA)
        np.copyto(image, start.astype(np.float32), where=hole[..., None])
    else:
        pm.upsample_field(coarse_field, targets, 2, field, source, radius)
        up = cv2.resize(coarse_filled, (width, height), interpolation=cv2.INTER_LINEAR)
        np.copyto(image, up[:height, :width], where=hole[..., None])
        pm.vote(image, hole, holes, is_target, field, radius, ~hole)
    everywhere = np.ones_like(hole)
    side = max(height, width)
    area = (2 * radius + 1) ** 2
    near = np.float32(3 * area * step.near_grey**2 / side**2)
    reach = side if coarse_field is None else max(8, side // 4)
    guided = np.float32(step.guide_weight * area if guide is not None else 0.0)
    guide_array = guide if guide is not None else np.zeros((1, 1, 3), np.float32)
    weight = np.ones_like(cost)
    # Reuse is counted in bins one patch wide: one coherent copy puts a bin's area of targets in it.
    bin_px = 2 * radius + 1
    uses = np.zeros((-(-height // bin_px), -(-width // bin_px)), np.int32)
    reuse = np.float32(3 * area * step.reuse_grey**2 / bin_px**2)
    for round_index in range(step.rounds):
        pm.refresh_cost(image, targets, field, cost, radius, near, guide_array, guided, uses, bin_px, reuse)
        pm.improve_field(
            image,
            targets,
            is_target,
            source,
            field,
            cost,
            radius,
            near,
            guide_array,
            guided,
            2,
            reach,
            step.seed * 101 + round_index,
            uses,
            bin_px,
            reuse,
        )
        weight = _vote_weights(cost, is_target, step.vote_sharpness)
        pm.weighted_vote(image, hole, holes, is_target, field, radius, everywhere, weight, 1)
        image = np.ascontiguousarray(kept_colour + (1.0 - kept) * image, dtype=np.float32)
    return image, field, weight


def _vote_weights(cost: Floats, is_target: Bools, vote_sharpness: float) -> Floats:
    """Wexler et al.'s vote weights exp(-sharpness * cost / typical cost), where typical is the
    75th percentile over the targets: a good match outvotes poor ones, so copied texture stays
    sharp where the mean of disagreeing votes would blur it. All ones when ``vote_sharpness`` is 0."""
    if vote_sharpness <= 0 or not is_target.any():
        return np.ones_like(cost)
    typical = float(np.percentile(cost[is_target], 75)) + 1e-3
    known_cost = np.where(is_target, cost, np.float32(typical))  # the final vote reads every cell
    return np.exp(known_cost * np.float32(-vote_sharpness / typical)).astype(np.float32)


def final_vote(
    full: Floats,
    hole: Bools,
    work_field: npt.NDArray[np.int32],
    work_weight: Floats,
    factor: int,
    radius: int,
) -> None:
    """Scale the work-level field up by ``factor`` and vote once from real full-size pixels
    (weighted as the work level's last vote was)."""
    from pipeline.inpaint import patchmatch as pm

    is_target = _targets(hole, radius)
    targets = _points(is_target)
    source = _source_centres(~hole, radius)
    field = np.zeros((*hole.shape, 2), np.int32)
    pm.upsample_field(work_field, targets, factor, field, source, radius)
    pm.weighted_vote(full, hole, _points(hole), is_target, field, radius, ~hole, work_weight, factor)
