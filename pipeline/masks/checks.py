"""Input checks shared by the mask engine (``masks``, ``feather``, ``morphology``, ``compose``).

Each check raises ``InvalidInput`` (or ``SizeMismatch``) with a message that says what was
wrong and what to do. The mask check reads the array once (the largest float32 bit pattern, which also catches
NaN) in one pass over the bits, cheaper than ``types.check_mask`` on 16-megapixel masks, with
the same verdict.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.types import Image, Mask, check_image

_ONE_BITS = 0x3F800000  # float32 1.0 as an unsigned integer


def require_mask(mask: object, name: str = "mask") -> Mask:
    """Return ``mask`` if it is an ``(H, W)`` float32 array with values in [0, 1]; else raise."""
    mask = require_mask_layout(mask, name)
    # Non-negative float32 bit patterns sort like the numbers, and 1.0 is 0x3F800000; negative
    # numbers, NaN and infinity all read as larger unsigned integers: one pass checks everything.
    if int(mask.view(np.uint32).max()) > _ONE_BITS:
        require_unit_range(float(mask.min()), float(mask.max()), name)  # -0.0 passes, NaN fails
    return mask


def require_mask_layout(mask: object, name: str = "mask") -> Mask:
    """Return ``mask`` if it is a non-empty ``(H, W)`` float32 array (values not checked)."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.float32:
        shape = getattr(mask, "shape", None)
        dtype = getattr(mask, "dtype", type(mask).__name__)
        raise InvalidInput(
            f"{name} must be an (H, W) float32 array in [0, 1], got shape {shape} and dtype {dtype}; "
            "convert it with masks.from_gray or masks.from_alpha"
        )
    if mask.shape[0] == 0 or mask.shape[1] == 0:
        raise InvalidInput(f"{name} is empty ({mask.shape[1]}x{mask.shape[0]})")
    return mask


def require_unit_range(low: float, high: float, name: str = "mask") -> None:
    """Raise ``InvalidInput`` unless ``0 <= low`` and ``high <= 1`` (NaN fails too)."""
    if not (low >= 0.0 and high <= 1.0):
        raise InvalidInput(
            f"{name} has values from {low:.9g} to {high:.9g}, outside [0, 1] (or NaN); clip it to [0, 1] first"
        )


def require_image(image: object, name: str = "image") -> Image:
    """Return ``image`` if it is an ``(H, W, 3)`` uint8 RGB array; else raise ``InvalidInput``."""
    return check_image(image, name)  # type: ignore[arg-type]


def require_same_size(first: np.ndarray, second: np.ndarray, first_name: str, second_name: str) -> None:
    """Raise ``SizeMismatch`` unless the two arrays share height and width."""
    if first.shape[:2] != second.shape[:2]:
        h1, w1 = first.shape[:2]
        h2, w2 = second.shape[:2]
        raise SizeMismatch(
            f"{first_name} is {w1}x{h1} but {second_name} is {w2}x{h2}; "
            "use arrays made for the same image (or resize one first)"
        )


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
