"""Click selection: the ``Segmenter`` protocol and what every backend shares.

A segmenter splits its work the way Segment Anything does: ``prepare(image)`` does the
expensive part once per photo (the image embedding), ``select(prepared, points, box,
previous)`` runs on every click and returns candidate masks, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from pipeline.errors import InvalidInput
from pipeline.types import Box, Mask, Point

MAX_POINTS = 64


@dataclass(frozen=True)
class Candidate:
    """One proposed mask: a binary ``Mask`` at full image size and the backend's confidence.

    ``score`` is in [0, 1]: SAM's predicted IoU, or the classical selector's own estimate.
    """

    mask: Mask
    score: float


@dataclass(frozen=True)
class Selection:
    """The result of one ``select`` call.

    ``candidates`` are ordered best first (never empty). ``state`` is backend-private data
    that a later ``select`` may refine from when passed back as ``previous`` (SAM keeps its
    low-resolution logits there); callers treat it as opaque.
    """

    candidates: tuple[Candidate, ...]
    state: object | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.candidates:
            raise InvalidInput("a selection needs at least one candidate mask")

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


@runtime_checkable
class Prepared(Protocol):
    """What ``prepare`` returns: opaque to callers except for the photo's size."""

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the prepared photo in pixels."""
        ...


P = TypeVar("P", bound=Prepared)


@runtime_checkable
class Segmenter(Protocol[P]):
    """A click-selection backend (SAM, the classical selector, a test fake).

    Generic in the backend's own ``Prepared`` type: ``select`` takes what ``prepare`` returned.
    """

    name: str

    def prepare(self, image: np.ndarray) -> P:
        """Do the once-per-photo work for an ``(H, W, 3)`` uint8 RGB image."""
        ...

    def select(
        self,
        prepared: P,
        points: Sequence[Point],
        box: Box | None = None,
        previous: Selection | None = None,
    ) -> Selection:
        """Candidate masks for the clicks (image pixels) and optional box, best first."""
        ...


AnySegmenter = Segmenter[Any]
"""A segmenter of any backend, as the registry and the UI hold it."""


def check_prompt(size: tuple[int, int], points: Sequence[Point], box: Box | None) -> None:
    """Raise ``InvalidInput`` unless the clicks and box make a usable prompt for a photo of ``size``.

    ``size`` is ``(width, height)``. Points must lie inside the photo (``0 <= x < width``),
    there may be at most ``MAX_POINTS`` of them, and there must be at least one point or a box
    that overlaps the photo.
    """
    width, height = size
    if not points and box is None:
        raise InvalidInput("nothing to select from: click on the object or draw a box around it")
    if len(points) > MAX_POINTS:
        raise InvalidInput(
            f"{len(points)} clicks is more than the {MAX_POINTS} a selection takes; "
            "undo some clicks or clear and start again"
        )
    for point in points:
        if not (0 <= point.x < width and 0 <= point.y < height):
            raise InvalidInput(
                f"click at ({point.x:g}, {point.y:g}) is outside the {width}x{height} photo; click inside the photo"
            )
    if box is not None and (box.x1 <= 0 or box.y1 <= 0 or box.x0 >= width or box.y0 >= height):
        raise InvalidInput(
            f"box ({box.x0:g}, {box.y0:g}, {box.x1:g}, {box.y1:g}) lies outside the {width}x{height} photo; "
            "draw it on the photo"
        )
