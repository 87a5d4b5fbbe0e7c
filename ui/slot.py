"""One model job at a time, for the whole process, and a Cancel that stops the job before its slot frees.

Gradio's queue runs every model event under one ``concurrency_id`` with a limit of 1, but that
slot alone is not enough: photo preparation (the embedding) runs in a background thread outside
the queue, and a cancelled event gives its slot back while its worker thread keeps running.
So every piece of model work (``Services.run_model``) also takes ``ModelSlot``'s lock, and
``cancellable`` turns Gradio's cancellation of an event into the session's cancel flag and holds
the event (and so its queue slot) until the work has stopped at its next step boundary.

``ModelSlot`` counts the jobs inside it (``running``, ``peak``, ``finished``) so that the load
suite (``bench/load.py``) can report the largest number ever running at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

GPU = "gpu"
"""The ``concurrency_id`` of every page and API event that runs a model: Gradio's queue gives it one slot."""


class ModelSlot:
    """A process-wide lock for model work, with counters of the jobs inside it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entrant: a job may call a helper that is itself a job
        self._count = threading.Lock()
        self.running = 0
        self.peak = 0
        self.finished = 0

    def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` when no other model job runs; count it while it does."""
        with self._lock:
            with self._count:
                self.running += 1
                self.peak = max(self.peak, self.running)
            try:
                return job()
            finally:
                with self._count:
                    self.running -= 1
                    self.finished += 1

    def stats(self) -> dict[str, int]:
        """``{"running", "peak", "finished"}`` now (the load suite reads them)."""
        with self._count:
            return {"running": self.running, "peak": self.peak, "finished": self.finished}

    def reset_peak(self) -> None:
        with self._count:
            self.peak = self.running


def cancellable(
    handler: Callable[..., T], workers: ThreadPoolExecutor, set_cancel: Callable[[str], None]
) -> Callable[..., Awaitable[T]]:
    """``handler`` (sync, takes a ``gr.Request``) as an async event function that Cancel really stops.

    The handler runs on ``workers``. When Gradio cancels the event, the session's cancel flag is
    set (``set_cancel(session_hash)``), and the event waits for the handler to return (the engine
    stops at its next step) before it ends, so its queue slot is not free while work still runs.
    The signature is ``handler``'s, so Gradio still passes the request and the progress tracker.
    """

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # Gradio's progress reporting lives in context variables
        future = loop.run_in_executor(workers, functools.partial(context.run, handler, *args, **kwargs))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            set_cancel(_session_hash(args, kwargs))
            await _until_done(future)
            raise

    return run


async def _until_done(future: asyncio.Future[Any]) -> None:
    """Wait for ``future`` whatever it raises, even if this task is cancelled again meanwhile."""
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            continue
        except Exception:  # noqa: BLE001 - the cancelled job's own error (usually Cancelled) is not news
            return
    if not future.cancelled():
        future.exception()  # mark it retrieved, so asyncio does not log it


def _session_hash(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    for value in (*args, *kwargs.values()):
        session_hash = getattr(value, "session_hash", None)
        if isinstance(session_hash, str):
            return session_hash
    return ""
