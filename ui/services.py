"""The backends the page uses, chosen once per app, and the work shared by every session.

``Services`` holds the selector and the inpainting engine (read-only, built through
``pipeline.models``), a small thread pool that prepares image embeddings in the background, and
one cancel flag per browser session. It holds no user images or masks: those live in each
session's ``gr.State``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.inpaint.classic import ClassicInpainter
from pipeline.inpaint.protocol import Inpainter
from pipeline.models import Chosen, make_inpainter, make_remover, make_segmenter, resolve_device
from pipeline.recipe import Engines
from pipeline.select.classic import ClassicSelector
from pipeline.select.protocol import Prepared, Segmenter
from pipeline.settings import Settings
from pipeline.types import Image

log = logging.getLogger(__name__)

T = TypeVar("T")


def _has_spaces() -> bool:
    try:
        import spaces  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


ON_SPACES = _has_spaces()


def _run(job: Callable[[], T]) -> T:
    return job()


if ON_SPACES:
    import spaces  # type: ignore[import-not-found]

    run_on_gpu: Callable[[Callable[[], T]], T] = spaces.GPU(duration=120)(_run)
else:
    run_on_gpu = _run
# run_on_gpu(job) runs job(); on Hugging Face ZeroGPU Spaces inside spaces.GPU so that it gets the GPU.


@dataclass
class Services:
    """Backends and shared helpers for one app (see the module docstring)."""

    settings: Settings
    segmenter: Chosen[Segmenter]
    inpainter: Chosen[Inpainter]
    device: str
    queue_size: int = 16
    remover: Chosen[Inpainter] | None = None
    """The removal engine (LaMa when configured, else the exemplar fill); None: chosen on first use."""
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="prepare"))
    _cancel: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def engines(self) -> Engines:
        """The backends for recipe steps: this app's selector and "auto" engine."""
        return Engines(self.settings, self.segmenter, self.inpainter, self.remover)

    @property
    def generates(self) -> bool:
        """Whether the "auto" engine reads prompts (a diffusion model is configured)."""
        return self.inpainter.backend.name != "classic"

    def run_model(self, job: Callable[[], T]) -> T:
        """Run ``job`` (model work) where models run: inside ``spaces.GPU`` on ZeroGPU Spaces."""
        return run_on_gpu(job)

    @property
    def status(self) -> str:
        """One line for the top of the page: device, selector, engine and why."""
        selector, engine = self.segmenter.reason, self.inpainter.reason
        removal = f" · **Removal:** {self.remover.reason}" if self.remover is not None else ""
        return f"**Device:** {self.device} · **Selector:** {selector} · **Engine:** {engine}{removal}"

    def start_prepare(self, image: Image) -> Future[Prepared] | None:
        """Start the once-per-photo work (the embedding) now, so the first click is fast.

        On ZeroGPU Spaces the GPU exists only inside a request, so there the embedding is made
        at the first click instead (None is returned).
        """
        if ON_SPACES:
            return None
        return self._pool.submit(self.segmenter.backend.prepare, image)

    def cancel_flag(self, session_id: str) -> threading.Event:
        """The cancel flag of one browser session (created cleared on first use)."""
        with self._lock:
            return self._cancel.setdefault(session_id, threading.Event())

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._cancel.pop(session_id, None)


def make_services(settings: Settings, *, queue_size: int = 16) -> Services:
    """Pick backends for ``settings`` (SAM / diffusion when configured, classical otherwise)."""
    segmenter = make_segmenter("auto", settings)
    inpainter = make_inpainter("auto", settings)
    remover = make_remover("auto", settings)
    log.info("selector: %s; engine: %s; removal: %s", segmenter.reason, inpainter.reason, remover.reason)
    models = remover.backend.name == "lama" or not (
        isinstance(segmenter.backend, ClassicSelector) and isinstance(inpainter.backend, ClassicInpainter)
    )
    # Without a model nothing runs on a device: leave torch (about 500 MB) unimported.
    device = resolve_device(settings.device) if models or settings.device == "cuda" else "cpu (classical backends)"
    return Services(settings, segmenter, inpainter, device, queue_size=queue_size, remover=remover)
