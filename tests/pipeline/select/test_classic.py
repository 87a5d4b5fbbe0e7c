"""The classical selector on synthetic photos with known masks."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import InvalidInput
from pipeline.select.classic.selector import ClassicSelector
from pipeline.select.clicks import iou
from pipeline.select.protocol import MAX_POINTS, Segmenter
from pipeline.types import Box, Point


def _two_discs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 120x160 photo with a red disc (left) and a blue disc (right) on a noisy gray backdrop."""
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.clip(rng.normal(200, 6, (h, w, 3)), 0, 255)
    red = (xx - 50) ** 2 + (yy - 60) ** 2 <= 28**2
    blue = (xx - 118) ** 2 + (yy - 60) ** 2 <= 24**2
    image[red] = rng.normal((190, 40, 30), 6, (int(red.sum()), 3))
    image[blue] = rng.normal((40, 60, 190), 6, (int(blue.sum()), 3))
    return np.clip(image, 0, 255).astype(np.uint8), red, blue


def test_is_a_segmenter() -> None:
    assert isinstance(ClassicSelector(), Segmenter)
    assert ClassicSelector().name == "classic"


def test_one_click_selects_the_disc(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    selector = ClassicSelector()
    prepared = selector.prepare(photo)
    assert prepared.size == (128, 96)
    selection = selector.select(prepared, [Point(64, 48)])
    best = selection.best.mask
    assert best.shape == (96, 128) and best.dtype == np.float32
    assert set(np.unique(best)) <= {0.0, 1.0}
    assert iou(best >= 0.5, disc_mask > 0.5) > 0.9


def test_candidates_are_ordered_by_score_in_range(photo: np.ndarray) -> None:
    selection = ClassicSelector().select(ClassicSelector().prepare(photo), [Point(64, 48)])
    scores = [c.score for c in selection.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    for candidate in selection.candidates:
        assert candidate.mask.shape == photo.shape[:2]
        assert candidate.mask.min() >= 0.0 and candidate.mask.max() <= 1.0


def test_box_alone_selects_the_object(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    selector = ClassicSelector()
    selection = selector.select(selector.prepare(photo), [], box=Box(28, 12, 100, 84))
    assert iou(selection.best.mask >= 0.5, disc_mask > 0.5) > 0.85


def test_negative_click_removes_a_wrong_region(rng: np.random.Generator) -> None:
    image, red, blue = _two_discs(rng)
    selector = ClassicSelector()
    prepared = selector.prepare(image)
    # a box alone over both discs selects both; a negative click on the blue one removes it
    box = Box(15, 25, 150, 95)
    first = selector.select(prepared, [], box=box)
    wrong = first.best.mask >= 0.5
    assert np.count_nonzero(wrong & blue) > 0.5 * blue.sum()
    second = selector.select(prepared, [Point(118, 60, positive=False)], box, first)
    fixed = second.best.mask >= 0.5
    assert np.count_nonzero(fixed & blue) < 0.1 * blue.sum()
    assert iou(fixed, red) > 0.85


def test_positive_click_adds_a_missed_region(rng: np.random.Generator) -> None:
    image, red, blue = _two_discs(rng)
    selector = ClassicSelector()
    prepared = selector.prepare(image)
    first = selector.select(prepared, [Point(50, 60)])
    assert np.count_nonzero((first.best.mask >= 0.5) & blue) < 0.1 * blue.sum()
    second = selector.select(prepared, [Point(50, 60), Point(118, 60)], None, first)
    assert iou(second.best.mask >= 0.5, red | blue) > 0.85


def test_large_photo_is_worked_at_a_smaller_scale(rng: np.random.Generator) -> None:
    image, red, _ = _two_discs(rng)
    big = np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)  # 480x640
    selector = ClassicSelector(work_pixels=20_000)
    prepared = selector.prepare(big)
    assert prepared.scale < 1.0
    mask = selector.select(prepared, [Point(200, 240)]).best.mask
    assert mask.shape == big.shape[:2]
    assert iou(mask >= 0.5, np.repeat(np.repeat(red, 4, axis=0), 4, axis=1)) > 0.85


@pytest.mark.parametrize(
    ("points", "box", "words"),
    [
        ([Point(500, 10)], None, "outside"),
        ([Point(-1, 10)], None, "outside"),
        ([], None, "nothing"),
        ([Point(1, 1)] * (MAX_POINTS + 1), None, "more than"),
        ([], Box(300, 300, 400, 400), "outside"),
    ],
)
def test_bad_prompts_raise_invalid_input(photo: np.ndarray, points, box, words: str) -> None:
    selector = ClassicSelector()
    with pytest.raises(InvalidInput, match=words):
        selector.select(selector.prepare(photo), points, box)


def test_bad_values_raise_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="finite"):
        Point(float("nan"), 3)
    with pytest.raises(InvalidInput, match="degenerate"):
        Box(10, 10, 10, 40)
    with pytest.raises(InvalidInput, match="uint8"):
        ClassicSelector().prepare(np.zeros((4, 4), np.float32))


def test_scipy_fallback_cut_matches_maxflow(rng: np.random.Generator) -> None:
    pytest.importorskip("maxflow", reason="PyMaxflow is not installed: only the SciPy cut is available")
    from pipeline.select.classic.graph import PairWeights, _min_cut_scipy, min_cut

    h, w = 24, 32
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (xx - 14) ** 2 + (yy - 12) ** 2 <= 64
    cost_fg = np.where(inside, 0.5, 2.0) + rng.uniform(0, 1.5, (h, w))
    cost_bg = np.where(inside, 2.0, 0.5) + rng.uniform(0, 1.5, (h, w))
    weights = PairWeights(rng.uniform(0, 1, (h, w - 1)), rng.uniform(0, 1, (h - 1, w)))
    fast = min_cut(cost_fg, cost_bg, weights, 1.5)
    slow = _min_cut_scipy(cost_fg, cost_bg, weights, 1.5)
    assert fast.shape == (h, w) and fast.dtype == bool
    assert iou(fast, inside) > 0.8
    assert np.count_nonzero(fast != slow) <= 2  # exact cuts; only integer rounding may flip a tie
