"""``shows_errors``: the decorator every page handler wears, so a pipeline error reaches the page as
a ``gr.Error`` that says what to do (without server paths) and the photo and mask stay as they were."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from pipeline.errors import PipelineError
from ui.uploads import public

log = logging.getLogger("ui.handlers")
R = TypeVar("R")
V = dict[Any, Any]
"""What a handler takes and returns: values keyed by component."""


def shows_errors(fn: Callable[..., R]) -> Callable[..., R]:
    """Turn pipeline errors into ``gr.Error`` (the message says what to do, without server paths);
    log anything else."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return fn(*args, **kwargs)
        except PipelineError as error:
            raise gr.Error(public(str(error)), print_exception=False) from error
        except gr.Error:
            raise
        except Exception as error:
            log.exception("%s failed", fn.__name__)
            detail = public(f"{type(error).__name__}: {error}")
            raise gr.Error(f"{detail}. Your photo and mask are kept; try again.") from error

    return wrapper
