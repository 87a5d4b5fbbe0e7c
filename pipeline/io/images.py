"""Load and save images and masks: the edge where untrusted files enter the pipeline.

Reading accepts PNG, JPEG (MPO included), WebP, BMP and TIFF and nothing else. Each file goes
through the same gate: the format is identified from its header, the size the header declares
is checked against the caps (by default 40 MP and 8192 px on the longest side) before any pixel
is decoded, the whole image is then decoded (a truncated file is an error, never a half-grey
picture) and its EXIF orientation is applied, so arrays are always upright.

Modes convert by the range they really hold, never by clipping:

- 1-bit, 8-bit gray and palette images scale by 255; palette or gray/RGB images with a
  transparent colour, LA and RGBA keep their alpha.
- 16-bit gray (``I;16``, ``I;16B``...) scales by 65535 (to 8 bits: divide by 257).
- 32-bit integer (``I``): values within [0, 65535] are 16-bit data widened by the decoder and
  scale by 65535; anything else is stretched from its minimum to its maximum.
- 32-bit float (``F``): taken as [0, 1] when its maximum is at most 1, otherwise divided by its
  maximum; negatives and non-finite values become 0.
- CMYK converts through its embedded ICC profile when it has a usable one, otherwise with
  ``RGB = (1 - CMY) * (1 - K)``.

Saving (``pipeline.io.saving``, re-exported here) writes PNG, WebP and TIFF losslessly, JPEG at
quality 95, through a temporary file, and never writes EXIF GPS data.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.io.gate import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, FRAMES_KEY, READ_FORMATS, open_checked
from pipeline.io.modes import (
    gray_levels,
    is_binary,
    label_values,
    mask_levels,
    resize_labels,
    resize_mask,
    rgb_and_alpha,
)
from pipeline.io.saving import save_image, save_mask, save_rgba
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "READ_FORMATS",
    "LoadedImage",
    "decode_image",
    "decode_mask",
    "is_binary",
    "load_gray",
    "load_image",
    "load_labels",
    "load_mask",
    "load_reference",
    "resize_mask",
    "save_image",
    "save_mask",
    "save_rgba",
]


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A decoded, upright image.

    ``rgb`` is ``(H, W, 3)`` uint8; ``alpha`` is an ``(H, W)`` float32 mask in [0, 1] (1 = opaque)
    for images with transparency, else None; ``path`` is None for in-memory uploads. ``exif`` is
    the source's EXIF block with orientation and GPS removed (pass it to ``save_image`` to keep
    camera metadata), or None. ``frames`` is how many frames or pages the file holds: an
    animation or a multi-page TIFF is reduced to its first (``note`` says so).
    """

    rgb: Image
    alpha: Mask | None
    path: Path | None
    exif: bytes | None = None
    frames: int = 1

    @property
    def note(self) -> str | None:
        """What the user should know about how the file was read (None: nothing)."""
        if self.frames <= 1:
            return None
        name = self.path.name if self.path is not None else "the image"
        return f"{name} holds {self.frames} frames or pages; Stencil edits only the first one"

    def __post_init__(self) -> None:
        check_image(self.rgb, "LoadedImage.rgb")
        if self.alpha is not None:
            check_same_size(check_mask(self.alpha, "LoadedImage.alpha"), self.rgb, "alpha")

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


# ---------------------------------------------------------------- images


def load_image(
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = DEFAULT_MAX_SIDE
) -> LoadedImage:
    """Load an image file as upright RGB plus its alpha (see the module docstring for the rules).

    Raises ``UnsupportedFormat``, ``CorruptImage``, ``ImageTooLarge`` (checked from the header,
    before decoding) or ``InvalidInput`` for a missing file.
    """
    img, exif = open_checked(Path(path), max_pixels=max_pixels, max_side=max_side)
    rgb, alpha = rgb_and_alpha(img, str(path))
    return LoadedImage(rgb=rgb, alpha=alpha, path=Path(path), exif=exif, frames=img.info.get(FRAMES_KEY, 1))


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = DEFAULT_MAX_SIDE) -> LoadedImage:
    """Like ``load_image`` for a file's bytes already in memory (an upload); ``path`` is None."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidInput(f"decode_image needs the file's bytes, got {type(data).__name__}")
    img, exif = open_checked(bytes(data), max_pixels=max_pixels, max_side=max_side)
    rgb, alpha = rgb_and_alpha(img, "the uploaded image")
    return LoadedImage(rgb=rgb, alpha=alpha, path=None, exif=exif, frames=img.info.get(FRAMES_KEY, 1))


# ---------------------------------------------------------------- masks and label maps


def _fit(
    array: np.ndarray,
    size: tuple[int, int] | None,
    resize: bool,
    name: str,
    against: str = "the image",
    resizer: Callable[[np.ndarray, tuple[int, int]], np.ndarray] = resize_mask,
) -> np.ndarray:
    """Return ``array`` at ``size = (W, H)``: unchanged, ``resizer(array, size)`` on request, or a SizeMismatch."""
    if size is None or (array.shape[1], array.shape[0]) == tuple(size):
        return array
    if resize:
        return resizer(array, size)
    raise SizeMismatch(
        f"{name} is {array.shape[1]}x{array.shape[0]} but {against} is {size[0]}x{size[1]}; "
        "use one of the same size or ask for it to be resized"
    )


def load_mask(
    path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    resize: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
) -> Mask:
    """Load a mask file as ``(H, W)`` float32 in [0, 1]; soft values stay soft.

    A transparent file gives its alpha, a gray one its level (8-bit, 16-bit or float at full
    precision), a colour one its brightest channel. With ``size = (W, H)`` a mask of another size
    raises ``SizeMismatch`` unless ``resize`` is set: then binary masks scale by nearest neighbour
    and soft ones by area averaging.
    """
    img, _ = open_checked(Path(path), max_pixels=max_pixels, max_side=max_side)
    return _fit(mask_levels(img, str(path)), size, resize, f"mask {path}")


def decode_mask(data: bytes, *, size: tuple[int, int] | None = None, resize: bool = False) -> Mask:
    """Like ``load_mask`` for a mask file's bytes already in memory (an upload)."""
    img, _ = open_checked(bytes(data))
    return _fit(mask_levels(img, "the uploaded mask"), size, resize, "the uploaded mask")


def load_gray(
    path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = None,
    resize: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
) -> Mask:
    """Load a file's brightness as ``(H, W)`` float32 in [0, 1] (Rec. 601 luma for colour, alpha ignored).

    ``size`` and ``resize`` behave as in ``load_mask``.
    """
    img, _ = open_checked(Path(path), max_pixels=max_pixels, max_side=max_side)
    return _fit(gray_levels(img, str(path)), size, resize, f"gray map {path}")


def load_labels(
    path: str | os.PathLike[str],
    *,
    as_rgb: bool = False,
    size: tuple[int, int] | None = None,
    resize: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
) -> np.ndarray:
    """Load a label map: ``(H, W)`` int32 class ids, or ``(H, W, 3)`` uint8 colours.

    Gray files give their values and palette files their indices (or, with ``as_rgb``, their
    colours); colour files give colours. Resizing (on request) is always nearest neighbour.
    """
    img, _ = open_checked(Path(path), max_pixels=max_pixels, max_side=max_side)
    labels = label_values(img, str(path), as_rgb=as_rgb)
    return _fit(labels, size, resize, f"label map {path}", resizer=resize_labels)


def load_reference(
    path: str | os.PathLike[str], *, ignore_value: int | None = 128, size: tuple[int, int] | None = None
) -> tuple[Mask, np.ndarray]:
    """Load a ground-truth mask and the pixels to leave out of metrics.

    Returns ``(mask, ignore)``: ``mask`` as in ``load_mask`` (0 on ignored pixels) and ``ignore``
    an ``(H, W)`` bool array of the pixels whose 8-bit level equals ``ignore_value`` (GrabCut's
    boundary band is 128); None ignores nothing. A reference of another ``size`` is an error.
    """
    if ignore_value is not None and not 0 <= ignore_value <= 255:
        raise InvalidInput(f"ignore value {ignore_value} is not an 8-bit level; use 0..255 (GrabCut uses 128)")
    img, _ = open_checked(Path(path))
    mask = _fit(mask_levels(img, str(path)), size, False, f"reference {path}", "the mask")
    if ignore_value is None:
        return mask, np.zeros(mask.shape, dtype=bool)
    ignore = np.rint(mask * 255.0).astype(np.int32) == ignore_value
    return np.where(ignore, np.float32(0.0), mask).astype(np.float32), ignore
