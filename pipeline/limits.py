"""The range of every number and text a user can give Stencil, in one place.

The step types (``pipeline.recipe``), ``Prompting``, ``Padding`` and the background fills check
their fields against these, so the page, the API, the CLI and a replayed recipe obey the same
rule and name the field in the error. NaN and infinities are refused everywhere (a range check
is written so that NaN fails it). Ranges relative to the photo are checked when the step runs
on one (``check_radius_fits``).

============================  ===============================================  =============
field                         range                                            constant
============================  ===============================================  =============
grow / shrink (``grow_px``)   -1000 .. 1000 px, and at most the photo diagonal MAX_GROW_PX
feather (``feather_px``)      0 .. 256 px                                      MAX_FEATHER_PX
edge matte (``matte_px``)     0 .. 64 px                                       MAX_MATTE_PX
diffusion ``steps``           1 .. 150                                         MAX_STEPS
prompt, negative prompt       at most 1,000 characters each                    MAX_PROMPT_CHARS
name to find (``text``)       1 .. 200 characters                              MAX_NAME_CHARS
canvas extension (outpaint)   at most 4 x the photo's side along each axis     MAX_EXTEND_FACTOR
clicks (points)               at most 100 per ``Clicks`` step                  MAX_POINTS
context margin                0 .. 4096 px                                     MAX_MARGIN_PX
output canvas                 at most 8192 px a side                           MAX_CANVAS_SIDE
blur radius                   more than 0, at most 1000 px                     MAX_BLUR_PX
shadow distance / softness    0 .. 2000 px / 0 .. 256 px                       MAX_SHADOW_PX
============================  ===============================================  =============
"""

from __future__ import annotations

import math

from pipeline.errors import InvalidInput

MAX_GROW_PX = 1000
MAX_FEATHER_PX = 256.0
MAX_MATTE_PX = 64
MAX_STEPS = 150
MAX_PROMPT_CHARS = 1000
MAX_NAME_CHARS = 200
MAX_EXTEND_FACTOR = 4
MAX_POINTS = 100
MAX_MARGIN_PX = 4096
MAX_CANVAS_SIDE = 8192
MAX_BLUR_PX = 1000.0
MAX_SHADOW_PX = 2000.0


def diagonal_px(width: int, height: int) -> int:
    """The photo's diagonal in whole pixels (rounded up): the farthest a grow or shrink can reach."""
    return math.ceil(math.hypot(width, height))


def check_radius_fits(radius_px: float, size: tuple[int, int], name: str = "grow_px") -> None:
    """Refuse a grow/shrink radius longer than the diagonal of a ``(width, height)`` photo."""
    reach = diagonal_px(*size)
    if not abs(radius_px) <= reach:
        raise InvalidInput(
            f"{name} is {radius_px:g} px but this {size[0]}x{size[1]} photo's diagonal is {reach} px; "
            f"use at most {reach}"
        )


def check_text(text: object, name: str, limit: int = MAX_PROMPT_CHARS) -> None:
    """Refuse anything that is not text of at most ``limit`` characters."""
    if not isinstance(text, str):
        raise InvalidInput(f"{name} must be text, not {type(text).__name__}")
    if len(text) > limit:
        raise InvalidInput(f"{name} has {len(text)} characters; shorten it to at most {limit}")
