"""Full-resolution edges: the classical selector's boundary follows the photo at full size."""

from __future__ import annotations

import numpy as np
import pytest

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


def _shape(mask: np.ndarray) -> tuple[int, int]:
    """(object pieces, 8-connected; background pieces, 4-connected, outside the frame counting as one)."""
    import cv2

    padded = np.pad(mask.astype(np.uint8), 1)
    objects = cv2.connectedComponents(padded, connectivity=8)[0] - 1
    return objects, cv2.connectedComponents(1 - padded, connectivity=4)[0] - 1


def test_settle_never_changes_the_topology(rng: np.random.Generator) -> None:
    """Random masks moved towards unrelated random targets keep their pieces and holes, and do move."""
    import cv2

    from pipeline.select.classic.topology import settle

    for _ in range(20):
        mask = (cv2.GaussianBlur(rng.random((60, 80)), (0, 0), 3) > 0.5).astype(np.float32)
        target = (cv2.GaussianBlur(rng.random((60, 80)), (0, 0), 3) > 0.5).astype(np.float32)
        before = mask.copy()
        left = settle(mask, target, rng.permutation(mask.size))
        assert _shape(mask > 0) == _shape(before > 0)
        assert left == np.count_nonzero(mask != target) < np.count_nonzero(before != target)


def test_settle_reaches_a_target_of_the_same_shape() -> None:
    import cv2

    from pipeline.select.classic.topology import settle

    disc, bigger = np.zeros((80, 80), np.float32), np.zeros((80, 80), np.float32)
    cv2.circle(disc, (40, 40), 15, 1.0, -1)
    cv2.circle(bigger, (38, 43), 22, 1.0, -1)
    for start, goal in ((disc, bigger), (bigger, disc)):
        moved = start.copy()
        assert settle(moved, goal, np.arange(moved.size)) == 0
        assert np.array_equal(moved, goal)


def _labelled_bottle(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A dark bottle on a light backdrop whose light label wraps round its right edge (examples/oil_tall).

    Returns the 585x1170 photo and the bottle's true mask (label included).
    """
    import cv2

    h, w = 1170, 585
    image = np.empty((h, w, 3), np.float32)
    image[:] = (226, 216, 196)
    body, label = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    cv2.rectangle(body, (198, 252), (404, 1098), 1, -1)
    cv2.rectangle(label, (207, 603), (404, 899), 1, -1)  # no rim of bottle colour on the right
    image[body > 0] = (40, 80, 50)
    image[label > 0] = (222, 212, 194)  # about the backdrop's colour
    image = cv2.GaussianBlur(image, (0, 0), 1.0) + rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), body > 0


def test_an_enclosed_label_stays_enclosed(rng: np.random.Generator) -> None:
    """The working-scale cut holds the label as a hole closed by one working pixel on the right; the
    photo there says "background", so the band would open the hole to the outside and "fill holes"
    would no longer close it. With the topology kept the hole stays a hole."""
    import dataclasses

    import cv2

    from pipeline import masks
    from pipeline.select.classic.edges import EDGES, refine_edges, upscale_soft

    image, bottle = _labelled_bottle(rng)
    small = cv2.resize(image, (65, 130), interpolation=cv2.INTER_AREA)  # one working pixel is 9x9 photo pixels
    cut = np.zeros((130, 65), bool)
    cut[28:122, 22:45] = True
    cut[67:100, 24:44] = False  # the label

    def filled_iou(tuning) -> float:  # noqa: ANN001
        refined = refine_edges(image, small, cut, 1 / 9, tuning) >= 0.5
        filled = masks.fill_holes(refined.astype(np.float32)) >= 0.5
        return float(np.count_nonzero(filled & bottle) / np.count_nonzero(filled | bottle))

    kept = refine_edges(image, small, cut, 1 / 9) >= 0.5
    assert _shape(kept) == _shape(upscale_soft(cut, (585, 1170)) >= 0.5) == (1, 2)
    assert filled_iou(EDGES) > 0.99
    assert filled_iou(dataclasses.replace(EDGES, keep_topology=False)) < 0.8  # what the old band did


def test_the_oil_bottle_example_keeps_its_label_enclosed() -> None:
    """examples/oil_tall, its suggested clicks, full-size edges on: "fill holes" still closes the label."""
    from examples.catalog import get_example
    from pipeline import masks
    from pipeline.io.images import load_image, load_mask

    example = get_example("oil_tall")
    image = load_image(example.file).rgb
    truth = masks.threshold(load_mask(example.mask_file, size=example.size)) >= 0.5
    points = [Point(x, y, positive) for x, y, positive in example.mask_source.points]
    found = {}
    for edges in (True, False):
        selector = ClassicSelector(full_size_edges=edges)
        prepared, selection = selector.prepare(image), None
        for k in range(len(points)):
            selection = selector.select(prepared, points[: k + 1], previous=selection)
        found[edges] = selection.best.mask >= 0.5
    assert _shape(found[True]) == _shape(found[False])
    filled = masks.fill_holes(found[True].astype(np.float32)) >= 0.5
    assert np.count_nonzero(filled & truth) / np.count_nonzero(filled | truth) > 0.98


@pytest.mark.slow
def test_the_12_mp_sneaker_heel_has_no_stair_steps() -> None:
    """examples/sneaker_wood (4000x3000): along the heel the edge is within 1.5 px of the true one."""
    from examples.catalog import get_example
    from pipeline.io.images import load_image, load_mask

    example = get_example("sneaker_wood")
    image = load_image(example.file).rgb
    truth = load_mask(example.mask_file, size=example.size) >= 0.5
    points = [Point(x, y, positive) for x, y, positive in example.mask_source.points]
    heel = (slice(1380, 1900), slice(3100, 3320))
    matched = {}
    for edges in (True, False):
        selector = ClassicSelector(full_size_edges=edges)
        prepared = selector.prepare(image)
        mask = selector.select(prepared, points).best.mask >= 0.5
        matched[edges] = _matched(mask[heel], truth[heel], tolerance=1.5)
    assert matched[True] > 0.95
    assert matched[False] < 0.75  # the upscaled mask's 9 px steps
