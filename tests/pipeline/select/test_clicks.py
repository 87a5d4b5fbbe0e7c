"""The click-simulation protocol and its metrics, with fake segmenters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from pipeline.errors import InvalidInput
from pipeline.select.clicks import ClickCurve, iou, next_click, run_protocol, summarize
from pipeline.select.protocol import Candidate, Segmenter, Selection
from pipeline.types import Box, Point


@dataclass(frozen=True)
class _Prepared:
    size: tuple[int, int]


class _Perfect:
    """Returns the true mask whatever the clicks."""

    name = "perfect"

    def __init__(self, truth: np.ndarray) -> None:
        self.truth = truth.astype(np.float32)
        self.prepared = 0

    def prepare(self, image: np.ndarray) -> _Prepared:
        self.prepared += 1
        return _Prepared((image.shape[1], image.shape[0]))

    def select(self, prepared, points: Sequence[Point], box: Box | None = None, previous=None) -> Selection:
        return Selection((Candidate(self.truth, 1.0),), state=len(points))


class _Useless(_Perfect):
    """Selects a fixed corner square, never the object."""

    name = "useless"

    def select(self, prepared, points, box=None, previous=None) -> Selection:
        assert previous is None or previous.state == len(points) - 1  # previous is passed along
        mask = np.zeros_like(self.truth)
        mask[:3, :3] = 1.0
        return Selection((Candidate(mask, 0.1),), state=len(points))


def _dataset() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    items = []
    for radius in (8, 12):
        yy, xx = np.mgrid[0:40, 0:48]
        truth = (xx - 24) ** 2 + (yy - 20) ** 2 <= radius**2
        ring = ((xx - 24) ** 2 + (yy - 20) ** 2 <= (radius + 1) ** 2) & ~truth
        items.append((np.zeros((40, 48, 3), np.uint8), truth, ring))
    return items


def test_first_click_is_the_object_centre() -> None:
    _, truth, ring = _dataset()[0]
    click = next_click(np.zeros_like(truth), truth, ring)
    assert click == Point(24.0, 20.0, True)


def test_next_click_goes_to_the_largest_error_region() -> None:
    truth = np.zeros((30, 40), bool)
    truth[5:25, 5:20] = True
    prediction = truth.copy()
    prediction[5:25, 5:8] = False  # missed: 20x3
    prediction[10:20, 25:35] = True  # wrongly selected: 10x10, larger
    click = next_click(prediction, truth)
    assert click is not None and not click.positive
    assert 25 <= click.x < 35 and 10 <= click.y < 20
    assert next_click(truth, truth) is None


def test_iou_leaves_out_ignored_pixels() -> None:
    truth = np.zeros((4, 4), bool)
    truth[:2] = True
    prediction = truth.copy()
    prediction[2] = True
    ignore = np.zeros((4, 4), bool)
    assert iou(prediction, truth) == pytest.approx(8 / 12)
    ignore[2] = True
    assert iou(prediction, truth, ignore) == 1.0


def test_perfect_segmenter_needs_one_click() -> None:
    curves = []
    for image, truth, ring in _dataset():
        segmenter = _Perfect(truth)
        assert isinstance(segmenter, Segmenter)
        curves.append(run_protocol(segmenter, image, truth, ring, max_clicks=20))
        assert segmenter.prepared == 1
    summary = summarize(curves)
    assert (summary.noc85, summary.noc90, summary.miou1, summary.miou5, summary.n) == (1, 1, 1.0, 1.0, 2)


def test_useless_segmenter_counts_max_clicks() -> None:
    curves = [run_protocol(_Useless(t), im, t, r, max_clicks=7) for im, t, r in _dataset()]
    assert all(len(c.ious) == 7 for c in curves)
    summary = summarize(curves)
    assert summary.noc85 == 7 and summary.noc90 == 7
    assert summary.miou1 == 0.0 and summary.miou5 == 0.0


def test_curve_metrics_and_summary_line() -> None:
    curve = ClickCurve("a", (0.5, 0.86, 0.91), max_clicks=20)
    assert (curve.noc(0.85), curve.noc(0.90), curve.noc(0.95)) == (2, 3, 20)
    assert curve.iou_at(1) == 0.5 and curve.iou_at(5) == 0.91
    line = summarize([curve]).line()
    assert line == "NoC@85=2.00 NoC@90=3.00 mIoU@1=0.5000 mIoU@5=0.9100 n=1"


def test_protocol_rejects_bad_ground_truth() -> None:
    image, truth, _ = _dataset()[0]
    with pytest.raises(InvalidInput, match="selects nothing"):
        run_protocol(_Perfect(truth), image, np.zeros_like(truth))
    with pytest.raises(InvalidInput, match="ground truth is"):
        run_protocol(_Perfect(truth), image, truth[:-1])
    with pytest.raises(InvalidInput, match="no images"):
        summarize([])
