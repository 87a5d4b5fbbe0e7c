"""Loaded models, the only process-wide state in Stencil: built once per (kind, source, device)
behind a lock, read-only after, shared by every caller; and the device they run on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

from pipeline.errors import ModelUnavailable
from pipeline.settings import DevicePreference, Settings

log = logging.getLogger("pipeline.models")

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


def loaded_model(key: tuple[object, ...]) -> object | None:
    """The model cached under ``key``, if built (call inside a ``load_once`` build, under its lock)."""
    return _loaded.get(key)


def loaded_models() -> Iterator[tuple[tuple[object, ...], object]]:
    """Every cached model with its key (inside a ``load_once`` build, under its lock)."""
    return iter(list(_loaded.items()))
