"""The steps of a recipe: frozen dataclasses, each validated when it is built.

A recipe is an ordered list of steps replayed on a photo:

- **mask steps** build the current mask, each combined into it with its ``combine`` mode:
  ``Clicks`` (points and a box through a selector), ``ColorRange``, ``LuminanceRange``,
  ``AlphaChannel`` (the photo's own transparency), ``LabelClasses``, ``Subject`` (the product,
  found with no clicks), ``TextPrompt`` (objects found by name) and ``StoredMask`` (a painted or
  imported mask, kept in the recipe as 8-bit levels);
- ``Refine`` turns the current mask into the one an edit uses;
- **edits** change the photo: ``Remove``, ``Inpaint``, ``ReplaceBackground``, ``ExtendCanvas``;
  the result becomes the photo for any later steps;
- ``Output`` frames and encodes the final result.

Steps tied to one photo (pixel clicks, a stored mask, an embedded label map) carry the
``(width, height)`` they were made on; replaying them on a photo of another size is an error.
Every other step replays on any photo. Numbers are in pixels of the photo the step runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pipeline.colors import RGB
from pipeline.edits.background import BlurredOriginal, Gradient, ImageBackground, PromptBackground, Shadow, SolidColor
from pipeline.edits.outpaint import Padding
from pipeline.inpaint.control import Control, check_kinds
from pipeline.inpaint.protocol import DEFAULT_PROMPTING, Prompting
from pipeline.recipe.checks import (
    MAX_CANVAS_SIDE,
    MAX_FEATHER_PX,
    MAX_GROW_PX,
    MAX_MARGIN_PX,
    MAX_MATTE_PX,
    check_real,
    check_size,
    check_whole,
    is_rgb_tuple,
    is_whole,
    require,
)
from pipeline.recipe.mask_steps import (
    AlphaChannel,
    Clicks,
    ColorRange,
    LabelClasses,
    LuminanceRange,
    MaskStep,
    Size,
    StoredMask,
    Subject,
    TextPrompt,
)

EngineKind = Literal["auto", "diffusion", "classic"]
MatteEngine = Literal["auto", "vitmatte", "classic"]
Fill = SolidColor | Gradient | BlurredOriginal | ImageBackground | PromptBackground

# ---------------------------------------------------------------- refine


@dataclass(frozen=True, kw_only=True)
class Refine:
    """Turn the current mask into the one an edit uses, in this fixed order:

    invert, fill holes, remove specks smaller than ``min_speck_px`` pixels, grow (``grow_px`` > 0)
    or shrink (< 0), refine the edge into a soft matte within ``matte_px`` of it (0: off; by
    ``matte_engine``: "auto" is ViTMatte when configured, else the classical matte), feather by
    ``feather_px``. Inverting comes first, so every other step works on what the edit will
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
    matte_engine: MatteEngine = "auto"

    def __post_init__(self) -> None:
        require(isinstance(self.fill_holes, bool), "fill_holes must be true or false")
        require(
            self.matte_engine in ("auto", "vitmatte", "classic"),
            f"matte_engine is {self.matte_engine!r}; use auto, vitmatte or classic",
        )
        require(isinstance(self.invert, bool), "invert must be true or false")
        check_whole(self.min_speck_px, 0, 100_000_000, "min_speck_px")
        check_whole(self.grow_px, -MAX_GROW_PX, MAX_GROW_PX, "grow_px")
        check_whole(self.matte_px, 0, MAX_MATTE_PX, "matte_px")
        check_real(self.feather_px, 0.0, MAX_FEATHER_PX, "feather_px")

    @property
    def is_identity(self) -> bool:
        return self == Refine()


# ---------------------------------------------------------------- edits


def _prompting(prompting: object) -> None:
    require(isinstance(prompting, Prompting), f"prompting is {type(prompting).__name__}; use a Prompting")


def _controls(controls: object) -> None:
    require(
        isinstance(controls, tuple) and all(isinstance(c, Control) for c in controls),
        "controls must be a tuple of Control (seg, canny, mask or image guidance)",
    )
    check_kinds(controls)  # type: ignore[arg-type]


def _engine(kind: object, margin_px: object) -> None:
    require(kind in ("auto", "diffusion", "classic"), f"engine is {kind!r}; use auto, diffusion or classic")
    if margin_px is not None:
        check_whole(margin_px, 0, MAX_MARGIN_PX, "margin_px")


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
            check_whole(self.grow_px, 0, MAX_GROW_PX, "grow_px")
        _prompting(self.prompting)
        _engine(self.engine, self.margin_px)


@dataclass(frozen=True, kw_only=True)
class Inpaint:
    """Repaint what the mask selects as ``prompting`` asks (a diffusion engine reads the prompt).

    ``controls``: ControlNet guidance (``pipeline.inpaint.control.Control``: seg, canny, mask or
    an image, each with its conditioning scale and start/end); needs the diffusion engine with a
    ControlNet of each kind. A control picture carried here ties the step to photos of its size.
    """

    kind: ClassVar[str] = "inpaint"
    prompting: Prompting = DEFAULT_PROMPTING
    engine: EngineKind = "auto"
    margin_px: int | None = None
    controls: tuple[Control, ...] = ()

    def __post_init__(self) -> None:
        _prompting(self.prompting)
        _engine(self.engine, self.margin_px)
        _controls(self.controls)


@dataclass(frozen=True, kw_only=True)
class ReplaceBackground:
    """Put ``fill`` behind the subject the mask selects (1 = keep), with an optional ``shadow``.

    Pixels the mask fully selects stay byte-identical. A ``PromptBackground`` runs the engine,
    guided by ``controls`` when given (as ``Inpaint``'s; the engine's mask is the background).
    """

    kind: ClassVar[str] = "background"
    fill: Fill
    shadow: Shadow | None = None
    engine: EngineKind = "auto"
    margin_px: int | None = None
    controls: tuple[Control, ...] = ()

    def __post_init__(self) -> None:
        _controls(self.controls)
        require(
            not self.controls or isinstance(self.fill, PromptBackground),
            "guidance (controls) steers a generated background only; use a prompt fill or remove the controls",
        )
        require(isinstance(self.fill, Fill), f"fill is {type(self.fill).__name__}; use a colour, gradient, blur...")
        require(
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
        require(
            (self.padding is None) != (self.aspect is None),
            "extend canvas needs either padding (left, right, top, bottom) or an aspect such as 1:1, not both",
        )
        if self.padding is not None:
            require(isinstance(self.padding, Padding), f"padding is {self.padding!r}; use a Padding")
        if self.aspect is not None:
            aspect = self.aspect
            require(
                isinstance(aspect, tuple) and len(aspect) == 2 and all(is_whole(v) and 0 < v <= 9999 for v in aspect),
                f"aspect is {aspect!r}; use (width, height) such as (1, 1) or (16, 9)",
            )
        check_whole(self.overlap_px, 0, 256, "overlap_px")
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
        require(self.format in ("png", "jpeg", "webp"), f"format is {self.format!r}; use png, jpeg or webp")
        check_whole(self.quality, 1, 100, "quality")
        if self.canvas is not None:
            check_size(self.canvas, "canvas")
            require(max(self.canvas) <= MAX_CANVAS_SIDE, f"canvas {self.canvas} is above {MAX_CANVAS_SIDE} px a side")
        check_real(self.subject_share, 0.05, 1.0, "subject_share")
        require(is_rgb_tuple(self.fill), f"fill is {self.fill!r}; use (r, g, b) with whole numbers 0 to 255")
        check_whole(self.crop_margin_px, 0, 4096, "crop_margin_px")

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
        Subject,
        TextPrompt,
        Refine,
        Remove,
        Inpaint,
        ReplaceBackground,
        ExtendCanvas,
        Output,
    )
}
MASK_STEPS = (Clicks, ColorRange, LuminanceRange, AlphaChannel, StoredMask, LabelClasses, Subject, TextPrompt)
EDIT_STEPS = (Remove, Inpaint, ReplaceBackground, ExtendCanvas)

RECIPE_VERSION = 2
"""Version 1 was the record the page wrote before recipes could be replayed."""
MAX_STEPS = 1000


@dataclass(frozen=True)
class Recipe:
    """An ordered list of steps (see the module docstring); ``Output`` may only come last."""

    steps: tuple[Step, ...] = field(default=())

    def __post_init__(self) -> None:
        require(isinstance(self.steps, tuple), "a recipe's steps must be a tuple")
        require(len(self.steps) <= MAX_STEPS, f"the recipe has {len(self.steps)} steps; use at most {MAX_STEPS}")
        for index, step in enumerate(self.steps):
            require(isinstance(step, tuple(STEP_TYPES.values())), f"step {index + 1} is not a recipe step")
            if isinstance(step, Output):
                require(index == len(self.steps) - 1, f"step {index + 1} (output) must be the last step")

    @property
    def output(self) -> Output:
        last = self.steps[-1] if self.steps else None
        return last if isinstance(last, Output) else Output()

    def then(self, *steps: Step) -> Recipe:
        """A recipe with ``steps`` appended."""
        return Recipe((*self.steps, *steps))
