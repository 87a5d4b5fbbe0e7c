"""Fake backends for the UI tests: a selector that paints a disc at the click, an engine that paints grey."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.inpaint.protocol import CancelFlag, InpaintRequest, ProgressFn
from pipeline.models import Chosen
from pipeline.select.protocol import Candidate, Selection
from pipeline.settings import Settings
from pipeline.types import Box, Image, Point
from ui.services import Services

DISC_RADII_PX = (20, 10, 30)


@dataclass(frozen=True)
class FakePrepared:
    size: tuple[int, int]


class FakeSegmenter:
    """Candidates are discs of radius 20, 10 and 30 px around the first positive click (or the box)."""

    name = "fake-selector"

    def __init__(self) -> None:
        self.prepared = 0

    def prepare(self, image: np.ndarray) -> FakePrepared:
        self.prepared += 1
        return FakePrepared((image.shape[1], image.shape[0]))

    def select(
        self, prepared: FakePrepared, points: Sequence[Point], box: Box | None = None, previous: Selection | None = None
    ) -> Selection:
        width, height = prepared.size
        positives = [p for p in points if p.positive]
        if positives:
            cx, cy = positives[0].x, positives[0].y
        else:
            assert box is not None
            cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        yy, xx = np.mgrid[0:height, 0:width]
        discs = []
        for radius, score in zip(DISC_RADII_PX, (0.9, 0.6, 0.3), strict=True):
            disc = ((xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2).astype(np.float32)
            for point in points:
                if not point.positive:
                    disc[int(point.y), int(point.x)] = 0.0
            discs.append(Candidate(disc, score))
        return Selection(tuple(discs))


class FakeInpainter:
    """Paints the masked area mid-grey, blending soft edges; pixels where the mask is 0 stay exact."""

    name = "fake-engine"

    def inpaint(
        self, request: InpaintRequest, *, progress: ProgressFn | None = None, cancel: CancelFlag | None = None
    ) -> Image:
        for step in range(1, 3):
            if cancel is not None and cancel.is_set():
                from pipeline.errors import Cancelled

                raise Cancelled("cancelled")
            if progress is not None:
                progress(step, 2)
        m = request.mask[..., None]
        out = request.image * (1 - m) + 128.0 * m
        result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        return np.where(request.mask[..., None] > 0, result, request.image)


def fake_services(settings: Settings | None = None) -> Services:
    return Services(
        settings or Settings(),
        Chosen(FakeSegmenter(), "fake selector: test"),
        Chosen(FakeInpainter(), "fake engine: test"),
        "cpu",
        remover=Chosen(FakeInpainter(), "fake engine: test"),
    )
