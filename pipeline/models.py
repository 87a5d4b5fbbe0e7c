"""Backend choice: device, the name -> factory registries, and lazily loaded, cached models.

Loaded models are the only process-wide state in Stencil. They are read-only once built and
shared by every caller; each is built once per (kind, source, device) behind a lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Generic, Literal, TypeVar

from pipeline.edits.matting import Matter
from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.inpaint.protocol import Inpainter
from pipeline.select.protocol import AnySegmenter
from pipeline.select.subject import SubjectFinder
from pipeline.select.text.sam3 import Sam3TextFinder
from pipeline.settings import DevicePreference, Settings
from pipeline.track.protocol import Tracker

log = logging.getLogger(__name__)

SegmenterKind = Literal["auto", "sam", "sam3", "classic"]
EngineKind = Literal["auto", "diffusion", "classic"]
RemoverKind = Literal["auto", "lama", "exemplar"]
TrackerKind = Literal["auto", "sam2", "classic"]
SubjectKind = Literal["auto", "rembg", "classic"]
TextKind = Literal["auto", "sam3"]
MatteKind = Literal["auto", "vitmatte", "classic"]
T = TypeVar("T")

_lock = threading.Lock()
_loaded: dict[tuple[object, ...], object] = {}


@dataclass(frozen=True)
class Chosen(Generic[T]):
    """A backend and the reason it was picked (shown in the UI status line and CLI log)."""

    backend: T
    reason: str


LEARNED_PACKAGES = {
    "torch": "torch",
    "segment_anything": "segment-anything",
    "diffusers": "diffusers",
    "transformers": "transformers",
}
"""Import name -> package name of what the learned backends need (a CPU Space installs none of them)."""


def absent_learned_packages() -> list[str]:
    """The packages of ``LEARNED_PACKAGES`` not installed here (looked up, not imported)."""
    import importlib.util

    return [package for module, package in LEARNED_PACKAGES.items() if importlib.util.find_spec(module) is None]


@cache
def resolve_device(preference: DevicePreference = "auto") -> str:
    """``"cuda"`` or ``"cpu"``; chosen once per preference. Asking for CUDA without one is an error."""
    try:
        import torch
    except ImportError:
        has_cuda = False
    else:
        has_cuda = torch.cuda.is_available()
    if preference == "cuda" and not has_cuda:
        raise ModelUnavailable("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto")
    device = "cuda" if preference != "cpu" and has_cuda else "cpu"
    log.info("device: %s (asked for %s)", device, preference)
    return device


def load_once(key: tuple[object, ...], build: Callable[[], T]) -> T:
    """Return the model cached under ``key``, building it with ``build()`` the first time."""
    with _lock:
        if key not in _loaded:
            _loaded[key] = build()
        return _loaded[key]  # type: ignore[return-value]


Factory = Callable[[Settings], "Chosen[T]"]


def _classic_selector(settings: Settings) -> Chosen[AnySegmenter]:
    from pipeline.select.classic.selector import ClassicSelector

    return Chosen(ClassicSelector(), "classical selector")


def _sam(settings: Settings) -> Chosen[AnySegmenter]:
    """SAM from the configured checkpoint; ``ModelUnavailable`` when there is none."""
    from pipeline.select.sam import segmenter as sam

    checkpoint = sam.find_checkpoint(settings)
    if checkpoint is None:
        raise ModelUnavailable(sam.missing_checkpoint_message(settings))
    device = resolve_device(settings.device)
    segmenter = load_once(
        ("sam", str(checkpoint), settings.sam_model, device, settings.sam_cache_mb),
        lambda: sam.load_segmenter(
            checkpoint, model_type=settings.sam_model, device=device, cache_mb=settings.sam_cache_mb
        ),
    )
    return Chosen(segmenter, f"SAM {settings.sam_model} on {device}: checkpoint {checkpoint}")


def _sam3_points(settings: Settings) -> Chosen[AnySegmenter]:
    """SAM 3's point prompts from ``--sam3-model`` or the cache; ``ModelUnavailable`` saying why otherwise."""
    from pipeline.select.sam3 import points

    source = points.tracker_source(settings.sam3_model)
    device = resolve_device(settings.device)

    def build() -> points.Sam3PointSelector:
        selector = points.load_point_selector(source, device=device, cache_mb=settings.sam_cache_mb)
        finder = _loaded.get(("sam3", source, device))  # under load_once's lock
        if isinstance(finder, Sam3TextFinder):
            points.share_backbone(selector.model, finder.model)
        return selector

    selector = load_once(("sam3-points", source, device, settings.sam_cache_mb), build)
    return Chosen(selector, f"SAM 3 clicks on {device}: {source}")


def _classic_engine(settings: Settings) -> Chosen[Inpainter]:
    from pipeline.inpaint.classic import ClassicInpainter

    return Chosen(ClassicInpainter(), "classical engine")


def _diffusion(settings: Settings) -> Chosen[Inpainter]:
    """The configured diffusion model; ``ModelUnavailable`` when none is configured or found."""
    from pipeline.inpaint.crop import CropOptions
    from pipeline.inpaint.diffusion import loader as diffusion
    from pipeline.inpaint.diffusion.controlnet import parse_specs

    source = diffusion.find_model(settings)
    if source is None:
        raise ModelUnavailable(diffusion.missing_model_message(settings))
    controlnets = parse_specs(settings.controlnets)
    device = resolve_device(settings.device)
    engine = load_once(
        ("diffusion", source, device, settings.cpu_offload, settings.context_px, controlnets),
        lambda: diffusion.load_inpainter(
            source,
            device=device,
            cpu_offload=settings.cpu_offload,
            crop=CropOptions(context_px=settings.context_px),
            controlnets=controlnets,
        ),
    )
    guided = f" with ControlNet {', '.join(kind for kind, _ in controlnets)}" if controlnets else ""
    return Chosen(engine, f"diffusion engine on {device}: {source}{guided}")


def _classic_tracker(settings: Settings) -> Chosen[Tracker]:
    from pipeline.track.classic import ClassicTracker

    return Chosen(ClassicTracker(), "classical tracker (optical flow and graph cut)")


def _sam2_tracker(settings: Settings) -> Chosen[Tracker]:
    """SAM 2's video model from ``settings.track_model``; ``ModelUnavailable`` when none is configured."""
    source = settings.track_model
    if not source:
        raise ModelUnavailable(
            "no SAM 2 video model is configured; set STENCIL_TRACK_MODEL (or --track-model) to a model folder or "
            "a hub id in the local cache, such as facebook/sam2.1-hiera-tiny"
        )
    from pipeline.track import sam2

    device = resolve_device(settings.device)
    tracker = load_once(("sam2-video", source, device), lambda: sam2.load_tracker(source, device=device))
    return Chosen(tracker, f"SAM 2 video tracker on {device}: {source}")


def _classic_subject(settings: Settings) -> Chosen[SubjectFinder]:
    from pipeline.select.subject.classic import ClassicSubject

    return Chosen(ClassicSubject(), "classical subject extractor (backdrop, saliency, graph cut)")


def _rembg_subject(settings: Settings) -> Chosen[SubjectFinder]:
    """The configured subject model through rembg; ``ModelUnavailable`` when there is none."""
    from pipeline.select.subject import learned

    path = learned.find_model(settings.subject_model, settings.models_dir)
    if path is None:
        raise ModelUnavailable(learned.missing_model_message(settings.models_dir))
    finder = load_once(
        ("subject", str(path), settings.subject_arch), lambda: learned.load_subject(path, settings.subject_arch)
    )
    return Chosen(finder, f"{finder.name} subject model: {path}")


def _exemplar(settings: Settings) -> Chosen[Inpainter]:
    from pipeline.inpaint.exemplar import ExemplarInpainter

    return Chosen(ExemplarInpainter(), "exemplar fill (PatchMatch)")


def _lama(settings: Settings) -> Chosen[Inpainter]:
    """LaMa from the configured TorchScript file; ``ModelUnavailable`` when there is none.

    A file that is there but is not LaMa raises ``InvalidModel`` (no silent fallback).
    """
    from pipeline.inpaint import lama

    path = lama.find_lama(settings)
    if path is None:
        raise ModelUnavailable(lama.missing_lama_message(settings))
    device = resolve_device(settings.device)
    engine = load_once(("lama", str(path), device), lambda: lama.load_lama(path, device=device))
    return Chosen(engine, f"LaMa on {device}: {path}")


def _sam3_text(settings: Settings) -> Chosen[Sam3TextFinder]:
    """SAM 3 from ``--sam3-model`` or the cache; ``ModelUnavailable`` (saying how to get it) otherwise."""
    from pipeline.select.text import sam3

    source = sam3.find_model(settings.sam3_model)
    if source is None:
        raise ModelUnavailable(sam3.missing_model_message())
    device = resolve_device(settings.device)

    def build() -> Sam3TextFinder:
        from pipeline.select.sam3.points import share_backbone

        finder = sam3.load_text_finder(source, device=device)
        for key, loaded in _loaded.items():  # under load_once's lock
            if key[:3] == ("sam3-points", source, device):
                share_backbone(loaded.model, finder.model)  # type: ignore[attr-defined]
        return finder

    finder = load_once(("sam3", source, device), build)
    return Chosen(finder, f"SAM 3 on {device}: {source}")


def _classic_matter(settings: Settings) -> Chosen[Matter]:
    from pipeline.edits.closed_form import ClassicMatter

    return Chosen(ClassicMatter(), "classical closed-form matte")


def _vitmatte(settings: Settings) -> Chosen[Matter]:
    """ViTMatte from ``--matte-model`` or the cache; ``ModelUnavailable`` when there is none."""
    from pipeline.edits import vitmatte

    source = vitmatte.find_model(settings.matte_model)
    if source is None:
        raise ModelUnavailable(vitmatte.missing_model_message())
    device = resolve_device(settings.device)
    matter = load_once(("vitmatte", source, device), lambda: vitmatte.load_matter(source, device=device))
    return Chosen(matter, f"ViTMatte on {device}: {source}")


SEGMENTERS: dict[str, Factory[AnySegmenter]] = {"sam": _sam, "sam3": _sam3_points, "classic": _classic_selector}
"""Click selectors by name. ``auto`` tries those of ``AUTO_SEGMENTERS`` in order (the last always works)."""

AUTO_SEGMENTERS = ("sam", "classic")
"""SAM 3 clicks are taken only by name: they load a second large model beside SAM 3's text finder."""

INPAINTERS: dict[str, Factory[Inpainter]] = {"diffusion": _diffusion, "classic": _classic_engine}
"""Inpainting engines by name, in the order ``auto`` tries them (the last one always works)."""

REMOVERS: dict[str, Factory[Inpainter]] = {"lama": _lama, "exemplar": _exemplar}
"""Removal engines (no prompt) by name, in the order ``auto`` tries them (the last one always works)."""

SUBJECTS: dict[str, Factory[SubjectFinder]] = {"rembg": _rembg_subject, "classic": _classic_subject}
"""Subject finders by name, in the order ``auto`` tries them (the last one always works)."""

TEXT_FINDERS: dict[str, Factory[Sam3TextFinder]] = {"sam3": _sam3_text}
"""Finders by name (text prompts). There is no classical one: without SAM 3, ``auto`` says why."""

MATTERS: dict[str, Factory[Matter]] = {"vitmatte": _vitmatte, "classic": _classic_matter}
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


TRACKERS: dict[str, Factory[Tracker]] = {"sam2": _sam2_tracker, "classic": _classic_tracker}
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
