"""Colour strings from the page's colour pickers to ``(r, g, b)`` 0..255 and back."""

from __future__ import annotations

import re

from pipeline.errors import InvalidInput

RGB = tuple[int, int, int]
_FUNCTION = re.compile(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)")


def parse_color(text: str | None) -> RGB:
    """``"#rgb"``, ``"#rrggbb"``, ``"#rrggbbaa"``, ``"rgb(r, g, b)"`` or ``"rgba(...)"`` -> ``(r, g, b)``."""
    value = (text or "").strip().lower()
    if value.startswith("#") and len(value) in (4, 7, 9):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        try:
            return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
        except ValueError:
            pass
    if match := _FUNCTION.match(value):
        channels = [min(255, round(float(v))) for v in match.groups()]
        return channels[0], channels[1], channels[2]
    raise InvalidInput(f"colour {text!r} is not a colour like '#1e90ff' or 'rgb(30, 144, 255)'; pick one again")


def to_hex(color: RGB) -> str:
    """``(r, g, b)`` -> ``"#rrggbb"``."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in color))
