"""What each kind of step does: a mask source, the refinement, an edit (the output: ``recipe.output``).

The page, the API and ``run`` all call these functions, so a step made in the page and the
same step replayed by ``stencil apply`` give the same pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from pipeline import masks
from pipeline.edits import background, outpaint
from pipeline.edits import remove as fill
from pipeline.edits.matting import MAX_BAND_PX, Matter, refine_edge
from pipeline.edits.remove import EditResult
from pipeline.errors import EmptyMask, InvalidInput, SizeMismatch
from pipeline.inpaint.crop import CropOptions
from pipeline.inpaint.protocol import CancelFlag, CropsContext, Inpainter, ProgressFn
from pipeline.limits import check_radius_fits
from pipeline.masks.sources import to_unit
from pipeline.models import (
    Chosen,
    MatteKind,
    SubjectKind,
    make_inpainter,
    make_matter,
    make_remover,
    make_segmenter,
    make_subject,
    make_text_finder,
)
from pipeline.recipe.steps import (
    AlphaChannel,
    Clicks,
    ColorRange,
    Edit,
    EngineKind,
    ExtendCanvas,
    Inpaint,
    LabelClasses,
    LuminanceRange,
    MaskStep,
    Refine,
    Remove,
    ReplaceBackground,
    StoredMask,
    TextPrompt,
)
from pipeline.select.protocol import Candidate, Prepared, Segmenter, Selection
from pipeline.select.subject import SubjectFinder
from pipeline.select.text.sam3 import Sam3TextFinder
from pipeline.settings import Settings
from pipeline.types import Image, Mask


@dataclass
class Engines:
    """The backends a replay uses: chosen once, then shared by every photo of a run.

    ``segmenter``, ``inpainter`` and ``subject`` are the "auto" choices; None picks them from
    ``settings`` (SAM, diffusion and a subject model when configured, the classical backends
    otherwise) on first use.
    """

    settings: Settings = field(default_factory=Settings)
    segmenter: Chosen[Segmenter] | None = None
    inpainter: Chosen[Inpainter] | None = None
    subject: Chosen[SubjectFinder] | None = None
    text: Chosen[Sam3TextFinder] | None = None
    matter: Chosen[Matter] | None = None
    remover: Chosen[Inpainter] | None = None

    def selector(self) -> Segmenter:
        if self.segmenter is None:
            self.segmenter = make_segmenter("auto", self.settings)
        return self.segmenter.backend

    def chosen_subject(self, kind: SubjectKind) -> Chosen[SubjectFinder]:
        """The subject finder for ``kind`` and the reason it was picked (``auto`` chosen once)."""
        if kind != "auto":
            return make_subject(kind, self.settings)
        if self.subject is None:
            self.subject = make_subject("auto", self.settings)
        return self.subject

    def chosen_text_finder(self) -> Chosen[Sam3TextFinder]:
        """SAM 3 for ``TextPrompt`` steps (chosen once); ``ModelUnavailable`` says how to get it."""
        if self.text is None:
            self.text = make_text_finder("auto", self.settings)
        return self.text

    def chosen_matter(self, kind: MatteKind) -> Chosen[Matter]:
        """The edge matter for ``kind`` and why (``auto`` chosen once)."""
        if kind != "auto":
            return make_matter(kind, self.settings)
        if self.matter is None:
            self.matter = make_matter("auto", self.settings)
        return self.matter

    def chosen_engine(self, kind: EngineKind) -> Chosen[Inpainter]:
        """The engine for ``kind`` and the reason it was picked."""
        if kind != "auto":
            return make_inpainter(kind, self.settings)
        if self.inpainter is None:
            self.inpainter = make_inpainter("auto", self.settings)
        return self.inpainter

    def chosen_removal(self, kind: EngineKind) -> Chosen[Inpainter]:
        """The engine that removes (no prompt) and why: ``auto`` is LaMa when a file is configured,
        else the exemplar fill; ``classic`` is the exemplar fill; ``diffusion`` as asked."""
        if kind == "diffusion":
            return self.chosen_engine(kind)
        if kind == "classic":
            return make_remover("exemplar", self.settings)
        if self.remover is None:
            self.remover = make_remover("auto", self.settings)
        return self.remover

    def removal_engine(self, kind: EngineKind, margin_px: int | None) -> Inpainter:
        """``chosen_removal``'s engine; a diffusion engine keeps ``margin_px`` of context."""
        if kind == "diffusion":
            return self.engine(kind, margin_px)
        return self.chosen_removal(kind).backend

    def engine(self, kind: EngineKind, margin_px: int | None) -> Inpainter:
        """The engine for ``kind``, keeping ``margin_px`` of context when it works on a crop."""
        engine = self.chosen_engine(kind).backend
        if margin_px is not None and isinstance(engine, CropsContext):
            engine = engine.with_crop(CropOptions(context_px=margin_px))
        return engine


# ---------------------------------------------------------------- mask steps


@dataclass(frozen=True, eq=False)
class ClickChain:
    """The selection after a run of clicks: ``points`` in order, ``box``, and the selector's answer."""

    step: Clicks
    selection: Selection


def check_photo_size(step: MaskStep, image: Image) -> None:
    """Raise ``SizeMismatch`` when a photo-specific ``step`` was made on a photo of another size."""
    size = step.size if isinstance(step, (Clicks, StoredMask, LabelClasses)) else None
    height, width = image.shape[:2]
    if size is not None and tuple(size) != (width, height):
        raise SizeMismatch(
            f"this step was made on a {size[0]}x{size[1]} photo but this one is {width}x{height}; "
            "clicks and painted masks replay only on the photo they were made on"
        )


def select_clicks(
    segmenter: Segmenter, prepared: Prepared, step: Clicks, *, after: ClickChain | None = None
) -> ClickChain:
    """Run ``step``'s clicks: each point refines the selection of the points before it.

    ``after``: the chain of an earlier step whose points are a prefix of ``step``'s with the same
    box; the work starts from there (one selector call per new point) instead of from scratch.
    """
    points = list(step.points)
    start, selection = 0, None
    if (
        after is not None
        and after.step.box == step.box
        and tuple(points[: len(after.step.points)]) == after.step.points
    ):
        start, selection = len(after.step.points), after.selection
    if not points:
        selection = segmenter.select(prepared, [], step.box, None)
    for count in range(max(start, 0) + 1, len(points) + 1):
        selection = segmenter.select(prepared, points[:count], step.box, selection)
    assert selection is not None  # at least one point or a box, checked by Clicks
    return ClickChain(step, selection)


def clicks_mask(chain: ClickChain) -> Mask:
    """The candidate the step chose (0 = best) of the chain's last selection."""
    candidates = chain.selection.candidates
    if chain.step.candidate >= len(candidates):
        raise InvalidInput(f"candidate {chain.step.candidate} does not exist; the selector offered {len(candidates)}")
    return candidates[chain.step.candidate].mask


def text_mask(finder: Sam3TextFinder, image: Image, step: TextPrompt) -> Mask:
    """The union of the instances of ``step.text`` that ``step`` picks (all when ``instances`` is None)."""
    return pick_instances(finder.find(image, step.text, threshold=step.threshold), step)


def pick_instances(found: Sequence[Candidate], step: TextPrompt) -> Mask:
    """The union of the ``found`` instances ``step`` picks; clear errors for none found or a missing index."""
    if not found:
        raise EmptyMask(
            f"nothing in this photo matches {step.text!r} (no SAM 3 score above {step.threshold:g}); "
            "try another name or a lower threshold"
        )
    picked = range(len(found)) if step.instances is None else step.instances
    missing = [i for i in picked if i >= len(found)]
    if missing:
        raise InvalidInput(
            f"instance {missing[0]} of {step.text!r} does not exist; SAM 3 found {len(found)} (0 to {len(found) - 1})"
        )
    return np.maximum.reduce([found[i].mask for i in picked]).astype(np.float32)


def source_mask(
    step: MaskStep,
    image: Image,
    *,
    alpha: Mask | None = None,
    labels: np.ndarray | None = None,
) -> Mask:
    """The mask a source step selects on ``image`` (``Clicks`` go through ``select_clicks``).

    ``alpha``: the photo's own alpha channel, for ``AlphaChannel``; ``labels``: the label map that
    comes with this photo, for a ``LabelClasses`` step that does not carry its own.
    """
    check_photo_size(step, image)
    if isinstance(step, ColorRange):
        return masks.from_color(image, step.color, tolerance=step.tolerance, softness=step.softness)
    if isinstance(step, LuminanceRange):
        return masks.from_luminance(image, step.low, step.high, softness=step.softness)
    if isinstance(step, AlphaChannel):
        if alpha is None:
            raise InvalidInput("this photo has no transparency to take the mask from; use a PNG or WebP with alpha")
        if alpha.shape[:2] != image.shape[:2]:
            raise SizeMismatch(
                f"the alpha channel is {alpha.shape[1]}x{alpha.shape[0]} but the photo is "
                f"{image.shape[1]}x{image.shape[0]}; an edit that changes the size drops the photo's own alpha"
            )
        return masks.from_alpha(alpha, threshold=step.threshold)
    if isinstance(step, StoredMask):
        return stored_levels(step.levels)
    if isinstance(step, LabelClasses):
        return _label_mask(step, image, labels)
    raise InvalidInput(f"{type(step).__name__} is not a mask source this function runs")


def stored_levels(levels: np.ndarray) -> Mask:
    """8-bit levels back to a mask, exactly as ``StoredMask`` replays them."""
    return to_unit(levels, "stored mask")


def to_levels(mask: Mask) -> np.ndarray:
    """A mask as 8-bit levels, ``round(255 * mask)``: what ``StoredMask`` keeps."""
    return np.rint(mask * np.float32(255.0)).astype(np.uint8)


def _label_mask(step: LabelClasses, image: Image, labels: np.ndarray | None) -> Mask:
    chosen = step.labels if step.labels is not None else labels
    if chosen is None:
        raise InvalidInput(
            "this label step takes the label map that comes with each photo; pass one (stencil apply --labels FOLDER)"
        )
    if chosen.shape[:2] != image.shape[:2]:
        raise SizeMismatch(
            f"the label map is {chosen.shape[1]}x{chosen.shape[0]} but the photo is {image.shape[1]}x{image.shape[0]}"
        )
    return masks.from_labels(chosen, list(step.classes))  # type: ignore[arg-type]


def combine(current: Mask | None, mask: Mask, mode: masks.CombineMode) -> Mask:
    """``mask`` combined into ``current`` (None: nothing selected yet) with ``mode``."""
    if mode == "replace":
        return mask.astype(np.float32, copy=False)
    base = current if current is not None else np.zeros_like(mask)
    return masks.combine(base, mask, mode)


# ---------------------------------------------------------------- refine


def refine_mask(
    refine: Refine, mask: Mask, image: Image | None = None, *, scale: float = 1.0, matter: Matter | None = None
) -> Mask:
    """Apply ``refine`` (see its docstring for the order and the feather rule) to ``mask``.

    ``scale`` multiplies every radius and area, so that a display-size preview matches the
    full-size result; ``image`` (same size as ``mask``) is needed only for the edge matte, and
    ``matter`` is its backend (None: the classical matte).
    """
    height, width = mask.shape[:2]
    check_radius_fits(refine.grow_px, (round(width / scale), round(height / scale)))
    out = masks.invert(mask) if refine.invert else mask
    if refine.fill_holes:
        out = masks.fill_holes(out)
    if refine.min_speck_px > 0:
        out = masks.remove_islands(out, max(1, round(refine.min_speck_px * scale * scale)))
    radius = round(abs(refine.grow_px) * scale)
    if radius and refine.grow_px > 0:
        out = masks.grow(out, radius)
    elif radius:
        out = masks.shrink(out, radius)
    band = round(refine.matte_px * scale)
    if band >= 1 and image is not None:
        out = refine_edge(image, out, band_px=min(band, MAX_BAND_PX), matter=matter)
    if refine.feather_px * scale >= 0.5:
        out = masks.feather_outward(out, refine.feather_px * scale)
    return out


# ---------------------------------------------------------------- edits


def apply_edit(
    edit: Edit,
    image: Image,
    mask: Mask,
    engines: Engines,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> EditResult:
    """Run ``edit`` on ``image`` with ``mask`` (full resolution); pixels the edit must keep stay exact."""
    if isinstance(edit, Remove):
        if edit.grow_px is not None:
            check_radius_fits(edit.grow_px, (image.shape[1], image.shape[0]))
        engine = engines.removal_engine(edit.engine, edit.margin_px)
        return fill.remove(
            image, mask, engine, grow_px=edit.grow_px, prompting=edit.prompting, progress=progress, cancel=cancel
        )
    if isinstance(edit, Inpaint):
        engine = engines.engine(edit.engine, edit.margin_px)
        return fill.inpaint(
            image, mask, engine, prompting=edit.prompting, controls=edit.controls, progress=progress, cancel=cancel
        )
    if isinstance(edit, ReplaceBackground):
        generated = isinstance(edit.fill, background.PromptBackground)
        painter = engines.engine(edit.engine, edit.margin_px) if generated else None
        return background.replace_background(
            image, mask, edit.fill, shadow=edit.shadow, inpainter=painter, controls=edit.controls,
            progress=progress, cancel=cancel,
        )  # fmt: skip
    if isinstance(edit, ExtendCanvas):
        engine = engines.engine(edit.engine, edit.margin_px)
        height, width = image.shape[:2]
        padding = edit.padding or outpaint.padding_for_aspect((width, height), cast(tuple[int, int], edit.aspect))
        return outpaint.extend_canvas(
            image, padding, engine, overlap_px=edit.overlap_px, prompting=edit.prompting,
            progress=progress, cancel=cancel,
        )  # fmt: skip
    raise InvalidInput(f"{type(edit).__name__} is not an edit")
