"""Per-browser-session state: a frozen ``Session`` kept in ``gr.State`` and replaced, never mutated.

Nothing here is shared between sessions: every handler takes a ``Session`` and returns a new one.
Images are full resolution (``(H, W, 3)`` uint8 RGB) and masks are ``(H, W)`` float32 in [0, 1] at
the image's size; the page shows a copy scaled by ``scale`` (display px per image px, <= 1).

Mask building works in *series*: consecutive operations from one source (clicks, a colour, a
sketch...) redo that source's contribution on top of ``base``, the mask as it was when the series
began, with the chosen combine mode (replace / add / subtract). Starting another source ends the
series, so ``base`` becomes the current mask.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np

from pipeline.select.protocol import Candidate, Prepared, Selection
from pipeline.types import Box, Image, Mask, Point

CombineMode = Literal["replace", "add", "subtract"]
ClickMode = Literal["positive", "negative", "box"]
Source = Literal["click", "sketch", "color", "luminance", "import", "example", "history", "result"]
COMBINE_MODES: tuple[CombineMode, ...] = ("replace", "add", "subtract")


@dataclass(frozen=True)
class Refine:
    """Mask refinement applied on top of the current mask, in full-resolution pixels.

    ``grow_px`` > 0 grows and < 0 shrinks; ``feather_px`` is the Gaussian feather radius;
    ``min_speck_px`` removes islands smaller than that many pixels (0 keeps all).
    """

    grow_px: int = 0
    feather_px: float = 0.0
    invert: bool = False
    fill_holes: bool = False
    min_speck_px: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "grow_px": self.grow_px,
            "feather_px": self.feather_px,
            "invert": self.invert,
            "fill_holes": self.fill_holes,
            "min_speck_px": self.min_speck_px,
        }

    @property
    def is_identity(self) -> bool:
        return self == Refine()


@dataclass(frozen=True)
class Step:
    """One entry of the recipe: an operation name and its JSON-ready parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.name, **dict(self.params)}


@dataclass(frozen=True, eq=False)
class Cell:
    """One finished edit in the session history, restorable and branchable.

    ``image`` is the edit's input, ``mask`` the refined mask it used, ``result`` its output,
    ``thumbnail`` a small copy of the result for the history gallery and ``preview`` the
    display-size (before, after) pair for the comparison slider.
    """

    index: int
    operation: str
    params: Mapping[str, Any]
    image: Image
    mask: Mask
    result: Image
    thumbnail: Image
    preview: tuple[Image, Image]
    steps: tuple[Step, ...]

    @property
    def caption(self) -> str:
        """``#2 background: color (color=#00ff00)``: the operation and its parameters, the default engine left out."""
        params = {k: v for k, v in self.params.items() if v not in ("", None) and (k, v) != ("engine", "auto")}
        kind = params.pop("background", None)
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        return f"#{self.index} {self.operation}" + (f": {kind}" if kind else "") + (f" ({shown})" if shown else "")


@dataclass(frozen=True, eq=False)
class Session:
    """Everything one browser tab is working on (see the module docstring)."""

    image: Image | None = None
    name: str = ""
    display: Image | None = None
    scale: float = 1.0
    prepared: Future[Prepared] | None = None
    mask: Mask | None = None
    base: Mask | None = None
    series: Source | None = None
    points: tuple[Point, ...] = ()
    corner: tuple[float, float] | None = None
    box: Box | None = None
    candidates: tuple[Candidate, ...] = ()
    chosen: int = 0
    selection: Selection | None = None
    refine: Refine = Refine()
    steps: tuple[Step, ...] = ()
    result: Image | None = None
    history: tuple[Cell, ...] = ()

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the full-resolution image; (0, 0) without one."""
        if self.image is None:
            return (0, 0)
        return (self.image.shape[1], self.image.shape[0])

    @cached_property
    def display_mask(self) -> Mask | None:
        """The current mask at display size, computed once per state (None without a mask)."""
        if self.display is None or self.mask is None:
            return None
        from ui.display import mask_to_display

        return mask_to_display(self.mask, self.display.shape)

    def with_refine(self, refine: Refine) -> Session:
        """A copy with ``refine`` set; the mask is the same, so its display-size copy is kept."""
        updated = replace(self, refine=refine)
        if "display_mask" in self.__dict__:
            updated.__dict__["display_mask"] = self.__dict__["display_mask"]
        return updated

    def empty_mask(self) -> Mask:
        width, height = self.size
        return np.zeros((height, width), dtype=np.float32)

    def current_mask(self) -> Mask:
        """The raw current mask, an empty one when nothing is selected yet."""
        return self.mask if self.mask is not None else self.empty_mask()

    def begin(self, source: Source) -> Session:
        """Start (or continue) a series from ``source``: ``base`` is fixed at the series start."""
        if self.series == source:
            return self
        return replace(self, series=source, base=self.mask)

    def with_step(self, step: Step) -> Session:
        """Record ``step``; a step of the running series replaces that series' previous step."""
        steps = self.steps
        if steps and steps[-1].name == step.name and self.series == step.name:
            steps = steps[:-1]
        return replace(self, steps=(*steps, step))

    def clear_clicks(self) -> Session:
        """Forget the clicks; a running click series is undone (the mask goes back to ``base``)."""
        cleared = replace(self, points=(), corner=None, box=None, candidates=(), chosen=0, selection=None)
        if self.series != "click":
            return cleared
        steps = self.steps[:-1] if self.steps and self.steps[-1].name == "click" else self.steps
        return replace(cleared, mask=self.base, series=None, steps=steps)


def new_session(
    image: Image, display: Image, scale: float, name: str, prepared: Future[Prepared] | None, history: tuple[Cell, ...]
) -> Session:
    """A fresh session for a new photo; the history of earlier results is kept."""
    return Session(
        image=image,
        name=name,
        display=display,
        scale=scale,
        prepared=prepared,
        steps=(Step("image", {"name": name, "width": int(image.shape[1]), "height": int(image.shape[0])}),),
        history=history,
    )
