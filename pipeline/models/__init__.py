"""Backend choice: the name -> factory registries, ``choose`` and the typed ``make_*`` helpers.

The factories are in ``pipeline.models.builders``; loaded models, cached once per (kind, source,
device), and the device are in ``pipeline.models.loading`` (re-exported here).
"""

from __future__ import annotations

import logging
from typing import Literal, TypeVar

from pipeline.edits.matting import Matter
from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.inpaint.protocol import Inpainter
from pipeline.models import builders
from pipeline.models.loading import (
    LEARNED_PACKAGES,
    Chosen,
    Factory,
    absent_learned_packages,
    load_once,
    resolve_device,
)
from pipeline.select.protocol import AnySegmenter
from pipeline.select.subject import SubjectFinder
from pipeline.select.text.sam3 import Sam3TextFinder
from pipeline.settings import Settings
from pipeline.track.protocol import Tracker

__all__ = ["LEARNED_PACKAGES", "Chosen", "absent_learned_packages", "load_once", "resolve_device"]

log = logging.getLogger(__name__)
T = TypeVar("T")

SegmenterKind = Literal["auto", "sam", "sam3", "classic"]
EngineKind = Literal["auto", "diffusion", "classic"]
RemoverKind = Literal["auto", "lama", "exemplar"]
TrackerKind = Literal["auto", "sam2", "classic"]
SubjectKind = Literal["auto", "rembg", "classic"]
TextKind = Literal["auto", "sam3"]
MatteKind = Literal["auto", "vitmatte", "classic"]

SEGMENTERS: dict[str, Factory[AnySegmenter]] = {
    "sam": builders.sam_selector,
    "sam3": builders.sam3_selector,
    "classic": builders.classic_selector,
}
"""Click selectors by name. ``auto`` tries those of ``AUTO_SEGMENTERS`` in order (the last always works)."""

AUTO_SEGMENTERS = ("sam", "classic")
"""SAM 3 clicks are taken only by name: they load a second large model beside SAM 3's text finder."""

INPAINTERS: dict[str, Factory[Inpainter]] = {"diffusion": builders.diffusion_engine, "classic": builders.classic_engine}
"""Inpainting engines by name, in the order ``auto`` tries them (the last one always works)."""

REMOVERS: dict[str, Factory[Inpainter]] = {"lama": builders.lama_remover, "exemplar": builders.exemplar_remover}
"""Removal engines (no prompt) by name, in the order ``auto`` tries them (the last one always works)."""

SUBJECTS: dict[str, Factory[SubjectFinder]] = {"rembg": builders.rembg_subject, "classic": builders.classic_subject}
"""Subject finders by name, in the order ``auto`` tries them (the last one always works)."""

TEXT_FINDERS: dict[str, Factory[Sam3TextFinder]] = {"sam3": builders.sam3_finder}
"""Finders by name (text prompts). There is no classical one: without SAM 3, ``auto`` says why."""

MATTERS: dict[str, Factory[Matter]] = {"vitmatte": builders.vitmatte_matter, "classic": builders.classic_matter}
"""Edge matters by name, in the order ``auto`` tries them (the last one always works)."""


def choose(
    registry: dict[str, Factory[T]], kind: str, settings: Settings, *, what: str, auto: tuple[str, ...] | None = None
) -> Chosen[T]:
    """The backend ``kind`` names in ``registry``, or for ``auto`` the first one that is available.

    A backend asked for by name that cannot load raises ``ModelUnavailable``; ``auto`` falls back
    to the next one and its reason says why (what was missing, and how to add it). ``auto`` tries
    the names in ``auto`` (default: all of ``registry``, in order).
    """
    if kind != "auto" and kind not in registry:
        raise InvalidInput(f"{what} {kind!r} is not one of auto, {', '.join(registry)}")
    if kind != "auto":
        chosen = registry[kind](settings)
        return Chosen(chosen.backend, f"{chosen.reason} (asked for)")
    skipped: list[str] = []
    for factory in (registry[name] for name in (auto or tuple(registry))):
        try:
            chosen = factory(settings)
        except ModelUnavailable as missing:
            skipped.append(str(missing))
            continue
        reason = f"{chosen.reason}: {'; '.join(skipped)}" if skipped else chosen.reason
        log.info("%s: %s", what, reason)
        return Chosen(chosen.backend, reason)
    raise ModelUnavailable(f"no {what} is available: {'; '.join(skipped)}")


TRACKERS: dict[str, Factory[Tracker]] = {"sam2": builders.sam2_tracker, "classic": builders.classic_tracker}
"""Mask trackers by name, in the order ``auto`` tries them (the last one always works)."""


def make_tracker(kind: TrackerKind, settings: Settings) -> Chosen[Tracker]:
    """The mask tracker for ``kind``; ``auto`` picks SAM 2 when a video model is configured."""
    return choose(TRACKERS, kind, settings, what="tracker")


def make_segmenter(kind: SegmenterKind, settings: Settings) -> Chosen[AnySegmenter]:
    """The click selector for ``kind``; ``auto`` picks SAM when a checkpoint is there, else the classical one."""
    return choose(SEGMENTERS, kind, settings, what="segmenter", auto=AUTO_SEGMENTERS)


def missing_segmenter(kind: str, settings: Settings) -> str | None:
    """Why click backend ``kind`` cannot load, found without loading anything; None when it should load.

    Cheap (a file lookup and a config read), for controls that list the backends a user may pick.
    """
    import importlib.util

    needs = {"sam": ("torch", "segment_anything"), "sam3": ("torch", "transformers")}.get(kind, ())
    if absent := [LEARNED_PACKAGES[m] for m in needs if importlib.util.find_spec(m) is None]:
        return f"{' and '.join(absent)} not installed here (pip install {' '.join(absent)})"
    try:
        if kind == "sam":
            from pipeline.select.sam import segmenter as sam

            return None if sam.find_checkpoint(settings) else sam.missing_checkpoint_message(settings)
        if kind == "sam3":
            from pipeline.select.sam3.points import tracker_source

            tracker_source(settings.sam3_model)
    except ModelUnavailable as missing:
        return str(missing)
    return None


def make_inpainter(kind: EngineKind, settings: Settings) -> Chosen[Inpainter]:
    """The inpainting engine for ``kind``; ``auto`` picks diffusion when a model is configured."""
    return choose(INPAINTERS, kind, settings, what="engine")


def make_remover(kind: RemoverKind, settings: Settings) -> Chosen[Inpainter]:
    """The removal engine for ``kind``; ``auto`` picks LaMa when a file is there, else the exemplar fill."""
    return choose(REMOVERS, kind, settings, what="removal engine")


def make_subject(kind: SubjectKind, settings: Settings) -> Chosen[SubjectFinder]:
    """The subject finder for ``kind``; ``auto`` picks the rembg model when one is configured or downloaded."""
    return choose(SUBJECTS, kind, settings, what="subject finder")


def make_text_finder(kind: TextKind, settings: Settings) -> Chosen[Sam3TextFinder]:
    """SAM 3 for finding objects by name; ``ModelUnavailable`` (saying how to get it) without one."""
    return choose(TEXT_FINDERS, kind, settings, what="text finder")


def make_matter(kind: MatteKind, settings: Settings) -> Chosen[Matter]:
    """The edge matter for ``kind``; ``auto`` picks ViTMatte when a model is configured or cached."""
    return choose(MATTERS, kind, settings, what="matter")
