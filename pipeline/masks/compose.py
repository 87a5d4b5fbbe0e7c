"""Putting masks and images together: overlays, alpha compositing, cutouts, previews.

Images are ``(H, W, 3)`` uint8 RGB, masks ``(H, W)`` float32 in [0, 1] (1 = selected).
Blending is linear in the stored (gamma-encoded) sRGB values, as every editor does, and
rounds to the nearest byte. Nothing here modifies its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import cv2
import numpy as np

from pipeline.colors import RGB, check_rgb
from pipeline.errors import BackendFailed, InvalidInput
from pipeline.masks.checks import require_level
from pipeline.masks.feather import gaussian_feather, gaussian_sigma
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

DEFAULT_TINT: RGB = (40, 120, 255)
"""Overlay colour (a saturated blue that stands out on skin, food and most products)."""

OUTLINE_RGB: RGB = (255, 255, 255)
"""Colour of the selection's outline in ``overlay``."""

PREVIEW_MAX_SIDE = 1536
"""Longest side, in pixels, of the live preview shown in the browser."""

_SQUARE = np.ones((3, 3), np.uint8)


WHOLE_FRAME_SHARE = 0.6
"""Above this share of the frame, ``overlay`` blends the whole photo instead of the mask's box."""


def overlay(
    image: Image,
    mask: Mask,
    *,
    color: Sequence[int] = DEFAULT_TINT,
    opacity: float = 0.5,
    outline: bool = True,
    outline_px: int | None = None,
    outline_color: Sequence[int] = OUTLINE_RGB,
) -> Image:
    """The photo with the selection tinted in ``color`` and outlined: what the user sees.

    ``image``: ``(H, W, 3)`` uint8 RGB; ``mask``: ``(H, W)`` float32 in [0, 1]. Each pixel moves
    towards ``color`` (RGB 0..255) by ``opacity * mask`` (``opacity`` in [0, 1]), rounded. With
    ``outline``, the inner ``outline_px`` pixels of the 0.5 contour are painted in
    ``outline_color`` (no line along the frame); None scales the line with the picture, one
    pixel per 500 on its longer side (at least 1). Only the mask's bounding box is touched, so a
    small selection on a large photo costs little. Returns a new ``(H, W, 3)`` uint8 image.
    """
    image = check_image(image)
    mask = check_mask(mask)
    check_same_size(mask, image)
    tint, edge = check_rgb(color), check_rgb(outline_color, "outline colour")
    strength = np.float32(require_level(opacity, "opacity"))
    thickness = max(1, round(max(image.shape[:2]) / 500)) if outline_px is None else outline_px
    if isinstance(thickness, bool) or not isinstance(thickness, (int, np.integer)) or thickness < 0:
        raise InvalidInput(f"outline_px must be a whole number of pixels >= 0 or None, got {outline_px!r}")
    box = _support(mask)
    if box is None:
        return image.copy()
    rows, cols = box
    if (rows.stop - rows.start) * (cols.stop - cols.start) > WHOLE_FRAME_SHARE * mask.size:
        box = (slice(0, mask.shape[0]), slice(0, mask.shape[1]))  # cheaper than a copy and a paste
    part = image[box]
    if strength > 0:  # a new array: ``image`` is never written
        weight = mask[box] * strength
        region = cast(Image, cv2.blendLinear(solid(part.shape, tint), part, weight, np.float32(1.0) - weight))
    else:
        region = part.copy()
    if outline and thickness > 0:
        inside = (mask[box] >= 0.5).view(np.uint8)
        band = cv2.subtract(inside, cv2.erode(inside, _SQUARE, iterations=int(thickness)))
        cv2.copyTo(solid(region.shape, edge), band, region)  # paints the band in place
    if region.shape == image.shape:  # the selection spans the frame: no second full-size copy
        return region
    out = image.copy()
    out[box] = region
    return out


def solid(shape: tuple[int, ...], rgb: RGB) -> Image:
    """An ``(H, W, 3)`` uint8 image of one colour ``rgb``, ``shape[:2]`` = (H, W).

    One row is built and copied down (about 7 ms at 12 MP): ``np.full`` with a colour triple
    broadcasts pixel by pixel and takes 80 to 200 ms there.
    """
    height, width = int(shape[0]), int(shape[1])
    out = np.empty((height, width * 3), np.uint8)
    out[:] = np.tile(np.asarray(rgb, np.uint8), width)
    return out.reshape(height, width, 3)


def _support(mask: Mask) -> tuple[slice, slice] | None:
    """The rows and columns holding every pixel with ``mask > 0``, one more on each side (within
    the frame), so that the 0.5 contour never touches the crop's edge but where the frame is;
    None for an all-zero mask."""
    x, y, box_width, box_height = cv2.boundingRect((mask > 0).view(np.uint8))
    if box_width == 0:
        return None
    height, width = mask.shape
    return (
        slice(max(0, y - 1), min(height, y + box_height + 1)),
        slice(max(0, x - 1), min(width, x + box_width + 1)),
    )


def composite(foreground: Image, background: Image, mask: Mask) -> Image:
    """``foreground * mask + background * (1 - mask)``, rounded to uint8.

    All three share height and width: ``(H, W, 3)`` uint8 RGB images and an ``(H, W)`` float32
    mask in [0, 1]. Where the mask is exactly 1 the result is the foreground byte for byte,
    where it is exactly 0 the background; in between it is within 0.51 of the exact blend.
    """
    foreground = check_image(foreground, "foreground")
    background = check_image(background, "background")
    mask = check_mask(mask)
    check_same_size(foreground, background, "foreground", "background")
    check_same_size(mask, foreground, "mask", "foreground")
    weight = np.ascontiguousarray(mask)
    blended = cv2.blendLinear(
        np.ascontiguousarray(foreground), np.ascontiguousarray(background), weight, np.float32(1.0) - weight
    )
    return cast(Image, blended)


def cutout(image: Image, mask: Mask) -> np.ndarray:
    """An ``(H, W, 4)`` uint8 RGBA image: ``image`` with ``round(255 * mask)`` as its alpha.

    Where the alpha is 0 the colour is stored as black (0, 0, 0): invisible either way, and a
    PNG of it is several times smaller than one that keeps the hidden pixels.
    """
    image = check_image(image)
    mask = check_mask(mask)
    check_same_size(mask, image)
    alpha = cv2.convertScaleAbs(np.ascontiguousarray(mask), alpha=255.0)  # rounds half to even, like np.rint
    rgba = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2RGBA)
    rgba[:, :, 3] = alpha
    return cast(np.ndarray, cv2.bitwise_and(rgba, rgba, mask=alpha))  # a new array, 0 where alpha is 0


def fit_within(array: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale ``array`` so that its longer side is at most ``max_side`` pixels.

    ``array``: an image ``(H, W, C)`` uint8 or a mask ``(H, W)`` float32. Uses area averaging
    (``cv2.INTER_AREA``; for factors of 2 or more, first by the largest power of two, which
    OpenCV does much faster, then by the rest) and keeps the aspect ratio (each side rounded, at
    least 1 px). If the
    array already fits, it is returned as is (the same object, not a copy); otherwise a new
    array of the same dtype and number of channels.
    """
    if isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer)) or max_side < 1:
        raise InvalidInput(f"max_side must be a whole number of pixels >= 1, got {max_side!r}")
    if not isinstance(array, np.ndarray) or array.ndim not in (2, 3) or 0 in array.shape:
        raise InvalidInput(f"fit_within needs an (H, W) or (H, W, C) array, got {getattr(array, 'shape', None)}")
    height, width = array.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return array
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    source = np.ascontiguousarray(array)
    halvings = int(math.floor(math.log2(1.0 / scale)))
    if halvings >= 1:  # OpenCV's fast path for power-of-two factors, then the fractional rest
        factor = 1.0 / 2**halvings
        source = cv2.resize(source, (0, 0), fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    out = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
    if array.ndim == 3 and out.ndim == 2:  # cv2 drops a single channel axis
        out = out[:, :, None]
    if out.dtype.kind == "f":
        np.clip(out, 0.0, 1.0, out=out)
    return out


def preview(
    image: Image,
    mask: Mask,
    *,
    feather_px: float,
    max_side: int = PREVIEW_MAX_SIDE,
    color: Sequence[int] = DEFAULT_TINT,
    opacity: float = 0.5,
) -> Image:
    """The live preview: feather ``mask`` at full resolution, then overlay it at display size.

    ``image``: ``(H, W, 3)`` uint8 RGB; ``mask``: ``(H, W)`` float32 in [0, 1]; ``feather_px``
    >= 0 as in ``masks.feather``. Returns an ``(h, w, 3)`` uint8 overlay whose longer side is
    at most ``max_side``. Both the photo and the feathered mask go to display size by area
    averaging over the largest power of two, then bilinear sampling for the remaining factor
    (under 2): what ``fit_within`` gives, within a few levels, at a fraction of the cost.
    """
    image = check_image(image)
    mask = np.ascontiguousarray(check_mask(mask))
    check_same_size(mask, image)
    soft = gaussian_feather(mask, gaussian_sigma(feather_px))
    if max(mask.shape) <= max_side:
        return overlay(image, soft, color=color, opacity=opacity)
    scale = max_side / max(mask.shape)
    size = (max(1, round(mask.shape[1] * scale)), max(1, round(mask.shape[0] * scale)))
    small = _to_display(soft, size)
    return overlay(_to_display(image, size), np.clip(small, 0.0, 1.0, out=small), color=color, opacity=opacity)


def _to_display(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale to ``size`` (W, H): area averaging by a power of two, then bilinear for the rest.

    The bilinear step shrinks by less than 2, so it skips no pixel; it is several times faster
    than OpenCV's fractional INTER_AREA and looks the same at display size.
    """
    halvings = int(math.floor(math.log2(array.shape[1] / size[0])))
    if halvings >= 1:
        factor = 1.0 / 2**halvings
        array = cv2.resize(np.ascontiguousarray(array), (0, 0), fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return cv2.resize(np.ascontiguousarray(array), size, interpolation=cv2.INTER_LINEAR)


def encode_png(image: np.ndarray, *, compression: int = 1) -> bytes:
    """PNG bytes of an ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA uint8 array.

    ``compression``: zlib level 0..9; the default 1 is fast and fit for previews.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise InvalidInput(
            f"encode_png needs an (H, W, 3) or (H, W, 4) uint8 array, got shape {getattr(image, 'shape', None)}"
        )
    if isinstance(compression, bool) or not isinstance(compression, (int, np.integer)) or not 0 <= compression <= 9:
        raise InvalidInput(f"PNG compression (zlib level) must be a whole number 0..9, got {compression!r}")
    code = cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, code), [cv2.IMWRITE_PNG_COMPRESSION, int(compression)])
    if not ok:
        raise BackendFailed(f"OpenCV could not encode a {image.shape} image as PNG")
    return data.tobytes()


def encode_jpeg(image: Image, *, quality: int = 90) -> bytes:
    """JPEG bytes of an ``(H, W, 3)`` uint8 RGB image; ``quality`` 1..100.

    About ten times faster than PNG for photographs at display size: the live preview's format.
    """
    image = check_image(image)
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise InvalidInput(f"JPEG quality must be a whole number 1..100, got {quality!r}")
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise BackendFailed(f"OpenCV could not encode a {image.shape} image as JPEG")
    return data.tobytes()
