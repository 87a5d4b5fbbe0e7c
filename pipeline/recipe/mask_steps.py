"""The recipe's mask steps: one per source, each combined into the current mask with its mode.

Steps tied to one photo (``Clicks``, ``StoredMask``, a ``LabelClasses`` carrying its map) know
the ``(width, height)`` they were made on; the others replay on any photo. See ``steps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from pipeline.colors import RGB
from pipeline.masks import CombineMode
from pipeline.recipe.checks import (
    MAX_LABEL_ID,
    MAX_POINTS,
    check_combine,
    check_real,
    check_size,
    check_whole,
    describe_array,
    is_rgb_tuple,
    is_whole,
    require,
)
from pipeline.types import Box, Point

Size = tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class Clicks:
    """Clicks and an optional box on one photo of ``size`` (width, height), run through a selector.

    Replay applies the points in order, each refining the selection of the ones before (as the
    page does click by click), and uses candidate ``candidate`` (0 = best) of the last one.
    """

    kind: ClassVar[str] = "clicks"
    size: Size
    points: tuple[Point, ...] = ()
    box: Box | None = None
    candidate: int = 0
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        check_size(self.size)
        check_combine(self.combine)
        require(bool(self.points) or self.box is not None, "clicks has no point and no box; click the product")
        require(
            isinstance(self.points, tuple) and all(isinstance(p, Point) for p in self.points),
            f"points is {self.points!r}; use a tuple of Point(x, y, positive)",
        )
        require(self.box is None or isinstance(self.box, Box), f"box is {self.box!r}; use a Box(x0, y0, x1, y1)")
        require(len(self.points) <= MAX_POINTS, f"clicks has {len(self.points)} points; use at most {MAX_POINTS}")
        check_whole(self.candidate, 0, 15, "candidate")


@dataclass(frozen=True, kw_only=True)
class ColorRange:
    """Pixels within ``tolerance`` (Delta-E) of ``color``, rolling off over ``softness``."""

    kind: ClassVar[str] = "color"
    color: RGB
    tolerance: float = 12.0
    softness: float = 0.0
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        require(is_rgb_tuple(self.color), f"color is {self.color!r}; use (r, g, b) with whole numbers 0 to 255")
        check_real(self.tolerance, 0.0, 400.0, "tolerance")
        check_real(self.softness, 0.0, 400.0, "softness")
        check_combine(self.combine)


@dataclass(frozen=True, kw_only=True)
class LuminanceRange:
    """Pixels whose luma (0 black .. 1 white) lies in ``[low, high]``, rolling off over ``softness``."""

    kind: ClassVar[str] = "luminance"
    low: float
    high: float
    softness: float = 0.05
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        check_real(self.low, 0.0, 1.0, "low")
        check_real(self.high, 0.0, 1.0, "high")
        require(self.low <= self.high, f"luminance range {self.low:g}..{self.high:g} has low > high; swap them")
        check_real(self.softness, 0.0, 1.0, "softness")
        check_combine(self.combine)


@dataclass(frozen=True, kw_only=True)
class AlphaChannel:
    """The photo's own transparency: opaque = selected; ``threshold`` None keeps it soft."""

    kind: ClassVar[str] = "alpha"
    threshold: float | None = None
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        if self.threshold is not None:
            check_real(self.threshold, 0.0, 1.0, "threshold")
        check_combine(self.combine)


@dataclass(frozen=True, kw_only=True, eq=False)
class StoredMask:
    """A mask kept in the recipe: painted, imported (a mask, an alpha, a grey map) or inherited.

    ``levels`` is ``(H, W)`` uint8, ``round(255 * mask)``; ``origin`` says where it came from.
    """

    kind: ClassVar[str] = "mask"
    levels: np.ndarray
    origin: Literal["sketch", "mask", "alpha", "gray", "example", "result"] = "mask"
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        levels = self.levels
        require(
            isinstance(levels, np.ndarray) and levels.ndim == 2 and levels.dtype == np.uint8 and levels.size > 0,
            f"levels is {describe_array(levels)}; a stored mask must be non-empty (H, W) uint8 levels",
        )
        require(
            self.origin in ("sketch", "mask", "alpha", "gray", "example", "result"),
            f"origin is {self.origin!r}; use sketch, mask, alpha, gray, example or result",
        )
        check_combine(self.combine)

    @property
    def size(self) -> Size:
        return int(self.levels.shape[1]), int(self.levels.shape[0])


@dataclass(frozen=True, kw_only=True, eq=False)
class LabelClasses:
    """The pixels of a label map whose class is one of ``classes`` (ids, or ``(r, g, b)`` colours).

    ``labels`` is the map itself, ``(H, W)`` integer ids or ``(H, W, 3)`` uint8 colours, or None:
    then the label map comes with each photo at replay (``stencil apply --labels FOLDER``).
    """

    kind: ClassVar[str] = "labels"
    classes: tuple[int | RGB, ...]
    labels: np.ndarray | None = None
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        classes = self.classes
        require(isinstance(classes, tuple) and bool(classes), "labels needs a tuple of at least one class")
        require(len(classes) <= 256, f"labels has {len(classes)} classes; use at most 256")
        ids = all(is_whole(c) and 0 <= c <= MAX_LABEL_ID for c in classes)
        require(
            ids or all(is_rgb_tuple(c) for c in classes),
            f"classes is {classes!r}; use ids from 0 to {MAX_LABEL_ID}, or (r, g, b) colours of 0..255, not a mix",
        )
        labels = self.labels
        if labels is not None:
            gray = isinstance(labels, np.ndarray) and labels.ndim == 2 and np.issubdtype(labels.dtype, np.integer)
            rgb = (
                isinstance(labels, np.ndarray)
                and labels.ndim == 3
                and labels.shape[2] == 3
                and labels.dtype == np.uint8
            )
            require(
                (gray or rgb) and labels.size > 0,
                f"labels is {describe_array(labels)}; use an (H, W) integer map or an (H, W, 3) uint8 colour map",
            )
            require(
                rgb != ids,
                "the classes are "
                + ("ids but the label map is colour-coded" if ids else "colours but the label map holds ids"),
            )
        check_combine(self.combine)

    @property
    def size(self) -> Size | None:
        return None if self.labels is None else (int(self.labels.shape[1]), int(self.labels.shape[0]))


@dataclass(frozen=True, kw_only=True)
class Subject:
    """The photo's subject, found with no clicks by ``engine`` (``pipeline.models.make_subject``).

    ``"auto"`` uses the subject model when one is configured (``STENCIL_SUBJECT_MODEL`` or a
    downloaded one), else the classical extractor; it replays on any photo.
    """

    kind: ClassVar[str] = "subject"
    engine: Literal["auto", "rembg", "classic"] = "auto"
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        require(self.engine in ("auto", "rembg", "classic"), f"engine is {self.engine!r}; use auto, rembg or classic")
        check_combine(self.combine)


@dataclass(frozen=True, kw_only=True)
class TextPrompt:
    """Every instance of ``text`` ("bottle", "red cup") that SAM 3 finds, or the ones picked.

    ``instances``: indices into the instances found, best score first (their union); None takes
    all of them. ``threshold``: the lowest SAM 3 score (0..1) that counts as a match. Replays on
    any photo; on a photo where nothing matches, replay stops with a clear error.
    """

    kind: ClassVar[str] = "text"
    text: str
    instances: tuple[int, ...] | None = None
    threshold: float = 0.5
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        from pipeline.select.text.sam3 import MAX_INSTANCES, check_text

        require(check_text(self.text) == self.text, f"text {self.text!r} has surrounding or repeated spaces; trim it")
        if self.instances is not None:
            require(
                isinstance(self.instances, tuple) and bool(self.instances),
                f"instances is {self.instances!r}; use a tuple of at least one index, or null for all",
            )
            for index in self.instances:
                check_whole(index, 0, MAX_INSTANCES - 1, "instance")
            require(len(set(self.instances)) == len(self.instances), f"instances {self.instances!r} repeat an index")
        check_real(self.threshold, 0.0, 0.99, "threshold")
        check_combine(self.combine)


MaskStep = Clicks | ColorRange | LuminanceRange | AlphaChannel | StoredMask | LabelClasses | Subject | TextPrompt
