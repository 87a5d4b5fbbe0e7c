"""Where masks come from besides clicks: alpha channels, grey maps, label maps, colour and
luminance ranges. Every function returns a new ``(H, W)`` float32 mask in [0, 1].

Numeric inputs (alpha, grey maps) are read by dtype: ``bool`` as {0, 1}, ``uint8`` as
0..255, ``uint16`` as 0..65535, float as already in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import cv2
import numpy as np

from pipeline.colors import RGB, check_rgb, is_rgb
from pipeline.errors import InvalidInput
from pipeline.masks.checks import require_level
from pipeline.types import Image, Mask, check_image

DEFAULT_COLOR_TOLERANCE = 12.0
"""Default ``from_color`` tolerance in Delta-E (CIE76); about 2.3 is a just-noticeable difference."""

_LUMA_WEIGHTS = np.array([[0.2126, 0.7152, 0.0722]], dtype=np.float32) / 255.0  # Rec. 709 on R'G'B'
_SCALES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def to_unit(values: np.ndarray, name: str) -> Mask:
    """An ``(H, W)`` bool/uint8/uint16/float array as float32 in [0, 1] (scaled by its dtype)."""
    if not isinstance(values, np.ndarray) or values.ndim != 2 or 0 in values.shape:
        raise InvalidInput(f"{name} must be a non-empty (H, W) array, got shape {getattr(values, 'shape', None)}")
    if values.dtype == np.bool_:
        return values.astype(np.float32)
    if values.dtype in _SCALES:
        return (values * np.float32(1.0 / _SCALES[values.dtype])).astype(np.float32)
    if values.dtype in (np.float32, np.float64):
        low, high = float(values.min()), float(values.max())
        if not (low >= 0.0 and high <= 1.0):
            raise InvalidInput(f"{name} is float with values {low:g}..{high:g}; floats must be in [0, 1]")
        return values.astype(np.float32)  # always a copy
    raise InvalidInput(f"{name} has dtype {values.dtype}; use bool, uint8, uint16 or float in [0, 1]")


def _binarise(unit: Mask, threshold: float | None) -> Mask:
    if threshold is None:
        return unit
    level = require_level(threshold, "threshold")
    return (unit >= level).astype(np.float32)


def from_alpha(alpha: np.ndarray, *, threshold: float | None = None) -> Mask:
    """A mask from an alpha channel: opaque = 1 (selected), transparent = 0.

    ``alpha``: ``(H, W)`` alpha (bool, uint8, uint16 or float in [0, 1]) or an ``(H, W, 4)``
    RGBA array (its last channel is used). ``threshold``: None keeps the alpha soft; a level in
    [0, 1] gives a binary mask (1 where ``alpha >= threshold``).
    """
    if isinstance(alpha, np.ndarray) and alpha.ndim == 3 and alpha.shape[2] == 4:
        alpha = alpha[:, :, 3]
    return _binarise(to_unit(alpha, "alpha"), threshold)


def from_gray(gray: np.ndarray, *, threshold: float | None = 0.5) -> Mask:
    """A mask from a grey or black-and-white image: white = 1 (selected), black = 0.

    ``gray``: ``(H, W)`` bool, uint8, uint16 or float in [0, 1]. ``threshold``: a level in
    [0, 1] (default 0.5) gives a binary mask (1 where ``gray >= threshold``); None keeps the
    grey levels as a soft mask.
    """
    return _binarise(to_unit(gray, "grey map"), threshold)


def from_labels(labels: np.ndarray, classes: int | RGB | Sequence[int] | Sequence[RGB]) -> Mask:
    """A binary mask of the pixels whose label is one of ``classes``.

    ``labels``: an ``(H, W)`` integer label map (then ``classes`` are ids: an int or a list of
    ints) or an ``(H, W, 3)`` uint8 colour-coded map in RGB order (then ``classes`` are
    colours: an ``(r, g, b)`` tuple of 0..255 ints, or a list of them). Classes absent from the
    map select nothing.
    """
    if isinstance(labels, np.ndarray) and labels.ndim == 3 and labels.shape[2] == 3 and labels.dtype == np.uint8:
        codes = _pack_rgb(labels)
        wanted = [_pack_color(c) for c in _color_list(classes)]
        return np.isin(codes, wanted).astype(np.float32)
    if isinstance(labels, np.ndarray) and labels.ndim == 2 and np.issubdtype(labels.dtype, np.integer):
        if 0 in labels.shape:
            raise InvalidInput("label map is empty")
        return np.isin(labels, _id_list(classes)).astype(np.float32)
    raise InvalidInput(
        f"label map must be an (H, W) integer array or an (H, W, 3) uint8 colour image, got shape "
        f"{getattr(labels, 'shape', None)} and dtype {getattr(labels, 'dtype', type(labels).__name__)}"
    )


def _id_list(classes: object) -> list[int]:
    items = [classes] if isinstance(classes, Integral) else classes
    if not isinstance(items, Sequence) or not items:
        raise InvalidInput(f"classes must be a class id or a non-empty list of ids, got {classes!r}")
    if not all(isinstance(c, Integral) and not isinstance(c, bool) for c in items):
        raise InvalidInput(f"this label map holds class ids, so classes must be whole numbers, got {classes!r}")
    return [int(c) for c in items]


def _color_list(classes: object) -> list[RGB]:
    if is_rgb(classes):
        return [check_rgb(classes)]
    if not isinstance(classes, Sequence) or not classes:
        raise InvalidInput(f"classes must be an (r, g, b) colour or a non-empty list of them, got {classes!r}")
    if not all(is_rgb(c) for c in classes):
        raise InvalidInput(
            f"this label map is colour-coded, so classes must be (r, g, b) colours of 0..255, got {classes!r}"
        )
    return [check_rgb(c) for c in classes]


def _pack_color(color: RGB) -> int:
    return (color[0] << 16) | (color[1] << 8) | color[2]


def _pack_rgb(labels: np.ndarray) -> np.ndarray:
    packed = labels[:, :, 0].astype(np.int32) << 16
    packed |= labels[:, :, 1].astype(np.int32) << 8
    packed |= labels[:, :, 2]
    return packed


def from_color(
    image: Image,
    color_rgb: Sequence[float],
    *,
    tolerance: float = DEFAULT_COLOR_TOLERANCE,
    softness: float = 0.0,
) -> Mask:
    """Select the pixels whose colour is within ``tolerance`` of ``color_rgb`` (chroma key).

    ``image``: ``(H, W, 3)`` uint8 RGB. ``color_rgb``: the picked colour, three values 0..255.
    Distance is Delta-E (CIE76: Euclidean distance in CIELAB, D65, sRGB input), in which about
    2.3 is a just-noticeable difference. Pixels within ``tolerance`` get 1; with ``softness``
    > 0 the mask rolls off smoothly to 0 at ``tolerance + softness`` (both in Delta-E units).
    """
    image = check_image(image)
    picked = _picked_color(color_rgb)
    tolerance, softness = _non_negative(tolerance, "tolerance"), _non_negative(softness, "softness")
    lab = np.asarray(cv2.cvtColor(image.astype(np.float32) * np.float32(1.0 / 255.0), cv2.COLOR_RGB2Lab), np.float32)
    reference = cv2.cvtColor(picked.reshape(1, 1, 3) / np.float32(255.0), cv2.COLOR_RGB2Lab).reshape(3)
    lab -= reference
    distance = cv2.sqrt(cv2.transform(lab * lab, np.ones((1, 3), dtype=np.float32)))
    return _rolloff(distance - np.float32(tolerance), softness)


def from_luminance(image: Image, low: float, high: float, *, softness: float = 0.05) -> Mask:
    """Select the pixels whose luma lies in ``[low, high]``, rolling off smoothly outside.

    ``image``: ``(H, W, 3)`` uint8 RGB. Luma is Rec. 709 ``0.2126 R' + 0.7152 G' + 0.0722 B'``
    on the gamma-encoded values, in [0, 1] (0 black, 1 white). ``0 <= low <= high <= 1``.
    ``softness`` (same units, >= 0): the mask falls from 1 to 0 over this distance outside
    the range (smoothstep); 0 gives a hard binary mask.
    """
    image = check_image(image)
    low, high = require_level(low, "low"), require_level(high, "high")
    if low > high:
        raise InvalidInput(f"luminance range {low:g}..{high:g} has low > high; swap them")
    softness = _non_negative(softness, "softness")
    luma = cv2.transform(image.astype(np.float32), _LUMA_WEIGHTS)
    outside = np.maximum(np.float32(low) - luma, luma - np.float32(high))
    return _rolloff(outside, softness)


def _picked_color(color_rgb: object) -> np.ndarray:
    values = np.asarray(color_rgb, dtype=np.float64) if isinstance(color_rgb, (Sequence, np.ndarray)) else None
    if values is None or values.shape != (3,) or not np.all((values >= 0) & (values <= 255)):
        raise InvalidInput(f"colour must be three values (r, g, b) in 0..255, got {color_rgb!r}")
    return values.astype(np.float32)


def _non_negative(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _rolloff(outside: np.ndarray, width: float) -> Mask:
    """1 where ``outside <= 0``, a smoothstep down to 0 at ``outside = width`` (hard if 0)."""
    if width == 0.0:
        return (outside <= 0).astype(np.float32)
    t = np.clip(np.float32(1.0) - outside * np.float32(1.0 / width), 0.0, 1.0).astype(np.float32)
    return (t * t * (np.float32(3.0) - np.float32(2.0) * t)).astype(np.float32)
