"""Hard limits on what a later click may change (all off by default; see ``inputs.Tuning``).

The soft prior of ``solve`` (changing the previous mask costs more far from the new click) did
better in the k-fold of ``bench/select_quality.py`` than any of these; they stay for that bench.
"""

from __future__ import annotations

import numpy as np

from pipeline.select.classic.inputs import Seed, Tuning


def click_reach(d_click: np.ndarray, click: Seed, previous: np.ndarray) -> float:
    """Geodesic distance from the click to the nearest pixel that already has its label (working px)."""
    own = previous == click.positive
    return float(d_click[own].min()) if own.any() else float(d_click.max())


def own_reach(previous: np.ndarray, click: Seed) -> float:
    """Straight-line distance from the click to the nearest pixel that already has its label (px)."""
    import cv2

    other = (previous != click.positive).astype(np.uint8)  # distances to its zeros: the click's label
    return float(cv2.distanceTransform(other, cv2.DIST_L2, 3)[click.y, click.x]) if (other == 0).any() else np.inf


def spill_trim(towards: np.ndarray, previous: np.ndarray, click: Seed, spill: float, share: float = 0.0) -> np.ndarray:
    """The object-ward flips ``towards`` of an object click, trimmed where they spill.

    A click on a small missed piece at the mask's edge (a raised hand) has a short reach, yet the
    geodesic colour model may carry its flips along a same-coloured neighbour (a white blind)
    far beyond it. A click means to add about the piece it lands in, so when the flips cover more
    than ``spill`` disks of its reach (the reach: its distance to the mask, at least 2 px) only
    those within ``sqrt(spill)`` reaches of it are kept; smaller additions are kept whole, so a
    long thin missed part (a leg) still comes in at once; so are additions of at most ``share``
    of the previous mask's area (round 10's dumps: the spills added a third to two thirds of it,
    with reaches of 8-14 px, above what the disks alone could tell apart from wanted additions).
    """
    reach = max(own_reach(previous, click), 2.0)
    added = int(towards.sum())
    if not np.isfinite(reach) or added <= spill * np.pi * reach**2 or added <= share * np.count_nonzero(previous):
        return towards
    yy, xx = np.ogrid[: towards.shape[0], : towards.shape[1]]
    return towards & ((yy - click.y) ** 2 + (xx - click.x) ** 2 <= spill * reach**2)


def limit_change(
    previous: np.ndarray, mask: np.ndarray, click: Seed, d_click: np.ndarray, d_opposite: np.ndarray | None,
    disk: np.ndarray, tuning: Tuning,
) -> np.ndarray:  # fmt: skip
    """The new cut ``mask`` kept only where a later click may change ``previous``.

    The cut re-solves the whole photo, so a re-estimated colour model may flip pixels far from
    the click, and an object click on a small missed piece may spill into similar background
    through a weak edge. Hard limits against that (each off by default; the soft prior of
    ``_prior`` did better in the k-fold): a change is kept only within ``reach_limit`` geodesic
    reaches of the click, and within ``radius_limit`` times the click's distance to the nearest
    pixel that already has its label; where an earlier click of the other label is
    geodesically nearer than ``settled`` times the new click (``d_opposite``, None without such
    clicks) its verdict stands; with ``click_piece`` only flips to the click's label in the one
    connected piece that touches the click's disk are kept; with ``spill_limit`` an object
    click whose flips outgrow ``spill_limit`` disks of its own reach is held to
    ``spill_trim``.
    """
    import cv2

    label = click.positive
    near = d_click <= tuning.reach_limit * max(click_reach(d_click, click, previous), 1.0)
    if np.isfinite(tuning.radius_limit):
        radius = tuning.radius_limit * max(own_reach(previous, click), 2.0)
        yy, xx = np.ogrid[: mask.shape[0], : mask.shape[1]]
        near &= (yy - click.y) ** 2 + (xx - click.x) ** 2 <= radius**2
    if d_opposite is not None and tuning.settled > 0:
        near &= d_opposite >= tuning.settled * d_click
    towards = (((mask == label) & near) | disk) & (previous != label)
    away = (mask != label) & (previous == label) & near & (not tuning.click_piece)
    if tuning.click_piece:
        _, pieces = cv2.connectedComponents(towards.astype(np.uint8), connectivity=8)
        held = np.unique(pieces[disk & towards])
        towards = np.isin(pieces, held[held > 0])
    if label and np.isfinite(tuning.spill_limit):
        towards = spill_trim(towards, previous, click, tuning.spill_limit, tuning.spill_share)
    changed = previous.copy()
    changed[towards] = label
    changed[away] = not label
    return changed
