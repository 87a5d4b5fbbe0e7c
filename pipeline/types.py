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


_ONE_BITS = 0x3F800000  # float32 1.0 read as an unsigned integer


def check_image(image: object, name: str = "image") -> Image:
    """Return ``image`` if it is a non-empty ``(H, W, 3)`` uint8 array, else raise ``InvalidInput``."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise InvalidInput(f"{name} must be an (H, W, 3) uint8 RGB array, got shape {shape} and dtype {dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidInput(f"{name} is empty ({image.shape[1]}x{image.shape[0]})")
    return image


def check_mask(mask: object, name: str = "mask") -> Mask:
    """Return ``mask`` if it is a non-empty ``(H, W)`` float32 array in [0, 1], else raise ``InvalidInput``.

    One pass over the bits: non-negative float32 values sort like their bit patterns read as
    unsigned integers, and 1.0 is 0x3F800000; negative numbers, NaN and infinity all read as
    larger integers. Only a mask that fails this gets a second look (to pass -0.0 and to say
    which values are wrong).
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.float32:
        shape = getattr(mask, "shape", None)
        dtype = getattr(mask, "dtype", type(mask).__name__)
        raise InvalidInput(
            f"{name} must be an (H, W) float32 array in [0, 1], got shape {shape} and dtype {dtype}; "
            "convert it with masks.from_gray or masks.from_alpha"
        )
    if mask.shape[0] == 0 or mask.shape[1] == 0:
        raise InvalidInput(f"{name} is empty ({mask.shape[1]}x{mask.shape[0]})")
    if int(mask.view(np.uint32).max()) > _ONE_BITS:
        low, high = float(mask.min()), float(mask.max())
        if not (low >= 0.0 and high <= 1.0):  # -0.0 passes, NaN fails
            raise InvalidInput(
                f"{name} has values from {low:.9g} to {high:.9g}, outside [0, 1] (or NaN); clip it to [0, 1] first"
            )
    return mask


def check_same_size(
    first: np.ndarray, second: np.ndarray, first_name: str = "mask", second_name: str = "the image"
) -> None:
    """Raise ``SizeMismatch`` unless ``first`` and ``second`` share height and width.

    The message names both: "mask is 512x512 but the image is 640x480".
    """
    if first.shape[:2] != second.shape[:2]:
        h1, w1 = first.shape[:2]
        h2, w2 = second.shape[:2]
        raise SizeMismatch(
            f"{first_name} is {w1}x{h1} but {second_name} is {w2}x{h2}; "
            "use arrays made for the same image (or resize one to match)"
        )
