"""Parameter checks of the mask engine (``masks``, ``feather``, ``morphology``, ``compose``).

Each raises ``InvalidInput`` with a message that says what was wrong and what to do. Arrays are
checked by ``pipeline.types.check_image``, ``check_mask`` and ``check_same_size``, the only
copies of those checks.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from pipeline.errors import InvalidInput


def require_radius(radius_px: object, name: str = "radius_px") -> float:
    """Return ``radius_px`` as a float if it is a finite number >= 0; else raise ``InvalidInput``."""
    if isinstance(radius_px, bool) or not isinstance(radius_px, Real):
        raise InvalidInput(f"{name} must be a number of pixels, got {radius_px!r}")
    value = float(radius_px)
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{name} must be a finite number of pixels >= 0, got {radius_px!r}")
    return value


def require_level(level: object, name: str = "level") -> float:
    """Return ``level`` as a float if it is a number in [0, 1]; else raise ``InvalidInput``."""
    if isinstance(level, bool) or not isinstance(level, Real) or not 0.0 <= float(level) <= 1.0:
        raise InvalidInput(f"{name} must be a number in [0, 1], got {level!r}")
    return float(level)


def require_count(count: object, name: str) -> int:
    """Return ``count`` if it is an integer >= 0 (a pixel count); else raise ``InvalidInput``."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise InvalidInput(f"{name} must be a whole number of pixels >= 0, got {count!r}")
    return int(count)
