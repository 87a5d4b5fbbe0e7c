"""Near a background click, colours are judged by local samples (``Tuning.local_colour``), not by the previous mask."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.select.classic.selector import ClassicSelector
from pipeline.select.classic.solve import TUNING, Seed, segment

GLOBAL_ONLY = dataclasses.replace(TUNING, local_colour=0.0)
LOCAL = dataclasses.replace(TUNING, local_colour=1.0, local_confidence=2.2)  # the shipped setting


def _shelf(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 120x160 shelf: a blue box (the object) touching a larger striped red-and-yellow packet, on grey.

    Returns the photo, the box and the packet (boolean masks).
    """
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    image = rng.normal(128, 10, (h, w, 3))
    box = (xx >= 30) & (xx < 70) & (yy >= 30) & (yy < 90)
    packet = (xx >= 70) & (xx < 130) & (yy >= 20) & (yy < 100)
    stripes = packet & ((yy // 6) % 2 == 0)
    image[box] = rng.normal((40, 60, 190), 8, (int(box.sum()), 3))
    image[packet & ~stripes] = rng.normal((200, 40, 40), 8, (int((packet & ~stripes).sum()), 3))
    image[stripes] = rng.normal((220, 200, 50), 8, (int(stripes.sum()), 3))
    return np.clip(image, 0, 255).astype(np.uint8), box, packet


def _after_background_click(tuning, image: np.ndarray, swallowed: np.ndarray) -> np.ndarray:
    """The mask after a background click in the packet, when the previous mask held box and packet."""
    features = ClassicSelector(tuning=tuning).prepare(image).features
    seeds = (Seed(60, 50, True), Seed(60, 100, False))
    mask, _, _ = segment(features, seeds, None, previous=swallowed, tuning=tuning)
    return mask


def test_a_background_click_on_a_swallowed_neighbour_removes_it() -> None:
    image, box, packet = _shelf(np.random.default_rng(0))
    swallowed = box | packet
    local = _after_background_click(LOCAL, image, swallowed)
    plain = _after_background_click(GLOBAL_ONLY, image, swallowed)
    assert np.count_nonzero(local & packet) <= 0.25 * packet.sum()
    assert np.count_nonzero(local & box) >= 0.95 * box.sum()  # the object stays
    assert np.count_nonzero(plain & packet) > 0.5 * packet.sum()  # the previous mask's colours keep most of it


def test_local_colour_leaves_object_clicks_alone() -> None:
    image, box, packet = _shelf(np.random.default_rng(1))
    features = ClassicSelector(tuning=LOCAL).prepare(image).features
    previous = box.copy()
    seeds = (Seed(60, 50, True), Seed(60, 100, True))  # the second on the packet, which is not object yet
    ours, _, _ = segment(features, seeds, None, previous=previous, tuning=LOCAL)
    theirs, _, _ = segment(features, seeds, None, previous=previous, tuning=GLOBAL_ONLY)
    np.testing.assert_array_equal(ours, theirs)


def test_local_nearer_keeps_the_local_share_to_the_background_clicks_side() -> None:
    """``local_nearer`` (round 9, off by default): no local colour where an object click is geodesically nearer."""
    from pipeline.select.classic.solve import _local_colour, distances

    image, box, packet = _shelf(np.random.default_rng(2))
    features = ClassicSelector(tuning=LOCAL).prepare(image).features
    seeds = (Seed(60, 50, True), Seed(60, 100, False))
    dist, d_click = distances(features, seeds, None)
    nearer = dataclasses.replace(LOCAL, local_nearer=True)
    full = _local_colour(features.bins, dist, d_click, seeds, box | packet, LOCAL)[0]
    kept = _local_colour(features.bins, dist, d_click, seeds, box | packet, nearer)[0]
    object_side = d_click >= dist.positive
    assert full[object_side].max() > 0  # without it the local colour reaches past the join
    assert not kept[object_side].any()
    np.testing.assert_array_equal(kept[~object_side], full[~object_side])
