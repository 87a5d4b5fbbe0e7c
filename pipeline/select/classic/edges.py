"""Full-resolution edges for the classical selector: refine the boundary band at the photo's size.

The cut runs at a working scale of about 0.15 MP, so on a 12 MP photo one working pixel is a
9x9 block and an upscaled mask shows 5 to 10 px stair steps along slanted edges. Only a thin
band around the upscaled boundary is uncertain, so only that band is decided again at full
size, from the photo's own colours there:

- the object and background colours next to each band pixel are described by the mask's
  confident inside and outside nearby (box statistics at half the working scale, where a blur
  is cheap): their mean colours and (``model="pooled"``, the default) their average covariance,
  so that an object that is locally black with a grey highlight still claims its dark rim and
  a textured background's own variation counts for less;
- each band pixel is placed between the two (0 = background, 1 = object) by a rule linear in
  its colour, made at half scale and sampled at the band: a blurred edge is split at its
  middle, as a person would;
- where the two sides barely differ the photo says nothing and the upscaled mask is kept; a
  small blur of the decision at full size removes single-pixel speckle;
- the mask then moves towards that decision one pixel at a time, and only where a pixel's
  change keeps the mask's topology (``topology``): a strip too thin to keep stays a line one
  pixel wide, so an enclosed label stays enclosed and no island appears or vanishes.

Pixels outside the band keep the upscaled mask, so the refinement cannot move the edge by more
than the band's half-width (``EdgeTuning.band_work_px`` working pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EdgeTuning:
    """Settings of the full-size band; defaults chosen by leave-half-out in ``bench/select_edges.py``."""

    band_work_px: float = 2.5  # half-width of the refined band, working pixels (the upscaling's own uncertainty)
    local_work_px: int = 4  # half-size of the box of the local colour statistics, working pixels
    model: str = "pooled"  # "mean": nearer mean colour; "pooled": likelier of two Gaussians, one covariance
    separation: float = 30.0  # how far apart the two sides must be to trust the photo fully
    # (RGB distance for "mean", Mahalanobis distance x 10 for "pooled")
    spread: float = 6.0  # smallest colour standard deviation given to the covariance ("pooled"), RGB levels
    smooth_px: float = 1.5  # Gaussian sigma of the final decision, full-size pixels
    keep_topology: bool = True  # off only to measure what the topology step saves (bench, tests)


EDGES = EdgeTuning()


def upscale_soft(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A boolean working-scale mask as a float32 map at ``size`` (width, height), bilinear."""
    import cv2

    return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)


def _local_stats(small: np.ndarray, mask: np.ndarray, tuning: EdgeTuning) -> tuple[np.ndarray, np.ndarray]:
    """Maps of the object's and the background's colour statistics near each pixel, at half the working scale.

    Box statistics over about ``2 * local_work_px`` working pixels of the mask's inside and outside,
    each eroded by one pixel so that the mixed pixels on the boundary count for neither: the mean
    colour (3 channels), and for ``model="pooled"`` also the mean products (6: rr, rg, rb, gg, gb, bb).
    Half scale is enough for colours that vary this slowly and costs a quarter.
    """
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    h, w = mask.shape
    half = (max(1, w // 2), max(1, h // 2))
    colour = cv2.resize(small, half, interpolation=cv2.INTER_AREA).astype(np.float32)
    if tuning.model == "pooled":
        r, g, b = colour[..., 0], colour[..., 1], colour[..., 2]
        colour = np.dstack([colour, r * r, r * g, r * b, g * g, g * b, b * b])
    size = (tuning.local_work_px + 1, tuning.local_work_px + 1)
    stats = []
    for region in (cv2.erode(mask.astype(np.uint8), kernel), cv2.erode((~mask).astype(np.uint8), kernel)):
        region = cv2.resize(region.astype(np.float32), half, interpolation=cv2.INTER_AREA)
        weight = cv2.blur(region, size)
        total = cv2.blur(colour * region[..., None], size)
        stats.append(total / np.maximum(weight, 1e-4)[..., None])
    return stats[0], stats[1]


def _split_rule(fg: np.ndarray, bg: np.ndarray, tuning: EdgeTuning) -> np.ndarray:
    """From the two sides' stats ``(M, C)``, the rule that places a colour ``c`` between them: ``(M, 5)``.

    The rule is ``(w, k, trust)``: ``w . c + k`` is 0 halfway between the sides and grows towards
    the object. "mean": the place along the line from the background's mean to the object's (1 at
    the object's mean). "pooled": the log-likelihood ratio of two Gaussians with the sides' means
    and their average covariance (a Fisher discriminant: a direction in which a textured side
    varies little counts more). Made at half the working scale near the band, sampled at the band.
    """
    fg_mean, bg_mean = fg[:, :3], bg[:, :3]
    apart = fg_mean - bg_mean
    if tuning.model == "mean":
        length2 = np.maximum(np.sum(apart * apart, axis=1, keepdims=True), 1e-6)
        w, middle = apart / length2, bg_mean
        trust = np.sqrt(length2[:, 0]) / tuning.separation
    else:
        # the average of the two covariances (plus a floor), inverted by cofactors
        floor = tuning.spread * tuning.spread
        products = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
        a, b, c, d, e, f = (
            0.5 * (fg[:, 3 + k] + bg[:, 3 + k] - fg_mean[:, i] * fg_mean[:, j] - bg_mean[:, i] * bg_mean[:, j])
            + floor * (i == j)
            for k, (i, j) in enumerate(products)
        )  # fmt: skip
        ia, ib, ic = d * f - e * e, c * e - b * f, b * e - c * d
        det = np.maximum(a * ia + b * ib + c * ic, floor**3)
        idd, ie, iff = a * f - c * c, b * c - a * e, a * d - b * b
        x, y, z = apart[:, 0], apart[:, 1], apart[:, 2]
        w = np.stack([ia * x + ib * y + ic * z, ib * x + idd * y + ie * z, ic * x + ie * y + iff * z], 1) / det[:, None]
        middle = 0.5 * (fg_mean + bg_mean)
        trust = 10.0 * np.sqrt(np.maximum(np.sum(w * apart, axis=1), 0.0)) / tuning.separation
    k = -np.sum(w * middle, axis=1)
    return np.column_stack([w, k, np.clip(trust, 0.0, 1.0)]).astype(np.float32)


def _blocks(ys: np.ndarray, xs: np.ndarray, scale: float, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Full-size ``(rows, cols)`` of the pixels whose nearest working pixel is one of ``(ys, xs)``.

    Photo pixel ``r`` belongs to working row ``floor((r + 0.5) * scale)``, so working row ``y``
    owns rows ``ceil(y / scale - 0.5)`` up to the next one's start (blocks of k or k + 1 pixels).
    """
    width, height = size

    def starts(index: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        first = np.clip(np.ceil(index / scale - 0.5), 0, limit).astype(np.int64)
        end = np.clip(np.ceil((index + 1) / scale - 0.5), 0, limit).astype(np.int64)
        return first, np.maximum(end - first, 0)

    r0, rn = starts(ys, height)
    c0, cn = starts(xs, width)
    count = rn * cn
    owner = np.repeat(np.arange(ys.size), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return r0[owner] + offset // cn[owner], c0[owner] + offset % cn[owner]


def _sample(values: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples ``(N, C)`` of an ``(h, w, C)`` float32 map at fractional ``ys``, ``xs`` (edges clamped)."""
    import cv2

    n = ys.size
    width = 1024  # cv2.remap wants maps under 32767 on a side: lay the N points out in rows
    rows = max(1, -(-n // width))
    map_x = np.zeros(rows * width, np.float32)
    map_y = np.zeros(rows * width, np.float32)
    map_x[:n], map_y[:n] = xs, ys
    out = cv2.remap(
        values, map_x.reshape(rows, width), map_y.reshape(rows, width), cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    return out.reshape(rows * width, -1)[:n]


def refine_edges(
    image: np.ndarray, small: np.ndarray, mask: np.ndarray, scale: float, tuning: EdgeTuning = EDGES
) -> np.ndarray:
    """The working-scale boolean ``mask`` as a binary float32 mask at ``image``'s size, edges decided there.

    ``image`` is the full-size (H, W, 3) uint8 photo, ``small`` its working copy and ``scale``
    working pixels per photo pixel. Returns the plain upscaled mask when the photo is the working
    copy. The result has the upscaled mask's topology (``topology.settle``).
    """
    import cv2

    from pipeline.select.classic.topology import settle

    height, width = image.shape[:2]
    soft = upscale_soft(mask, (width, height))
    if mask.shape == (height, width) or not mask.any() or mask.all():
        return _threshold(soft)
    # the band: the photo pixels of the working pixels within band_work_px of the working-scale boundary
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    grow = max(1, int(np.ceil(tuning.band_work_px - 1)))
    near = cv2.dilate(edge, np.ones((3, 3), np.uint8), iterations=grow)
    ys, xs = np.nonzero(near)
    rows, cols = _blocks(ys, xs, scale, (width, height))
    if rows.size == 0:
        return _threshold(soft)
    # the placing rule at half scale, made only near the band (where the sampling below reads it),
    # in a crop of the working copy around the band (from even coordinates, so halves line up)
    margin = tuning.local_work_px + 4
    top, left = max(0, ys.min() - margin) // 2 * 2, max(0, xs.min() - margin) // 2 * 2
    bottom, right = min(mask.shape[0], ys.max() + margin + 1), min(mask.shape[1], xs.max() + margin + 1)
    crop = (slice(top, bottom), slice(left, right))
    fg_stats, bg_stats = _local_stats(small[crop], mask[crop], tuning)
    half = fg_stats.shape[1::-1]
    reads = cv2.resize(
        cv2.dilate(near[crop], np.ones((3, 3), np.uint8), iterations=2), half, interpolation=cv2.INTER_AREA
    )
    split = np.zeros((half[1], half[0], 5), np.float32)
    split[reads > 0] = _split_rule(fg_stats[reads > 0], bg_stats[reads > 0], tuning)
    # sample it at the band pixels (pixel centres map to working coordinates, then into the crop's half scale)
    half_x, half_y = half[0] / (right - left), half[1] / (bottom - top)
    at_x = ((cols.astype(np.float32) + 0.5) * scale - left) * half_x - 0.5
    at_y = ((rows.astype(np.float32) + 0.5) * scale - top) * half_y - 0.5
    rule = _sample(split, at_y, at_x)
    at = rows * width + cols  # flat indices of the band pixels
    place = np.einsum("ij,ij->i", np.take(image.reshape(-1, 3), at, axis=0).astype(np.float32), rule[:, :3])
    place += rule[:, 3]
    if tuning.model == "mean":
        place = np.clip(place, 0.0, 1.0)
    else:
        place = 0.5 + 0.5 * np.tanh(0.5 * np.clip(place, -30.0, 30.0))  # the logistic function
    trust = rule[:, 4]
    band_soft = np.take(soft.reshape(-1), at)
    # one crop around the band: blur the decision there, keep the upscaled mask elsewhere (at least
    # one pixel of it around the band, so that the band's neighbours are in the crop)
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    pad = max(1, int(np.ceil(3 * tuning.smooth_px)))
    y0, x0, y1, x1 = max(0, y0 - pad), max(0, x0 - pad), min(height, y1 + pad), min(width, x1 + pad)
    _threshold(soft)
    coarse = soft[y0:y1, x0:x1]
    decision = coarse.copy()  # C-contiguous, never a view of soft
    in_crop = (rows - y0) * (x1 - x0) + (cols - x0)
    decision.reshape(-1)[in_crop] = trust * place + (1.0 - trust) * band_soft
    if tuning.smooth_px > 0:
        decision = cv2.GaussianBlur(decision, (0, 0), tuning.smooth_px)
    if not tuning.keep_topology:
        coarse[:] = decision >= 0.5
        return soft
    # the band moves the edge but keeps the mask's topology: pixels flip one at a time, surest first,
    # and only where that opens, closes, joins or splits nothing (``topology``)
    sureness = np.abs(np.take(decision.reshape(-1), in_crop) - 0.5)
    settle(coarse, decision, in_crop[np.argsort(np.round(sureness * -510).astype(np.int16), kind="stable")])
    return soft


def _threshold(values: np.ndarray) -> np.ndarray:
    """``values >= 0.5`` as 0.0 / 1.0, in place (no bool temporary the size of a 12 MP photo)."""
    import cv2

    below_half = float(np.nextafter(np.float32(0.5), np.float32(0.0)))
    cv2.threshold(values, below_half, 1.0, cv2.THRESH_BINARY, dst=values)
    return values
