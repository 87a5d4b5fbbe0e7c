"""The steps of a recipe: frozen dataclasses, each validated when it is built.

A recipe is an ordered list of steps replayed on a photo:

- **mask steps** build the current mask, each combined into it with its ``combine`` mode:
  ``Clicks`` (points and a box through a selector), ``ColorRange``, ``LuminanceRange``,
  ``AlphaChannel`` (the photo's own transparency), ``LabelClasses`` and ``StoredMask`` (a
  painted or imported mask, kept in the recipe as 8-bit levels);
- ``Refine`` turns the current mask into the one an edit uses;
- **edits** change the photo: ``Remove``, ``Inpaint``, ``ReplaceBackground``, ``ExtendCanvas``;
  the result becomes the photo for any later steps;
- ``Output`` frames and encodes the final result.

Steps tied to one photo (pixel clicks, a stored mask, an embedded label map) carry the
``(width, height)`` they were made on; replaying them on a photo of another size is an error.
Every other step replays on any photo. Numbers are in pixels of the photo the step runs on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeGuard

import numpy as np

from pipeline.colors import RGB, is_rgb
from pipeline.edits.background import BlurredOriginal, Gradient, ImageBackground, PromptBackground, Shadow, SolidColor
from pipeline.edits.outpaint import Padding
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import DEFAULT_PROMPTING, Prompting
from pipeline.masks import COMBINE_MODES, CombineMode
from pipeline.types import Box, Point

EngineKind = Literal["auto", "diffusion", "classic"]
Fill = SolidColor | Gradient | BlurredOriginal | ImageBackground | PromptBackground
Size = tuple[int, int]

MAX_GROW_PX = 1000
MAX_FEATHER_PX = 500.0
MAX_MATTE_PX = 64
MAX_MARGIN_PX = 4096
MAX_CANVAS_SIDE = 8192
MAX_LABEL_ID = 2**31 - 1


def _describe(array: object) -> str:
    if isinstance(array, np.ndarray):
        return f"a {array.shape} {array.dtype} array"
    return type(array).__name__


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInput(message)


def _whole(value: object, low: int, high: int, name: str) -> None:
    ok = _is_whole(value) and bool(low <= value <= high)
    _require(ok, f"{name} is {value!r}; use a whole number from {low} to {high}")


def _real(value: object, low: float, high: float, name: str) -> None:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    # NaN fails every comparison and the range is finite: no overflow for a huge int, no infinity.
    _require(low <= number <= high, f"{name} is {value!r}; use a number from {low:g} to {high:g}")


def _size(size: object, name: str = "size") -> None:
    ok = isinstance(size, tuple) and len(size) == 2 and all(_is_whole(v) and v > 0 for v in size)
    _require(ok, f"{name} is {size!r}; use (width, height) in whole pixels")


def _is_whole(value: object) -> TypeGuard[int | np.integer]:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_rgb(value: object) -> bool:
    return isinstance(value, tuple) and is_rgb(value)


def _combine(mode: object) -> None:
    _require(mode in COMBINE_MODES, f"combine is {mode!r}; use one of {', '.join(COMBINE_MODES)}")


# ---------------------------------------------------------------- mask steps


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
        _size(self.size)
        _combine(self.combine)
        _require(bool(self.points) or self.box is not None, "clicks has no point and no box; click the product")
        _require(
            isinstance(self.points, tuple) and all(isinstance(p, Point) for p in self.points),
            f"points is {self.points!r}; use a tuple of Point(x, y, positive)",
        )
        _require(self.box is None or isinstance(self.box, Box), f"box is {self.box!r}; use a Box(x0, y0, x1, y1)")
        _require(len(self.points) <= 64, f"clicks has {len(self.points)} points; use at most 64")
        _whole(self.candidate, 0, 15, "candidate")


@dataclass(frozen=True, kw_only=True)
class ColorRange:
    """Pixels within ``tolerance`` (Delta-E) of ``color``, rolling off over ``softness``."""

    kind: ClassVar[str] = "color"
    color: RGB
    tolerance: float = 12.0
    softness: float = 0.0
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        _require(_is_rgb(self.color), f"color is {self.color!r}; use (r, g, b) with whole numbers 0 to 255")
        _real(self.tolerance, 0.0, 400.0, "tolerance")
        _real(self.softness, 0.0, 400.0, "softness")
        _combine(self.combine)


@dataclass(frozen=True, kw_only=True)
class LuminanceRange:
    """Pixels whose luma (0 black .. 1 white) lies in ``[low, high]``, rolling off over ``softness``."""

    kind: ClassVar[str] = "luminance"
    low: float
    high: float
    softness: float = 0.05
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        _real(self.low, 0.0, 1.0, "low")
        _real(self.high, 0.0, 1.0, "high")
        _require(self.low <= self.high, f"luminance range {self.low:g}..{self.high:g} has low > high; swap them")
        _real(self.softness, 0.0, 1.0, "softness")
        _combine(self.combine)


@dataclass(frozen=True, kw_only=True)
class AlphaChannel:
    """The photo's own transparency: opaque = selected; ``threshold`` None keeps it soft."""

    kind: ClassVar[str] = "alpha"
    threshold: float | None = None
    combine: CombineMode = "replace"

    def __post_init__(self) -> None:
        if self.threshold is not None:
            _real(self.threshold, 0.0, 1.0, "threshold")
        _combine(self.combine)


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
        _require(
            isinstance(levels, np.ndarray) and levels.ndim == 2 and levels.dtype == np.uint8 and levels.size > 0,
            f"levels is {_describe(levels)}; a stored mask must be non-empty (H, W) uint8 levels",
        )
        _require(
            self.origin in ("sketch", "mask", "alpha", "gray", "example", "result"),
            f"origin is {self.origin!r}; use sketch, mask, alpha, gray, example or result",
        )
        _combine(self.combine)

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
        _require(isinstance(classes, tuple) and bool(classes), "labels needs a tuple of at least one class")
        _require(len(classes) <= 256, f"labels has {len(classes)} classes; use at most 256")
        ids = all(_is_whole(c) and 0 <= c <= MAX_LABEL_ID for c in classes)
        _require(
            ids or all(_is_rgb(c) for c in classes),
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
            _require(
                (gray or rgb) and labels.size > 0,
                f"labels is {_describe(labels)}; use an (H, W) integer map or an (H, W, 3) uint8 colour map",
            )
            _require(
                rgb != ids,
                "the classes are "
                + ("ids but the label map is colour-coded" if ids else "colours but the label map holds ids"),
            )
        _combine(self.combine)

    @property
    def size(self) -> Size | None:
        return None if self.labels is None else (int(self.labels.shape[1]), int(self.labels.shape[0]))


MaskStep = Clicks | ColorRange | LuminanceRange | AlphaChannel | StoredMask | LabelClasses


# ---------------------------------------------------------------- refine


@dataclass(frozen=True, kw_only=True)
class Refine:
    """Turn the current mask into the one an edit uses, in this fixed order:

    invert, fill holes, remove specks smaller than ``min_speck_px`` pixels, grow (``grow_px`` > 0)
    or shrink (< 0), refine the edge into a soft matte within ``matte_px`` of it (0: off), feather
    by ``feather_px``. Inverting comes first, so every other step works on what the edit will
    change or keep (a backdrop picked by colour, inverted, is the product; its holes are filled).

    **Feather softens outward only.** Every pixel the mask fully selects stays fully selected;
    the soft band lies outside the selection. So a feathered background replacement keeps the
    product's own edge pixels exact, and a feathered removal still replaces all of the object.
    """

    kind: ClassVar[str] = "refine"
    fill_holes: bool = False
    min_speck_px: int = 0
    grow_px: int = 0
    matte_px: int = 0
    invert: bool = False
    feather_px: float = 0.0

    def __post_init__(self) -> None:
        _require(isinstance(self.fill_holes, bool), "fill_holes must be true or false")
        _require(isinstance(self.invert, bool), "invert must be true or false")
        _whole(self.min_speck_px, 0, 100_000_000, "min_speck_px")
        _whole(self.grow_px, -MAX_GROW_PX, MAX_GROW_PX, "grow_px")
        _whole(self.matte_px, 0, MAX_MATTE_PX, "matte_px")
        _real(self.feather_px, 0.0, MAX_FEATHER_PX, "feather_px")

    @property
    def is_identity(self) -> bool:
        return self == Refine()


# ---------------------------------------------------------------- edits


def _prompting(prompting: object) -> None:
    _require(isinstance(prompting, Prompting), f"prompting is {type(prompting).__name__}; use a Prompting")


def _engine(kind: object, margin_px: object) -> None:
    _require(kind in ("auto", "diffusion", "classic"), f"engine is {kind!r}; use auto, diffusion or classic")
    if margin_px is not None:
        _whole(margin_px, 0, MAX_MARGIN_PX, "margin_px")


@dataclass(frozen=True, kw_only=True)
class Remove:
    """Remove what the mask selects and fill it from its surroundings (no prompt).

    ``grow_px``: grow the mask first by this much; None picks 4 px for small or thin masks.
    ``prompting``: a diffusion engine's seed, steps and guidance (its prompt is usually empty).
    ``margin_px``: context kept around the mask when a diffusion engine works on a crop (None:
    the engine's setting, ``STENCIL_INPAINT_CONTEXT_PX``).
    """

    kind: ClassVar[str] = "remove"
    grow_px: int | None = None
    prompting: Prompting = DEFAULT_PROMPTING
    engine: EngineKind = "auto"
    margin_px: int | None = None

    def __post_init__(self) -> None:
        if self.grow_px is not None:
            _whole(self.grow_px, 0, MAX_GROW_PX, "grow_px")
        _prompting(self.prompting)
        _engine(self.engine, self.margin_px)


@dataclass(frozen=True, kw_only=True)
class Inpaint:
    """Repaint what the mask selects as ``prompting`` asks (a diffusion engine reads the prompt)."""

    kind: ClassVar[str] = "inpaint"
    prompting: Prompting = DEFAULT_PROMPTING
    engine: EngineKind = "auto"
    margin_px: int | None = None

    def __post_init__(self) -> None:
        _prompting(self.prompting)
        _engine(self.engine, self.margin_px)


@dataclass(frozen=True, kw_only=True)
class ReplaceBackground:
    """Put ``fill`` behind the subject the mask selects (1 = keep), with an optional ``shadow``.

    Pixels the mask fully selects stay byte-identical. A ``PromptBackground`` runs the engine.
    """

    kind: ClassVar[str] = "background"
    fill: Fill
    shadow: Shadow | None = None
    engine: EngineKind = "auto"
    margin_px: int | None = None

    def __post_init__(self) -> None:
        _require(isinstance(self.fill, Fill), f"fill is {type(self.fill).__name__}; use a colour, gradient, blur...")
        _require(
            self.shadow is None or isinstance(self.shadow, Shadow), f"shadow is {self.shadow!r}; use a Shadow or None"
        )
        _engine(self.engine, self.margin_px)


@dataclass(frozen=True, kw_only=True)
class ExtendCanvas:
    """Add ``padding`` (or extend to ``aspect`` W:H) around the photo and fill the new area.

    Exactly one of ``padding`` and ``aspect`` is given. The mask is not used.
    """

    kind: ClassVar[str] = "outpaint"
    padding: Padding | None = None
    aspect: tuple[int, int] | None = None
    overlap_px: int = 16
    prompting: Prompting = DEFAULT_PROMPTING
    engine: EngineKind = "auto"
    margin_px: int | None = None

    def __post_init__(self) -> None:
        _require(
            (self.padding is None) != (self.aspect is None),
            "extend canvas needs either padding (left, right, top, bottom) or an aspect such as 1:1, not both",
        )
        if self.padding is not None:
            _require(isinstance(self.padding, Padding), f"padding is {self.padding!r}; use a Padding")
        if self.aspect is not None:
            aspect = self.aspect
            _require(
                isinstance(aspect, tuple) and len(aspect) == 2 and all(_is_whole(v) and 0 < v <= 9999 for v in aspect),
                f"aspect is {aspect!r}; use (width, height) such as (1, 1) or (16, 9)",
            )
        _whole(self.overlap_px, 0, 256, "overlap_px")
        _prompting(self.prompting)
        _engine(self.engine, self.margin_px)


Edit = Remove | Inpaint | ReplaceBackground | ExtendCanvas


# ---------------------------------------------------------------- output


@dataclass(frozen=True, kw_only=True)
class Output:
    """How the final result is framed and written.

    - ``format`` / ``quality``: the file the CLI, the page and batch runs write; ``quality`` (1-100)
      is JPEG's, PNG and WebP are lossless. ``Output.jpeg_quality`` is what a writer passes on.
    - ``canvas``: ``(width, height)`` of a catalogue frame, or None to keep the result's size.
      The mask's box is scaled to ``subject_share`` of the frame (0.85: the product fills 85% of
      the longer fitting side), centred, and the rest filled with ``fill``.
    - ``crop_margin_px``: margin of the "crop to the mask" output, at full resolution.
    """

    kind: ClassVar[str] = "output"
    format: Literal["png", "jpeg", "webp"] = "png"
    quality: int = 95
    canvas: Size | None = None
    subject_share: float = 0.85
    fill: RGB = (255, 255, 255)
    crop_margin_px: int = 16

    def __post_init__(self) -> None:
        _require(self.format in ("png", "jpeg", "webp"), f"format is {self.format!r}; use png, jpeg or webp")
        _whole(self.quality, 1, 100, "quality")
        if self.canvas is not None:
            _size(self.canvas, "canvas")
            _require(max(self.canvas) <= MAX_CANVAS_SIDE, f"canvas {self.canvas} is above {MAX_CANVAS_SIDE} px a side")
        _real(self.subject_share, 0.05, 1.0, "subject_share")
        _require(_is_rgb(self.fill), f"fill is {self.fill!r}; use (r, g, b) with whole numbers 0 to 255")
        _whole(self.crop_margin_px, 0, 4096, "crop_margin_px")

    @property
    def jpeg_quality(self) -> int | None:
        """The quality a writer uses: ``quality`` for JPEG, None (lossless) for PNG and WebP."""
        return self.quality if self.format == "jpeg" else None


Step = MaskStep | Refine | Edit | Output
STEP_TYPES: dict[str, type] = {
    cls.kind: cls
    for cls in (
        Clicks,
        ColorRange,
        LuminanceRange,
        AlphaChannel,
        StoredMask,
        LabelClasses,
        Refine,
        Remove,
        Inpaint,
        ReplaceBackground,
        ExtendCanvas,
        Output,
    )
}
MASK_STEPS = (Clicks, ColorRange, LuminanceRange, AlphaChannel, StoredMask, LabelClasses)
EDIT_STEPS = (Remove, Inpaint, ReplaceBackground, ExtendCanvas)

RECIPE_VERSION = 2
"""Version 1 was the record the page wrote before recipes could be replayed."""
MAX_STEPS = 1000


@dataclass(frozen=True)
class Recipe:
    """An ordered list of steps (see the module docstring); ``Output`` may only come last."""

    steps: tuple[Step, ...] = field(default=())

    def __post_init__(self) -> None:
        _require(isinstance(self.steps, tuple), "a recipe's steps must be a tuple")
        _require(len(self.steps) <= MAX_STEPS, f"the recipe has {len(self.steps)} steps; use at most {MAX_STEPS}")
        for index, step in enumerate(self.steps):
            _require(isinstance(step, tuple(STEP_TYPES.values())), f"step {index + 1} is not a recipe step")
            if isinstance(step, Output):
                _require(index == len(self.steps) - 1, f"step {index + 1} (output) must be the last step")

    @property
    def output(self) -> Output:
        last = self.steps[-1] if self.steps else None
        return last if isinstance(last, Output) else Output()

    def then(self, *steps: Step) -> Recipe:
        """A recipe with ``steps`` appended."""
        return Recipe((*self.steps, *steps))
