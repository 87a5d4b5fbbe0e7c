"""PatchMatch kernels: weighted votes and the guide term, on arrays small enough to reason about."""

from __future__ import annotations

import numpy as np

from pipeline.inpaint import patchmatch as pm


def _one_pixel_hole() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 9 x 9 picture, black left of column 4 and white right of it, one hole pixel in the middle."""
    image = np.zeros((9, 9, 3), np.float32)
    image[:, 5:] = 255.0
    hole = np.zeros((9, 9), bool)
    hole[4, 4] = True
    is_target = np.zeros((9, 9), bool)
    is_target[4, 3] = is_target[4, 5] = True  # two patches (radius 1) touch the hole
    field = np.zeros((9, 9, 2), np.int32)
    field[4, 3] = (4, 2)  # the left target copies from the black side: votes 0 for the hole
    field[4, 5] = (4, 7)  # the right target copies from the white side: votes 255
    return image, hole, is_target, field


def test_the_mean_vote_splits_disagreeing_votes() -> None:
    image, hole, is_target, field = _one_pixel_hole()
    pm.vote(image, hole, np.argwhere(hole).astype(np.int32), is_target, field, 1, ~hole)
    assert np.allclose(image[4, 4], 127.5)


def test_weighted_votes_let_the_better_match_win() -> None:
    image, hole, is_target, field = _one_pixel_hole()
    weight = np.zeros((9, 9), np.float32)
    weight[4, 3], weight[4, 5] = 0.9, 0.1  # the black match is the better one
    pm.weighted_vote(image, hole, np.argwhere(hole).astype(np.int32), is_target, field, 1, ~hole, weight, 1)
    assert np.allclose(image[4, 4], 0.1 * 255.0, atol=1e-3)
    # A coarser level's weights are read at (y // step, x // step): with step 4 the left target
    # (4, 3) reads cell (1, 0) and the right one (4, 5) reads cell (1, 1).
    image, hole, is_target, field = _one_pixel_hole()
    coarse = np.zeros((3, 3), np.float32)
    coarse[1, 0] = 1.0
    pm.weighted_vote(image, hole, np.argwhere(hole).astype(np.int32), is_target, field, 1, ~hole, coarse, 4)
    assert np.allclose(image[4, 4], 0.0)


def test_the_guide_prefers_sources_whose_surroundings_agree() -> None:
    """Two sources with the same patch: without a guide the match found first stays; with a guide
    the one whose blurred surroundings match the target's guide colour replaces it."""
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (40, 40, 3)).astype(np.float32)
    image[5:10, 30:35] = image[25:30, 30:35]  # the patch at (7, 32) equals the one at (27, 32)
    image[20:25, 5:10] = image[25:30, 30:35]  # and the target (22, 7) equals both
    guide = np.zeros((40, 40, 3), np.float32)
    guide[27, 32] = guide[22, 7] = 200.0  # the lower source sits in surroundings like the target's
    targets = np.array([[22, 7]], np.int32)
    source = np.zeros((40, 40), bool)
    source[7, 32] = source[27, 32] = True
    picks = []
    for guided in (np.float32(0.0), np.float32(1.0)):
        field = np.zeros((40, 40, 2), np.int32)
        field[22, 7] = (7, 32)  # the first match found: as good a patch, other surroundings
        cost = np.zeros((40, 40), np.float32)
        pm.refresh_cost(image, targets, field, cost, 2, np.float32(0.0), guide, guided)
        assert cost[22, 7] == (0.0 if guided == 0 else 3 * 200.0**2)
        pm._try(image, field, cost, 22, 7, 27, 32, source, 2, np.float32(0.0), guide, guided)
        picks.append(tuple(int(v) for v in field[22, 7]))
    assert picks == [(7, 32), (27, 32)]


def _one_perfect_source() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A flat grey-100 block of 36 targets; exactly one bin (3 x 3 centres, radius 1) of sources
    matches it perfectly, and a wide region of grey-110 sources matches it a little worse."""
    image = np.zeros((30, 60, 3), np.float32)
    image[0:12, 0:12] = 100.0  # the targets' surroundings
    image[2:7, 32:37] = 100.0  # perfect sources: centres (3..5, 33..35), bin (1, 11)
    image[14:28, 30:58] = 110.0  # worse sources
    is_target = np.zeros((30, 60), bool)
    is_target[3:9, 3:9] = True
    targets = np.argwhere(is_target).astype(np.int32)
    source = np.zeros((30, 60), bool)
    source[3:6, 33:36] = True
    source[15:27, 31:57] = True
    return image, is_target, targets, source


def test_a_reuse_charge_spreads_many_targets_over_the_sources() -> None:
    """Every target starts on the one perfect source: without a charge they all stay there; with it
    no more targets copy that bin than it has pixels (one coherent copy's worth, give or take the
    last few) and the rest move to the good-enough sources."""
    counts = []
    for reuse in (np.float32(0.0), np.float32(3 * 20.0**2)):
        image, is_target, targets, source = _one_perfect_source()
        field = np.zeros((30, 60, 2), np.int32)
        field[is_target] = (4, 34)
        cost = np.zeros((30, 60), np.float32)
        uses = np.zeros((10, 20), np.int32)
        for round_index in range(4):
            pm.refresh_cost(image, targets, field, cost, 1, np.float32(0.0), image, np.float32(0.0), uses, 3, reuse)
            pm.improve_field(image, targets, is_target, source, field, cost, 1, np.float32(0.0), image,
                             np.float32(0.0), 2, 60, round_index, uses, 3, reuse)  # fmt: skip
        pm.count_uses(targets, field, 3, uses)
        assert uses.sum() == len(targets)
        counts.append(int(uses[1, 11]))
        assert all(source[y, x] for y, x in field[is_target])
    assert counts[0] == len(targets)
    assert counts[1] <= 9 + 3
