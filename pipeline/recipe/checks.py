"""Validation shared by the recipe's steps: the limits (``pipeline.limits``), and checks that
raise ``InvalidInput`` saying which field was wrong and what to use instead."""

from __future__ import annotations

import math
from typing import TypeGuard

import numpy as np

from pipeline.colors import is_rgb
from pipeline.errors import InvalidInput
from pipeline.limits import (  # noqa: F401 - the limits, re-exported for the steps and the CLI
    MAX_CANVAS_SIDE,
    MAX_FEATHER_PX,
    MAX_GROW_PX,
    MAX_MARGIN_PX,
    MAX_MATTE_PX,
    MAX_POINTS,
)
from pipeline.masks import COMBINE_MODES

MAX_LABEL_ID = 2**31 - 1


def describe_array(array: object) -> str:
    if isinstance(array, np.ndarray):
        return f"a {array.shape} {array.dtype} array"
    return type(array).__name__


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInput(message)


def check_whole(value: object, low: int, high: int, name: str) -> None:
    ok = is_whole(value) and bool(low <= value <= high)
    require(ok, f"{name} is {value!r}; use a whole number from {low} to {high}")


def check_real(value: object, low: float, high: float, name: str) -> None:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    # NaN fails every comparison and the range is finite: no overflow for a huge int, no infinity.
    require(low <= number <= high, f"{name} is {value!r}; use a number from {low:g} to {high:g}")


def check_size(size: object, name: str = "size") -> None:
    ok = isinstance(size, tuple) and len(size) == 2 and all(is_whole(v) and v > 0 for v in size)
    require(ok, f"{name} is {size!r}; use (width, height) in whole pixels")


def is_whole(value: object) -> TypeGuard[int | np.integer]:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_rgb_tuple(value: object) -> bool:
    return isinstance(value, tuple) and is_rgb(value)


def check_combine(mode: object) -> None:
    require(mode in COMBINE_MODES, f"combine is {mode!r}; use one of {', '.join(COMBINE_MODES)}")
