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

from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.inpaint.protocol import Inpainter
from pipeline.select.protocol import AnySegmenter
from pipeline.settings import DevicePreference, Settings

log = logging.getLogger(__name__)

SegmenterKind = Literal["auto", "sam", "classic"]
EngineKind = Literal["auto", "diffusion", "classic"]
RemoverKind = Literal["auto", "lama", "exemplar"]
T = TypeVar("T")

_lock = threading.Lock()
_loaded: dict[tuple[object, ...], object] = {}


@dataclass(frozen=True)
class Chosen(Generic[T]):
    """A backend and the reason it was picked (shown in the UI status line and CLI log)."""

    backend: T
    reason: str


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


def _classic_engine(settings: Settings) -> Chosen[Inpainter]:
    from pipeline.inpaint.classic import ClassicInpainter

    return Chosen(ClassicInpainter(), "classical engine")


def _diffusion(settings: Settings) -> Chosen[Inpainter]:
    """The configured diffusion model; ``ModelUnavailable`` when none is configured or found."""
    from pipeline.inpaint.crop import CropOptions
    from pipeline.inpaint.diffusion import loader as diffusion

    source = diffusion.find_model(settings)
    if source is None:
        raise ModelUnavailable(diffusion.missing_model_message(settings))
    device = resolve_device(settings.device)
    engine = load_once(
        ("diffusion", source, device, settings.cpu_offload, settings.context_px),
        lambda: diffusion.load_inpainter(
            source, device=device, cpu_offload=settings.cpu_offload, crop=CropOptions(context_px=settings.context_px)
        ),
    )
    return Chosen(engine, f"diffusion engine on {device}: {source}")


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


SEGMENTERS: dict[str, Factory[AnySegmenter]] = {"sam": _sam, "classic": _classic_selector}
"""Click selectors by name, in the order ``auto`` tries them (the last one always works)."""

INPAINTERS: dict[str, Factory[Inpainter]] = {"diffusion": _diffusion, "classic": _classic_engine}
"""Inpainting engines by name, in the order ``auto`` tries them (the last one always works)."""

REMOVERS: dict[str, Factory[Inpainter]] = {"lama": _lama, "exemplar": _exemplar}
"""Removal engines (no prompt) by name, in the order ``auto`` tries them (the last one always works)."""


def choose(registry: dict[str, Factory[T]], kind: str, settings: Settings, *, what: str) -> Chosen[T]:
    """The backend ``kind`` names in ``registry``, or for ``auto`` the first one that is available.

    A backend asked for by name that cannot load raises ``ModelUnavailable``; ``auto`` falls back
    to the next one and its reason says why (what was missing, and how to add it).
    """
    if kind != "auto" and kind not in registry:
        raise InvalidInput(f"{what} {kind!r} is not one of auto, {', '.join(registry)}")
    if kind != "auto":
        chosen = registry[kind](settings)
        return Chosen(chosen.backend, f"{chosen.reason} (asked for)")
    skipped: list[str] = []
    for factory in registry.values():
        try:
            chosen = factory(settings)
        except ModelUnavailable as missing:
            skipped.append(str(missing))
            continue
        reason = f"{chosen.reason}: {'; '.join(skipped)}" if skipped else chosen.reason
        log.info("%s: %s", what, reason)
        return Chosen(chosen.backend, reason)
    raise ModelUnavailable(f"no {what} is available: {'; '.join(skipped)}")


def make_segmenter(kind: SegmenterKind, settings: Settings) -> Chosen[AnySegmenter]:
    """The click selector for ``kind``; ``auto`` picks SAM when a checkpoint is there."""
    return choose(SEGMENTERS, kind, settings, what="segmenter")


def make_inpainter(kind: EngineKind, settings: Settings) -> Chosen[Inpainter]:
    """The inpainting engine for ``kind``; ``auto`` picks diffusion when a model is configured."""
    return choose(INPAINTERS, kind, settings, what="engine")


def make_remover(kind: RemoverKind, settings: Settings) -> Chosen[Inpainter]:
    """The removal engine for ``kind``; ``auto`` picks LaMa when a file is there, else the exemplar fill."""
    return choose(REMOVERS, kind, settings, what="removal engine")
