"""Full-resolution edges: the classical selector's boundary follows the photo at full size."""

from __future__ import annotations

import numpy as np

from pipeline.select.classic.selector import ClassicSelector
from pipeline.types import Point


def _slanted(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A 900x1200 photo of a dark quadrilateral with slanted, anti-aliased edges on a light backdrop."""
    import cv2

    h, w = 900, 1200
    corners = np.array([[260, 170], [930, 240], [1010, 720], [190, 610]], np.float64)
    supersampled = np.zeros((h * 4, w * 4), np.uint8)
    cv2.fillPoly(supersampled, [np.round(corners * 4).astype(np.int32)], 255)
    alpha = cv2.resize(supersampled, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    image = (1 - alpha[..., None]) * (210, 205, 195) + alpha[..., None] * (60, 70, 90)
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    return image, alpha >= 0.5


def _matched(prediction: np.ndarray, truth: np.ndarray, tolerance: float = 2.0) -> float:
    """Share of the true boundary within ``tolerance`` px of the predicted boundary."""
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    edge = [cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_GRADIENT, kernel) > 0 for m in (prediction, truth)]
    far = cv2.distanceTransform((~edge[0]).astype(np.uint8), cv2.DIST_L2, 5)
    return float(np.mean(far[edge[1]] <= tolerance))


def test_edges_are_decided_at_full_size(rng: np.random.Generator) -> None:
    image, truth = _slanted(rng)
    click = [Point(600, 450)]
    refined = ClassicSelector(work_pixels=12_000, full_size_edges=True)  # one working pixel is about 9x9 photo pixels
    plain = ClassicSelector(work_pixels=12_000, full_size_edges=False)
    prepared = refined.prepare(image)
    fine = refined.select(prepared, click).best.mask >= 0.5
    coarse = plain.select(prepared, click).best.mask >= 0.5
    assert _matched(fine, truth) > 0.95
    assert _matched(fine, truth) > _matched(coarse, truth) + 0.2  # the upscaled mask shows its steps
    assert np.count_nonzero(fine != truth) < 0.4 * np.count_nonzero(coarse != truth)


def test_edges_keep_the_mask_where_the_photo_says_nothing(rng: np.random.Generator) -> None:
    """A flat photo gives no colour evidence: the refined mask is the plain upscaled one."""
    image = np.full((400, 600, 3), 128, np.uint8)
    selector = ClassicSelector(work_pixels=6_000)
    prepared = selector.prepare(image)
    box_mask = np.zeros(prepared.small.shape[:2], bool)
    box_mask[10:30, 20:50] = True
    from pipeline.select.classic.refine import to_full_size

    refined, plain = to_full_size(prepared, box_mask, True), to_full_size(prepared, box_mask, False)
    assert np.count_nonzero(refined != plain) < 0.01 * np.count_nonzero(plain)  # at most a rounded corner
