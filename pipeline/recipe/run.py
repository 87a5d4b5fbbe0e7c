"""Replay a recipe on one photo: ``run(recipe, image, engines) -> Run``.

Steps run in order on a state of (photo, current mask). Mask steps combine into the current
mask, ``Refine`` refines it, an edit replaces the photo with its result and starts a new, empty
mask, and ``Output`` frames the final result. With a fixed seed (or the classical engines) the
same recipe on the same photo gives the same pixels, whichever surface made the recipe.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import CancelFlag, ProgressFn
from pipeline.recipe.apply import Engines, apply_edit, refine_mask
from pipeline.recipe.codec import RecipeError
from pipeline.recipe.mask_sources import check_photo_size, clicks_mask, combine, select_clicks, source_mask, text_mask
from pipeline.recipe.output import edit_outputs
from pipeline.recipe.steps import (
    EDIT_STEPS,
    Clicks,
    Output,
    Recipe,
    Refine,
    ReplaceBackground,
    Step,
    Subject,
    TextPrompt,
)
from pipeline.select.protocol import Prepared
from pipeline.types import Image, Mask, check_image

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Run:
    """What a replay gives.

    - ``image``: the result, ``(H, W, 3)`` uint8, framed as the recipe's ``Output`` says.
    - ``mask``: ``(H, W)`` float32 at the unframed result's size: the mask the last edit used
      (1 = changed, or the subject kept by a background replacement), or the current mask
      when the recipe has no edit.
    - ``cutout``: ``(H, W, 4)`` uint8, the last edit's input with ``mask`` as its alpha.
    - ``crop``: the unframed result cropped to ``mask``'s box plus the output's margin.
    - ``engine``: the engine that ran last (``"classic"``, ``"diffusion"``, ``"none"``).
    - ``timings``: ``(step name, seconds)`` for every step.
    """

    image: Image
    mask: Mask
    cutout: np.ndarray
    crop: Image
    engine: str
    timings: tuple[tuple[str, float], ...]


def run(
    recipe: Recipe,
    image: Image,
    engines: Engines | None = None,
    *,
    alpha: Mask | None = None,
    labels: np.ndarray | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> Run:
    """Replay ``recipe`` on ``image`` (``(H, W, 3)`` uint8 RGB; never modified).

    ``alpha``: the photo's own alpha, for ``AlphaChannel`` steps; ``labels``: the label map that
    comes with the photo. Raises ``RecipeError`` naming the step that failed.
    """
    check_image(image)
    engines = engines or Engines()
    state = _State(image)
    timings: list[tuple[str, float]] = []
    for index, step in enumerate(recipe.steps, start=1):
        started = time.perf_counter()
        try:
            state.apply(step, engines, Sources(alpha, labels, progress, cancel))
        except RecipeError:
            raise
        except InvalidInput as error:
            raise RecipeError(f"step {index} ({type(step).kind}): {error}") from None  # type: ignore[attr-defined]
        timings.append((type(step).kind, time.perf_counter() - started))  # type: ignore[attr-defined]
    return state.finish(recipe.output, tuple(timings))


@dataclass(frozen=True, eq=False)
class Sources:
    """What a replay takes besides the photo: its alpha and label map, progress and cancel."""

    alpha: Mask | None
    labels: np.ndarray | None
    progress: ProgressFn | None
    cancel: CancelFlag | None


class _State:
    """The photo and mask between steps (one replay's private, mutable scratch)."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self.mask: Mask | None = None
        self.before = image  # the last edit's input
        self.used: Mask | None = None  # the mask the last edit used
        self.subject = False  # whether ``used`` is a subject (background replacement)
        self.engine = "none"
        self.prepared: Prepared | None = None

    def apply(self, step: Step, engines: Engines, sources: Sources) -> None:
        if isinstance(step, Clicks):
            self.mask = combine(self.mask, self._clicks(step, engines), step.combine)
        elif isinstance(step, EDIT_STEPS):
            done = apply_edit(
                step, self.image, self.current(), engines, progress=sources.progress, cancel=sources.cancel
            )
            self.before, self.image, self.used = self.image, done.image, done.mask
            self.subject, self.engine = isinstance(step, ReplaceBackground), done.engine
            self.mask, self.prepared = None, None
        elif isinstance(step, Refine):
            matter = engines.chosen_matter(step.matte_engine).backend if step.matte_px else None
            self.mask = refine_mask(step, self.current(), self.image, matter=matter)
        elif isinstance(step, TextPrompt):
            found = text_mask(engines.chosen_text_finder().backend, self.image, step)
            self.mask = combine(self.mask, found, step.combine)
        elif isinstance(step, Subject):
            found = engines.chosen_subject(step.engine).backend.find(self.image)
            self.mask = combine(self.mask, found, step.combine)
        elif not isinstance(step, Output):
            found = source_mask(step, self.image, alpha=sources.alpha, labels=sources.labels)
            self.mask = combine(self.mask, found, step.combine)

    def current(self) -> Mask:
        """The current mask; nothing selected (all zeros) before the first mask step."""
        return self.mask if self.mask is not None else np.zeros(self.image.shape[:2], np.float32)

    def _clicks(self, step: Clicks, engines: Engines) -> Mask:
        segmenter = engines.selector()
        check_photo_size(step, self.image)
        if self.prepared is None:
            self.prepared = segmenter.prepare(self.image)
        return clicks_mask(select_clicks(segmenter, self.prepared, step))  # each step owns its clicks

    def finish(self, output: Output, timings: tuple[tuple[str, float], ...]) -> Run:
        if self.used is None:  # no edit: the result is the photo, the mask the current one
            self.used, self.before, self.subject = self.current(), self.image, True
        framed, cutout, crop = edit_outputs(self.before, self.image, self.used, output, subject=self.subject)
        return Run(framed, self.used, cutout, crop, self.engine, timings)
