"""Model work on Hugging Face ZeroGPU: inside ``@spaces.GPU`` with a duration sized to the job, and
a refused job told plainly (the visitor's quota left) instead of a bare error.

ZeroGPU lends a GPU per call, for at most the ``duration`` the call asks for; a shorter request
gets a higher place in its queue, and a visitor whose daily quota is spent is refused with a
``gr.Error`` whose title starts with "ZeroGPU" and whose text says how much is left. Off Spaces
(``SPACES_ZERO_GPU`` unset) ``run_on_gpu`` simply runs the job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_GPU_SECONDS = 60


def _on_zero_gpu() -> bool:
    """Whether this app runs on a ZeroGPU Space: the variable the platform sets and the ``spaces``
    package reads. Having ``spaces`` installed is not enough (off Spaces its decorator does nothing)."""
    if os.environ.get("SPACES_ZERO_GPU", "").lower() not in ("1", "t", "true"):
        return False
    try:
        import spaces  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


ON_SPACES = _on_zero_gpu()


def _run(job: Callable[[], T], seconds: int) -> T:  # noqa: ARG001 - ``seconds`` is read by spaces.GPU
    return job()


def _duration(job: Callable[[], object], seconds: int) -> int:  # noqa: ARG001 - same arguments as _run
    return seconds


if ON_SPACES:
    import spaces  # type: ignore[import-not-found]

    run_on_gpu: Callable[[Callable[[], T], int], T] = spaces.GPU(duration=_duration)(_run)
else:
    run_on_gpu = _run


_QUOTA = re.compile(r"\((\d+)s requested vs\. (\d+)s left\)\. Try again in ([\d:]+)")


def refusal(error: BaseException) -> str | None:
    """What to tell the visitor when ``error`` is ZeroGPU refusing the job, else None."""
    if not str(getattr(error, "title", "") or "").startswith("ZeroGPU"):
        return None
    text = str(getattr(error, "message", error))
    quota = _QUOTA.search(text)
    if quota:
        asked, left, wait = quota.groups()
        return (
            f"Your ZeroGPU quota is used up for now: {left} s of GPU time left, this step asks for "
            f"{asked} s; it refills in {wait} (log in to Hugging Face for more)."
        )
    return f"ZeroGPU could not run this step: {text}"


def tell_visitor(text: str) -> None:
    """A warning toast on the visitor's page (inside an event; a log line elsewhere)."""
    import gradio as gr

    gr.Warning(text)
