"""Colours: text (command line, colour pickers, recipes) to ``(r, g, b)`` and back, and the one
check of an ``(r, g, b)`` value passed in code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from numbers import Integral

import numpy as np

from pipeline.errors import InvalidInput

RGB = tuple[int, int, int]
"""A colour as three 0..255 integers in RGB order."""

NAMED_COLORS: dict[str, RGB] = {
    "white": (255, 255, 255), "black": (0, 0, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
    "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
}  # fmt: skip
_HEX = re.compile(r"#?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})")
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_FUNCTION = re.compile(rf"rgba?\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*,\s*{_NUMBER}\s*(?:,\s*{_NUMBER}\s*)?\)")
_TRIPLE = re.compile(r"(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})")


def parse_color(text: str | None) -> RGB:
    """Read ``#rgb``, ``#rrggbb``, ``#rrggbbaa`` (``#`` optional), ``r,g,b``, ``rgb(r, g, b)``,
    ``rgba(r, g, b, a)`` (alpha ignored) or a plain name (white, black, gray, red, green, blue,
    yellow). Channels are 0..255. Raises ``InvalidInput`` for anything else.
    """
    value = (text or "").strip().lower()
    if value in NAMED_COLORS:
        return NAMED_COLORS[value]
    if match := _HEX.fullmatch(value):
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    if match := _FUNCTION.fullmatch(value) or _TRIPLE.fullmatch(value):
        channels = [round(float(v)) for v in match.groups()[:3]]
        if all(0 <= c <= 255 for c in channels):
            return channels[0], channels[1], channels[2]
    raise InvalidInput(
        f"{text!r} is not a colour; write #RRGGBB (e.g. #1e90ff), R,G,B with 0..255, or a name such as white"
    )


def to_hex(color: RGB) -> str:
    """``(r, g, b)`` -> ``"#rrggbb"``."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in color))


def is_rgb(value: object) -> bool:
    """Whether ``value`` is three whole numbers in 0..255 (a tuple, list or array; not bools)."""
    return (
        isinstance(value, (Sequence, np.ndarray))
        and not isinstance(value, str)
        and len(value) == 3
        and all(isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and 0 <= int(v) <= 255 for v in value)
    )


def check_rgb(value: object, what: str = "colour") -> RGB:
    """``value`` as an ``(r, g, b)`` tuple of ints if ``is_rgb(value)``; else raise ``InvalidInput``."""
    if not is_rgb(value):
        raise InvalidInput(f"{what} must be three whole numbers (r, g, b) in 0..255, got {value!r}")
    r, g, b = (int(v) for v in value)  # type: ignore[attr-defined]
    return r, g, b
