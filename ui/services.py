"""The backends the page uses, chosen once per app, and the work shared by every session.

``Services`` holds the selector and the inpainting engine (read-only, built through
``pipeline.models``), a small thread pool that prepares image embeddings in the background, the
process-wide ``ModelSlot`` every model job runs in (``ui.slot``), and one cancel flag per
browser session (a fresh one for every run). It holds no user images or masks: those live in each
session's ``gr.State``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from pipeline.edits.matting import Matter
from pipeline.errors import ModelUnavailable, PipelineError
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.inpaint.protocol import Inpainter, InpaintRequest
from pipeline.models import (
    Chosen,
    absent_learned_packages,
    make_inpainter,
    make_matter,
    make_remover,
    make_segmenter,
    make_subject,
    make_text_finder,
    missing_segmenter,
    resolve_device,
)
from pipeline.recipe import Engines
from pipeline.select.classic import ClassicSelector
from pipeline.select.protocol import Prepared, Segmenter
from pipeline.select.subject import SubjectFinder
from pipeline.select.text.sam3 import Sam3TextFinder
from pipeline.settings import Settings
from pipeline.types import Image
from ui.slot import ModelSlot, cancellable
from ui.zerogpu import DEFAULT_GPU_SECONDS, ON_SPACES, refusal, run_on_gpu, tell_visitor

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Services:
    """Backends and shared helpers for one app (see the module docstring)."""

    settings: Settings
    segmenter: Chosen[Segmenter]
    inpainter: Chosen[Inpainter]
    device: str
    queue_size: int = 64
    subject: Chosen[SubjectFinder] | None = None
    text: Chosen[Sam3TextFinder] | None = None
    text_missing: str = ""
    matter: Chosen[Matter] | None = None
    remover: Chosen[Inpainter] | None = None
    """The removal engine (LaMa when configured, else the exemplar fill); None: chosen on first use."""
    _selectors: dict[str, Chosen[Segmenter]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="prepare"))
    _cancel: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    slot: ModelSlot = field(default_factory=ModelSlot)
    workers: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="job"))

    @property
    def engines(self) -> Engines:
        """The backends for recipe steps: this app's selector and "auto" engine."""
        return Engines(
            self.settings,
            self.segmenter,
            self.inpainter,
            self.subject,
            self.text,
            self.matter_choice,
            remover=self.remover,
        )

    def selector_for(self, kind: str) -> Chosen[Segmenter]:
        """The click backend ``kind`` names ("auto": this app's), loaded on first use and then kept;
        ``ModelUnavailable`` says why it cannot load."""
        if kind == "auto":
            return self.segmenter
        if kind not in self._selectors:
            self._selectors[kind] = make_segmenter(kind, self.settings)  # type: ignore[arg-type]
        return self._selectors[kind]

    def click_unavailable(self) -> dict[str, str]:
        """Click backends that cannot load here, and why (found without loading them)."""
        why = {kind: missing_segmenter(kind, self.settings) for kind in ("sam", "sam3")}
        return {kind: reason for kind, reason in why.items() if reason}

    @property
    def sam3_clicks_status(self) -> str:
        """The status line's row for SAM 3 clicks: how to use them, or why they are unavailable."""
        if "sam3" in self._selectors:
            return self._selectors["sam3"].reason
        missing = self.click_unavailable().get("sam3")
        return f"unavailable: {missing}" if missing else 'available: pick "SAM 3" under "Click with" in the Click tab'

    @property
    def text_finder(self) -> Chosen[Sam3TextFinder]:
        """SAM 3 for "Find by name"; ``ModelUnavailable`` (why, and how to get it) when there is none."""
        if self.text is None:
            try:
                self.text = make_text_finder("auto", self.settings)
            except ModelUnavailable as missing:
                self.text_missing = str(missing)
                raise
        return self.text

    @property
    def text_available(self) -> bool:
        try:
            self.text_finder  # noqa: B018 - loads it, or says why not
        except ModelUnavailable:
            return False
        return True

    @property
    def matter_choice(self) -> Chosen[Matter]:
        """The "auto" edge matter and why (ViTMatte when configured or cached, else classical)."""
        if self.matter is None:
            self.matter = make_matter("auto", self.settings)
        return self.matter

    @property
    def subject_finder(self) -> Chosen[SubjectFinder]:
        """The "auto" subject finder and why (picked on first use when ``make_services`` did not)."""
        if self.subject is None:
            self.subject = make_subject("auto", self.settings)
        return self.subject

    @property
    def classical_engines(self) -> Engines:
        """The classical selector and engine: where model work goes when ZeroGPU refuses it."""
        return Engines(
            self.settings,
            Chosen(ClassicSelector(), "classical selector (the GPU was refused)"),
            Chosen(ClassicInpainter(), "classical engine (the GPU was refused)"),
        )

    @property
    def generates(self) -> bool:
        """Whether the "auto" engine reads prompts (a diffusion model is configured)."""
        return self.inpainter.backend.name != "classic"

    @property
    def control_kinds(self) -> tuple[str, ...]:
        """The control kinds the engine has a ControlNet for (none: guidance is off in the page)."""
        return tuple(getattr(self.inpainter.backend, "control_kinds", ()))

    def run_model(
        self, job: Callable[[], T], *, seconds: int = DEFAULT_GPU_SECONDS, fallback: Callable[[], T] | None = None
    ) -> T:
        """Run ``job`` (model work) in the one model slot: no other model job runs meanwhile,
        whichever session, thread or queue started it; inside ``spaces.GPU`` on ZeroGPU Spaces,
        asking for ``seconds`` of GPU. When ZeroGPU refuses (the visitor's quota is spent),
        ``fallback`` (the same work on the classical backends) runs instead with a warning that
        says how much quota is left; without one the refusal is raised as that message."""
        try:
            return self.slot.run(lambda: run_on_gpu(job, seconds))
        except Exception as error:
            told = refusal(error)
            if told is None:
                raise
            if fallback is None:
                raise ModelUnavailable(told) from None
            log.warning("%s", told)
            tell_visitor(f"{told} This step ran on the classical engine instead.")
            return self.slot.run(fallback)

    def warm_up(self) -> None:
        """Load the removal engine and run it once on a tiny photo, in the model slot, so that the
        first visitor's removal does not pay for it: the exemplar fill's compiled kernels cost about
        a second and 140 MB once per process (``docs/BENCHMARKS.md``, serving many people). A
        failure is logged, never raised: the page still serves, and the step reports it when used."""
        yy, xx = np.mgrid[0:160, 0:160]  # big enough for two levels of the exemplar fill's pyramid
        photo = np.stack([(xx * 5) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], axis=-1).astype(np.uint8)
        hole = np.zeros((160, 160), np.float32)
        hole[48:112, 48:112] = 1.0
        try:
            chosen = self.engines.chosen_removal("auto")
            self.remover = chosen
            self.slot.run(lambda: chosen.backend.inpaint(InpaintRequest(photo, hole)))
        except PipelineError as error:
            log.warning("warning: the removal engine could not warm up: %s", error)

    @property
    def backends(self) -> list[tuple[str, str]]:
        """``(what, which backend and why)`` for the status line; a new kind of backend adds one row."""
        rows = [
            ("Selector", self.segmenter.reason),
            ("SAM 3 clicks", self.sam3_clicks_status),
            ("Engine", self.inpainter.reason),
            ("Subject", self.subject_finder.reason),
            ("Text", self.text.reason if self.text_available and self.text else f"unavailable: {self.text_missing}"),
            ("Matte", self.matter_choice.reason),
        ]
        if self.remover is not None:
            rows.append(("Removal", self.remover.reason))
        if absent := absent_learned_packages():
            rows.append((
                "Not installed",
                f"{', '.join(absent)}: SAM clicks, prompted inpainting, find by name and learned mattes need "
                f"them (pip install {' '.join(absent)}); every other step runs here",
            ))  # fmt: skip
        return rows

    @property
    def status(self) -> str:
        """One line for the top of the page: the device, then each backend and why it was chosen."""
        return " · ".join([f"**Device:** {self.device}", *(f"**{what}:** {why}" for what, why in self.backends)])

    def start_prepare(self, image: Image) -> Future[Prepared] | None:
        """Start the once-per-photo work (the embedding) now, so the first click is fast.

        On ZeroGPU Spaces the GPU exists only inside a request, so there the embedding is made
        at the first click instead (None is returned).
        """
        if ON_SPACES:
            return None
        backend = self.segmenter.backend
        return self._pool.submit(self.run_model, lambda: backend.prepare(image))

    def cancel_flag(self, session_id: str) -> threading.Event:
        """The cancel flag of one browser session's current run (created cleared on first use)."""
        with self._lock:
            return self._cancel.setdefault(session_id, threading.Event())

    def new_run(self, session_id: str) -> threading.Event:
        """A fresh, cleared cancel flag for a run that starts now; an older run keeps its own flag,
        so a Cancel that reached it still stops it."""
        with self._lock:
            self._cancel[session_id] = flag = threading.Event()
            return flag

    def cancellable(self, handler: Callable[..., T]) -> Callable[..., Awaitable[T]]:
        """``handler`` as an event function whose Cancel stops the work before its slot frees."""
        return cancellable(handler, self.workers, self.cancel)

    def cancel(self, session_id: str) -> None:
        """Ask the session's current run to stop at its next step."""
        self.cancel_flag(session_id).set()

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._cancel.pop(session_id, None)


def make_services(settings: Settings, *, queue_size: int = 64) -> Services:
    """Pick backends for ``settings`` (SAM / diffusion when configured, classical otherwise)."""
    segmenter = make_segmenter("auto", settings)
    inpainter = make_inpainter("auto", settings)
    subject = make_subject("auto", settings)
    remover = make_remover("auto", settings)
    log.info(
        "selector: %s; engine: %s; subject: %s; removal: %s",
        segmenter.reason, inpainter.reason, subject.reason, remover.reason,
    )  # fmt: skip
    models = remover.backend.name == "lama" or not (
        isinstance(segmenter.backend, ClassicSelector) and isinstance(inpainter.backend, ClassicInpainter)
    )
    # Without a model nothing runs on a device: leave torch (about 500 MB) unimported.
    device = resolve_device(settings.device) if models or settings.device == "cuda" else "cpu (classical backends)"
    return Services(settings, segmenter, inpainter, device, queue_size=queue_size, subject=subject, remover=remover)
