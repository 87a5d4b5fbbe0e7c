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


def make_segmenter(kind: SegmenterKind, settings: Settings) -> Chosen[AnySegmenter]:
    """The click selector for ``kind``; ``auto`` picks SAM when a checkpoint is there."""
    from pipeline.select.classic.selector import ClassicSelector
    from pipeline.select.sam import segmenter as sam

    if kind not in ("auto", "sam", "classic"):
        raise InvalidInput(f"segmenter {kind!r} is not one of auto, sam, classic")
    if kind == "classic":
        return Chosen(ClassicSelector(), "classical selector: asked for")
    checkpoint = sam.find_checkpoint(settings)
    if checkpoint is None:
        if kind == "sam":
            raise ModelUnavailable(sam.missing_checkpoint_message(settings))
        reason = (
            f"classical selector: no SAM checkpoint (looked in {settings.models_dir}); "
            f"pass --sam-checkpoint or run 'stencil download sam-{settings.sam_model.replace('_', '-')}'"
        )
        log.info(reason)
        return Chosen(ClassicSelector(), reason)
    device = resolve_device(settings.device)
    segmenter = load_once(
        ("sam", str(checkpoint), settings.sam_model, device, settings.sam_cache_mb),
        lambda: sam.load_segmenter(
            checkpoint, model_type=settings.sam_model, device=device, cache_mb=settings.sam_cache_mb
        ),
    )
    reason = f"SAM {settings.sam_model} on {device}: checkpoint {checkpoint}"
    log.info(reason)
    return Chosen(segmenter, reason)


def make_inpainter(kind: EngineKind, settings: Settings) -> Chosen[Inpainter]:
    """The inpainting engine for ``kind``; ``auto`` picks diffusion when a model is configured."""
    from pipeline.inpaint.classic import ClassicInpainter
    from pipeline.inpaint.diffusion import loader as diffusion

    if kind not in ("auto", "diffusion", "classic"):
        raise InvalidInput(f"engine {kind!r} is not one of auto, diffusion, classic")
    if kind == "classic":
        return Chosen(ClassicInpainter(), "classical engine: asked for")
    source = diffusion.find_model(settings)
    if source is None:
        if kind == "diffusion":
            raise ModelUnavailable(diffusion.missing_model_message(settings))
        if settings.inpaint_model:
            reason = f"classical engine: {diffusion.missing_model_message(settings)}"
        else:
            reason = (
                "classical engine: no inpainting model configured; pass --inpaint-model or set STENCIL_INPAINT_MODEL"
            )
        log.info(reason)
        return Chosen(ClassicInpainter(), reason)
    device = resolve_device(settings.device)
    from pipeline.inpaint.crop import CropOptions

    engine = load_once(
        ("diffusion", source, device, settings.cpu_offload, settings.context_px),
        lambda: diffusion.load_inpainter(
            source, device=device, cpu_offload=settings.cpu_offload, crop=CropOptions(context_px=settings.context_px)
        ),
    )
    reason = f"diffusion engine on {device}: {source}"
    log.info(reason)
    return Chosen(engine, reason)
