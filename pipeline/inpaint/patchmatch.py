"""PatchMatch kernels (Barnes et al. 2009) for exemplar-based hole filling (Wexler et al. 2007).

A nearest-neighbour field (NNF) maps every *target* patch centre (a pixel whose patch touches
the hole) to the centre of a *source* patch that lies wholly in the known part of the picture.
``improve_field`` makes the field better by propagation (a neighbour's match shifted by one pixel
is often a good match here too, which is how lines and texture continue) and random search
around the current match at shrinking radii. ``vote`` rebuilds the hole: each hole pixel becomes
the mean of what the overlapping patches' matches say it should be.

Compiled with numba on first use (cached on disk). Arrays: ``image`` (H, W, 3) float32,
``hole`` (H, W) bool, ``source`` (H, W) bool (may this pixel be a source patch centre),
``field`` (H, W, 2) int32 holding the matched centre's (y, x) for target pixels, ``cost``
(H, W) float32 the patch distance of that match.

Reuse (optional, ``uses`` / ``bin_px`` / ``reuse``): the source centres are counted in square
bins of ``bin_px``; a bin that more targets point at than it has pixels (more than one coherent
copy of it) charges ``reuse`` per target beyond that to each match into it. Without this a
plausible source (a smooth patch, the dog's face) is copied again and again into a big hole; with
it the matches spread over the surroundings, as the completeness term of Simakov et al. 2008
("bidirectional similarity") asks. ``uses`` is (ceil(H / bin_px), ceil(W / bin_px)) int32; a
``reuse`` of 0 turns it off (``uses`` may then be any array).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_INF = np.float32(3.0e38)


@njit(cache=True, nogil=True)
def patch_distance(image, ty, tx, sy, sx, radius, limit):
    """Sum of squared colour differences between the patches at (ty, tx) and (sy, sx).

    Parts of the target patch outside the picture are skipped (the source patch never leaves it).
    Stops early once the sum exceeds ``limit``; the result is then some value above it.
    """
    height, width = image.shape[0], image.shape[1]
    total = np.float32(0.0)
    for dy in range(-radius, radius + 1):
        y = ty + dy
        if y < 0 or y >= height:
            continue
        for dx in range(-radius, radius + 1):
            x = tx + dx
            if x < 0 or x >= width:
                continue
            for c in range(3):
                d = image[y, x, c] - image[sy + dy, sx + dx, c]
                total += d * d
        if total > limit:
            return total
    return total


@njit(cache=True, nogil=True)
def _penalty(guide, ty, tx, sy, sx, near, guided):
    """The cost a match pays before its patches are compared: distance, and guide disagreement."""
    penalty = near * np.float32((sy - ty) * (sy - ty) + (sx - tx) * (sx - tx))
    if guided > 0:
        g = np.float32(0.0)
        for c in range(guide.shape[2]):
            d = guide[ty, tx, c] - guide[sy, sx, c]
            g += d * d
        penalty += guided * g
    return penalty


@njit(cache=True, nogil=True)
def count_uses(targets, field, bin_px, uses):
    """Fill ``uses`` with how many ``targets`` match a source centre in each bin."""
    uses[:] = 0
    for i in range(targets.shape[0]):
        uses[field[targets[i, 0], targets[i, 1], 0] // bin_px, field[targets[i, 0], targets[i, 1], 1] // bin_px] += 1


@njit(cache=True, nogil=True)
def _reuse_cost(uses, bin_px, reuse, sy, sx, cy, cx):
    """What a match to (sy, sx) pays for its bin's use by the other targets (the current match
    (cy, cx) leaves its bin when the new one is in another): ``reuse`` per target beyond ``bin_px^2``."""
    by, bx = sy // bin_px, sx // bin_px
    count = uses[by, bx]
    if by != cy // bin_px or bx != cx // bin_px:
        count += 1
    return reuse * np.float32(max(0, count - bin_px * bin_px))


@njit(cache=True, nogil=True)
def _try(image, field, cost, ty, tx, sy, sx, source, radius, near, guide, guided, uses=None, bin_px=1, reuse=0.0):
    if sy < 0 or sx < 0 or sy >= source.shape[0] or sx >= source.shape[1] or not source[sy, sx]:
        return
    cy, cx = field[ty, tx, 0], field[ty, tx, 1]
    if sy == cy and sx == cx:
        return
    penalty = _penalty(guide, ty, tx, sy, sx, near, guided)
    if uses is not None and reuse > 0:
        penalty += _reuse_cost(uses, bin_px, reuse, sy, sx, cy, cx)
    if penalty >= cost[ty, tx]:
        return
    d = penalty + patch_distance(image, ty, tx, sy, sx, radius, cost[ty, tx] - penalty)
    if d < cost[ty, tx]:
        cost[ty, tx] = d
        field[ty, tx, 0] = sy
        field[ty, tx, 1] = sx
        if uses is not None and reuse > 0:
            uses[cy // bin_px, cx // bin_px] -= 1
            uses[sy // bin_px, sx // bin_px] += 1


@njit(cache=True, nogil=True)
def refresh_cost(image, targets, field, cost, radius, near, guide, guided, uses=None, bin_px=1, reuse=0.0):
    """Recompute ``cost`` of every target's current match (after the image changed); with ``reuse``
    > 0 it first counts the field's ``uses``, which ``improve_field`` then keeps up to date."""
    if uses is not None and reuse > 0:
        count_uses(targets, field, bin_px, uses)
    for i in range(targets.shape[0]):
        ty, tx = targets[i, 0], targets[i, 1]
        sy, sx = field[ty, tx, 0], field[ty, tx, 1]
        penalty = _penalty(guide, ty, tx, sy, sx, near, guided)
        if uses is not None and reuse > 0:
            penalty += _reuse_cost(uses, bin_px, reuse, sy, sx, sy, sx)
        cost[ty, tx] = penalty + patch_distance(image, ty, tx, sy, sx, radius, _INF)


@njit(cache=True, nogil=True)
def improve_field(
    image,
    targets,
    is_target,
    source,
    field,
    cost,
    radius,
    near,
    guide,
    guided,
    iterations,
    max_radius,
    seed,
    uses=None,
    bin_px=1,
    reuse=0.0,
):
    """``iterations`` PatchMatch sweeps over ``targets`` ((N, 2) int32 rows of y, x, in scan order).

    ``near`` adds ``near * squared distance`` between the two centres to a match's cost (nearby
    sources win ties: what is close to a hole is the likeliest background). Random search starts
    at ``max_radius`` px and halves. Even sweeps go forward and look up/left, odd sweeps go
    backward and look down/right. With ``reuse`` > 0, ``uses`` must hold the current field's
    counts (``refresh_cost`` leaves them so) and is kept up to date as matches change (see the
    module docstring).
    """
    np.random.seed(seed)
    height, width = source.shape
    count = targets.shape[0]
    for sweep in range(iterations):
        step = 1 if sweep % 2 == 0 else -1
        for k in range(count):
            i = k if step == 1 else count - 1 - k
            ty, tx = targets[i, 0], targets[i, 1]
            ny, nx = ty - step, tx - step
            if 0 <= ny < height and is_target[ny, tx]:
                sy, sx = field[ny, tx, 0] + step, field[ny, tx, 1]
                _try(image, field, cost, ty, tx, sy, sx, source, radius, near, guide, guided, uses, bin_px, reuse)
            if 0 <= nx < width and is_target[ty, nx]:
                sy, sx = field[ty, nx, 0], field[ty, nx, 1] + step
                _try(image, field, cost, ty, tx, sy, sx, source, radius, near, guide, guided, uses, bin_px, reuse)
            search = max_radius
            while search >= 1:
                by, bx = field[ty, tx, 0], field[ty, tx, 1]
                sy = by + np.random.randint(-search, search + 1)
                sx = bx + np.random.randint(-search, search + 1)
                _try(image, field, cost, ty, tx, sy, sx, source, radius, near, guide, guided, uses, bin_px, reuse)
                search //= 2


@njit(cache=True, nogil=True)
def random_field(targets, source_points, field, seed):
    """Give every target a random source centre from ``source_points`` ((M, 2) int32)."""
    np.random.seed(seed)
    for i in range(targets.shape[0]):
        j = np.random.randint(0, source_points.shape[0])
        field[targets[i, 0], targets[i, 1], 0] = source_points[j, 0]
        field[targets[i, 0], targets[i, 1], 1] = source_points[j, 1]


@njit(cache=True, nogil=True)
def vote(image, hole, holes, is_target, field, radius, known):
    """The plain mean vote (``weighted_vote`` with every weight 1)."""
    weighted_vote(image, hole, holes, is_target, field, radius, known, np.ones((1, 1), np.float32), 0)


@njit(cache=True, nogil=True)
def weighted_vote(image, hole, holes, is_target, field, radius, known, weight, weight_step):
    """Write into ``image`` at every pixel of ``holes`` ((N, 2) rows of y, x) the weighted mean of its votes.

    A target centred at (ty, tx) matched to (sy, sx) votes ``image[sy + dy, sx + dx]`` for the
    pixel (ty + dy, tx + dx), with the weight ``weight[ty // weight_step, tx // weight_step]``
    (``weight_step`` 0: every weight is 1; a step above 1 reads a coarser level's weights).
    Votes read from hole pixels of the source are skipped when ``known`` is False for them. All
    votes read the image as it was before this call, so the order of writes does not matter.
    """
    height, width = hole.shape
    values = np.empty((holes.shape[0], 3), np.float32)
    for i in range(holes.shape[0]):
        y, x = holes[i, 0], holes[i, 1]
        acc0 = np.float32(0.0)
        acc1 = np.float32(0.0)
        acc2 = np.float32(0.0)
        n = np.float32(0.0)
        for dy in range(-radius, radius + 1):
            ty = y - dy
            if ty < 0 or ty >= height:
                continue
            for dx in range(-radius, radius + 1):
                tx = x - dx
                if tx < 0 or tx >= width or not is_target[ty, tx]:
                    continue
                sy = field[ty, tx, 0] + dy
                sx = field[ty, tx, 1] + dx
                if sy < 0 or sx < 0 or sy >= height or sx >= width or not known[sy, sx]:
                    continue
                w = np.float32(1.0) if weight_step == 0 else weight[ty // weight_step, tx // weight_step]
                acc0 += w * image[sy, sx, 0]
                acc1 += w * image[sy, sx, 1]
                acc2 += w * image[sy, sx, 2]
                n += w
        if n > 1e-30:
            values[i, 0] = acc0 / n
            values[i, 1] = acc1 / n
            values[i, 2] = acc2 / n
        else:
            values[i, 0] = image[y, x, 0]
            values[i, 1] = image[y, x, 1]
            values[i, 2] = image[y, x, 2]
    for i in range(holes.shape[0]):
        for c in range(3):
            image[holes[i, 0], holes[i, 1], c] = values[i, c]


@njit(cache=True, nogil=True)
def upsample_field(coarse, targets, factor, field, source, radius):
    """Fill ``field`` at ``targets`` from the ``factor`` times smaller ``coarse`` field.

    A fine pixel keeps its position inside its coarse cell, so a coherent coarse match copies a
    whole block of fine pixels. A result that is not a valid source is moved to the nearest one
    along the way back to the cell's own corner; every result stays ``radius`` px inside the picture.
    """
    ch, cw = coarse.shape[0], coarse.shape[1]
    for i in range(targets.shape[0]):
        y, x = targets[i, 0], targets[i, 1]
        cy, cx = min(y // factor, ch - 1), min(x // factor, cw - 1)
        sy = coarse[cy, cx, 0] * factor + (y - cy * factor)
        sx = coarse[cy, cx, 1] * factor + (x - cx * factor)
        sy = min(max(sy, radius), source.shape[0] - 1 - radius)
        sx = min(max(sx, radius), source.shape[1] - 1 - radius)
        base_y, base_x = coarse[cy, cx, 0] * factor, coarse[cy, cx, 1] * factor
        steps = 0
        while not source[sy, sx] and steps < 2 * factor:
            sy += 1 if sy < base_y else (-1 if sy > base_y else 0)
            sx += 1 if sx < base_x else (-1 if sx > base_x else 0)
            steps += 1
        field[y, x, 0] = min(max(sy, radius), source.shape[0] - 1 - radius)
        field[y, x, 1] = min(max(sx, radius), source.shape[1] - 1 - radius)
