"""Data contracts shared by every module: images, masks, points, boxes.

- An ``Image`` is an ``(H, W, 3)`` ``uint8`` array in RGB order.
- A ``Mask`` is an ``(H, W)`` ``float32`` array in ``[0, 1]``; 1 means "selected / change this".
  A binary mask is a mask whose values are in ``{0, 1}``.
- Points and boxes are in pixels of the original image, ``x`` to the right, ``y`` down
  (the order of Gradio click data and of Segment Anything).

Functions never mutate their inputs; conversions happen only at the edges (file I/O,
the UI, a model's tensor input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from pipeline.errors import InvalidInput, SizeMismatch

Image: TypeAlias = npt.NDArray[np.uint8]
Mask: TypeAlias = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Point:
    """A click at ``(x, y)`` image pixels; ``positive`` False marks background."""

    x: float
    y: float
    positive: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.x) and math.isfinite(self.y)):
            raise InvalidInput(f"point ({self.x}, {self.y}) is not a finite coordinate; click inside the image")


@dataclass(frozen=True)
class Box:
    """An axis-aligned box ``x0 <= x1``, ``y0 <= y1`` in image pixels (corners, inclusive of x0/y0)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        values = (self.x0, self.y0, self.x1, self.y1)
        if not all(math.isfinite(v) for v in values):
            raise InvalidInput(f"box {values} has a non-finite coordinate")
        if self.x1 - self.x0 < 1 or self.y1 - self.y0 < 1:
            raise InvalidInput(
                f"box {values} is degenerate (needs x1 > x0 and y1 > y0 by at least 1 px); drag a larger box"
            )

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def check_image(image: np.ndarray, name: str = "image") -> Image:
    """Return ``image`` if it is an ``(H, W, 3)`` uint8 array, else raise ``InvalidInput``."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise InvalidInput(f"{name} must be an (H, W, 3) uint8 RGB array, got shape {shape} and dtype {dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidInput(f"{name} is empty ({image.shape[1]}x{image.shape[0]})")
    return image


def check_mask(mask: np.ndarray, name: str = "mask") -> Mask:
    """Return ``mask`` if it is an ``(H, W)`` float32 array in [0, 1], else raise ``InvalidInput``."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.float32:
        shape = getattr(mask, "shape", None)
        dtype = getattr(mask, "dtype", type(mask).__name__)
        raise InvalidInput(f"{name} must be an (H, W) float32 array in [0, 1], got shape {shape} and dtype {dtype}")
    if mask.size and (not np.isfinite(mask).all() or mask.min() < 0.0 or mask.max() > 1.0):
        raise InvalidInput(f"{name} has values outside [0, 1] or NaN; clip it to [0, 1] first")
    return mask


def check_same_size(mask: Mask, image: Image, what: str = "mask") -> None:
    """Raise ``SizeMismatch`` unless ``mask`` and ``image`` share height and width."""
    if mask.shape[:2] != image.shape[:2]:
        mh, mw = mask.shape[:2]
        ih, iw = image.shape[:2]
        raise SizeMismatch(
            f"{what} is {mw}x{mh} but the image is {iw}x{ih}; use a mask made for this image or ask to resize it"
        )
