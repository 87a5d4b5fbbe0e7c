"""The classical selector's later clicks keep earlier work, and its candidates differ in extent."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.select.classic.extents import ScoreModel, describe
from pipeline.select.classic.selector import ClassicSelector
from pipeline.select.classic.solve import TUNING
from pipeline.select.clicks import iou, next_click
from pipeline.types import Point


def _cluttered(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A 120x160 scene: an orange object with a thin stem, beside an orange blob of the same colour
    (touching the stem's tip), and brown and grey clutter on a mottled backdrop."""
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.clip(rng.normal(120, 25, (h, w, 3)), 0, 255)
    body = (xx - 60) ** 2 / 30**2 + (yy - 75) ** 2 / 22**2 <= 1
    stem = (np.abs(xx - 88 - (yy - 60) * -0.6) <= 2) & (yy >= 25) & (yy <= 62)
    truth = body | stem
    blob = ((xx - 118) ** 2 + (yy - 22) ** 2 <= 16**2) & ~truth
    clutter = ((xx - 30) ** 2 + (yy - 25) ** 2 <= 14**2) & ~truth
    image[truth] = rng.normal((230, 140, 40), 10, (int(truth.sum()), 3))
    image[blob] = rng.normal((225, 135, 45), 10, (int(blob.sum()), 3))
    image[clutter] = rng.normal((110, 70, 30), 10, (int(clutter.sum()), 3))
    return np.clip(image, 0, 255).astype(np.uint8), truth


def _protocol(selector: ClassicSelector, image: np.ndarray, truth: np.ndarray, clicks: int = 8):
    """Masks after each simulated click (standard protocol, best candidate) and the clicks."""
    prepared = selector.prepare(image)
    prediction = np.zeros_like(truth)
    points: list[Point] = []
    previous = None
    masks = []
    for _ in range(clicks):
        click = next_click(prediction, truth)
        if click is None:
            break
        points.append(click)
        previous = selector.select(prepared, tuple(points), None, previous)
        prediction = previous.best.mask >= 0.5
        masks.append(prediction)
    return masks, points


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_later_click_only_moves_the_mask_its_own_way(seed: int) -> None:
    image, truth = _cluttered(np.random.default_rng(seed))
    masks, points = _protocol(ClassicSelector(), image, truth)
    assert len(masks) >= 2
    for before, after, point in zip(masks, masks[1:], points[1:], strict=False):
        if point.positive:  # an object click never takes object away ...
            assert np.count_nonzero(before & ~after) <= 0.002 * truth.size
        else:  # ... and a background click never adds any
            assert np.count_nonzero(after & ~before) <= 0.002 * truth.size
        assert iou(after, truth) >= iou(before, truth) - 0.02


def test_with_the_old_weak_prior_a_click_undoes_earlier_work() -> None:
    """The scene can tell: with the settings before the k-fold (smoothness 3.5, prior 1.5 beyond 3 reaches,
    no subject, no local colour) a click there takes back what an earlier one settled, and IoU drops."""
    image, truth = _cluttered(np.random.default_rng(0))
    old = dataclasses.replace(
        TUNING, smoothness=3.5, prior_weight=1.5, prior_reach=3.0, subject_weight=0.0, local_colour=0.0
    )
    selector = ClassicSelector(tuning=old)
    masks, points = _protocol(selector, image, truth)
    wrong_way = [
        np.count_nonzero((b & ~a) if p.positive else (a & ~b)) > 0.002 * truth.size
        for b, a, p in zip(masks, masks[1:], points[1:], strict=False)
    ]
    assert any(wrong_way)
    assert min(iou(a, truth) - iou(b, truth) for b, a in zip(masks, masks[1:], strict=False)) < -0.05


def test_candidates_differ_in_extent_and_hold_the_click(rng: np.random.Generator) -> None:
    # a red ring (the object) with a blue centre (a part) on a red-tinted table (its surroundings)
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = (xx - 80) ** 2 + (yy - 60) ** 2
    image = np.clip(rng.normal((160, 120, 110), 5, (h, w, 3)), 0, 255)
    image[r2 <= 40**2] = rng.normal((200, 40, 30), 5, (int((r2 <= 40**2).sum()), 3))
    image[r2 <= 15**2] = rng.normal((40, 60, 200), 5, (int((r2 <= 15**2).sum()), 3))
    image = image.astype(np.uint8)
    selector = ClassicSelector()
    prepared = selector.prepare(image)
    selection = selector.select(prepared, [Point(80, 90)])
    kinds = selection.state.kinds
    assert kinds[0] in ("object", "part", "neighbours") and len(set(kinds)) == len(kinds) >= 2
    areas = {kind: float(c.mask.sum()) for kind, c in zip(kinds, selection.candidates, strict=True)}
    if "part" in areas:
        assert areas["part"] < areas["object"]
    if "neighbours" in areas:
        assert areas["neighbours"] > areas["object"]
    for candidate in selection.candidates:
        assert candidate.mask[90, 80] == 1.0
        assert 0.0 <= candidate.score <= 1.0
    scores = [c.score for c in selection.candidates]
    assert scores == sorted(scores, reverse=True)
    # a second click settles the ambiguity: one candidate, refined from the first's best
    second = selector.select(prepared, [Point(80, 90), Point(80, 60)], None, selection)
    assert second.state.kinds == ("object",)


def test_score_model_fit_recovers_a_linear_rule(rng: np.random.Generator) -> None:
    rows = rng.uniform(0, 1, (200, 8))
    rows[:, 0] = 1.0
    truth = np.array([0.2, 0.5, -0.3, 0.1, 0.0, 0.05, -0.1, 0.0])
    model = ScoreModel.fit(list(rows), list(rows @ truth), ridge=0.0)
    assert np.allclose(model.weights, truth, atol=1e-6)
    assert model.score(np.array([1.0, 9, 0, 0, 0, 0, 0, 0])) == 1.0  # clipped


def test_describe_measures_contrast_and_overlap(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    selector = ClassicSelector()
    features = selector.prepare(photo).features
    disc = disc_mask > 0.5
    good = describe(disc, "object", 1, features.bins, features.weights)
    shifted = describe(np.roll(disc, 20, axis=1), "object", 1, features.bins, features.weights)
    assert good[1] > shifted[1]  # stronger edges along the true boundary
    assert good[2] < shifted[2]  # inside and outside colours overlap less
