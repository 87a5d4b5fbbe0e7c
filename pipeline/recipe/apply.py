"""What each kind of step does: a mask source, the refinement, an edit (the output: ``recipe.output``).

The page, the API and ``run`` all call these functions, so a step made in the page and the
same step replayed by ``stencil apply`` give the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from pipeline import masks
from pipeline.edits import background, outpaint
from pipeline.edits import remove as fill
from pipeline.edits.matting import MAX_BAND_PX, Matter, refine_edge
from pipeline.edits.remove import EditResult
from pipeline.errors import InvalidInput
from pipeline.inpaint.crop import CropOptions
from pipeline.inpaint.protocol import CancelFlag, CropsContext, Inpainter, ProgressFn
from pipeline.limits import check_radius_fits
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
    Edit,
    EngineKind,
    ExtendCanvas,
    Inpaint,
    Refine,
    Remove,
    ReplaceBackground,
)
from pipeline.select.protocol import Segmenter
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
