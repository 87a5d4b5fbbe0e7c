"""Pillow image modes to arrays by the range each mode really holds, and mask resizing.

Used by ``pipeline.io.images`` on images that have already passed its checks; the rules are
listed in that module's docstring. Nothing here clips a wide range into 8 bits.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from pipeline.errors import InvalidInput, UnsupportedFormat
from pipeline.types import Image, Mask, check_mask

log = logging.getLogger(__name__)

_GRAY_MODES = frozenset({"1", "L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_LABEL_MODES = frozenset({"1", "L", "P", "I", "I;16", "I;16L", "I;16B", "I;16N"})


def has_alpha(img: PILImage.Image) -> bool:
    """Whether ``img`` carries transparency: an alpha band or a transparent palette/colour entry."""
    return img.mode in _ALPHA_MODES or (img.mode in ("P", "L", "RGB") and "transparency" in img.info)


def unit_gray(img: PILImage.Image) -> npt.NDArray[np.float32] | None:
    """A single-band image as ``(H, W)`` float32 in [0, 1], or None for a multi-band mode.

    1-bit and 8-bit divide by 255, 16-bit by 65535; 32-bit integers within [0, 65535] divide
    by 65535 and otherwise stretch from their minimum to their maximum; floats are kept when
    their maximum is at most 1 and otherwise divided by it (negatives, NaN and inf become 0).
    """
    mode = img.mode
    if mode not in _GRAY_MODES:
        return None
    if mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255.0)
    values = np.asarray(img).astype(np.float64)
    if mode.startswith("I;16"):
        return (values / 65535.0).astype(np.float32)
    if mode == "I":
        low, high = (values.min(), values.max()) if values.size else (0.0, 0.0)
        if low >= 0 and high <= 65535:
            return (values / 65535.0).astype(np.float32)
        return ((values - low) / max(high - low, 1.0)).astype(np.float32)
    values = np.where(np.isfinite(values), values, 0.0)
    high = float(values.max()) if values.size else 0.0
    if high > 1.0:
        values = values / high
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def cmyk_to_rgb(img: PILImage.Image, name: str) -> Image:
    """A CMYK image as ``(H, W, 3)`` uint8 sRGB: through its ICC profile, else ``(1 - CMY)(1 - K)``."""
    profile = img.info.get("icc_profile")
    if profile:
        from PIL import ImageCms

        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(img, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return np.array(converted)
        except (ImageCms.PyCMSError, OSError, ValueError) as error:
            log.warning("%s: unusable CMYK colour profile (%s); converting without it", name, error)
    cmyk = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    rgb = 255.0 * (1.0 - cmyk[..., :3]) * (1.0 - cmyk[..., 3:4])
    return np.rint(rgb).astype(np.uint8)


def rgb_and_alpha(img: PILImage.Image, name: str) -> tuple[Image, Mask | None]:
    """An image as ``(H, W, 3)`` uint8 RGB and its alpha ``(H, W)`` float32 in [0, 1] (None when opaque by mode)."""
    if has_alpha(img):
        rgba = np.asarray(img.convert("RGBA"))
        return np.ascontiguousarray(rgba[..., :3]), rgba[..., 3].astype(np.float32) / 255.0
    if img.mode == "CMYK":
        return cmyk_to_rgb(img, name), None
    gray = unit_gray(img)
    if gray is not None:
        return np.repeat(np.rint(gray * 255.0).astype(np.uint8)[..., None], 3, axis=2), None
    try:
        return np.array(img.convert("RGB")), None
    except ValueError as error:
        raise UnsupportedFormat(
            f"{name} uses colour mode {img.mode}, which Stencil cannot convert; save it as RGB"
        ) from error


def _rgb(img: PILImage.Image, name: str) -> Image:
    if img.mode == "CMYK":
        return cmyk_to_rgb(img, name)
    try:
        return np.asarray(img.convert("RGB"))
    except ValueError as error:
        raise UnsupportedFormat(f"{name} uses colour mode {img.mode}, which Stencil cannot convert") from error


def mask_levels(img: PILImage.Image, name: str) -> Mask:
    """The mask an image file holds, ``(H, W)`` float32 in [0, 1], soft values kept.

    A file with transparency that is not fully opaque gives its alpha (a cutout is its own mask);
    otherwise a gray file gives its level at full precision (16-bit, float) and a colour file
    its brightest channel, so a coloured selection on black counts as selected.
    """
    if has_alpha(img):
        alpha = np.asarray(img.convert("RGBA"))[..., 3]
        if alpha.size and alpha.min() < 255:
            return alpha.astype(np.float32) / np.float32(255.0)
        img = img.convert("RGB")
    gray = unit_gray(img)
    if gray is not None:
        return gray
    return _rgb(img, name).max(axis=2).astype(np.float32) / np.float32(255.0)


def gray_levels(img: PILImage.Image, name: str) -> npt.NDArray[np.float32]:
    """Brightness ``(H, W)`` float32 in [0, 1]; colour uses Rec. 601 luma, alpha is ignored."""
    gray = unit_gray(img)
    if gray is not None:
        return gray
    rgb = _rgb(img, name).astype(np.float32) / np.float32(255.0)
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(luma, 0.0, 1.0).astype(np.float32)


def label_values(img: PILImage.Image, name: str, *, as_rgb: bool) -> npt.NDArray[np.int32] | Image:
    """Class ids ``(H, W)`` int32 (gray or palette index), or colours ``(H, W, 3)`` uint8.

    Colour files, and any file when ``as_rgb`` is set, give colours; a palette file's values are
    its indices unless ``as_rgb`` asks for the palette colours.
    """
    if not as_rgb and img.mode in _LABEL_MODES:
        values = np.asarray(img.convert("L") if img.mode == "1" else img)
        return (values > 0).astype(np.int32) if img.mode == "1" else values.astype(np.int32)
    if img.mode == "F":
        raise InvalidInput(f"{name} holds floating-point values; a label map needs integer class ids or colours")
    return np.ascontiguousarray(_rgb(img, name))


def is_binary(mask: Mask) -> bool:
    """Whether every value of ``mask`` is exactly 0 or 1."""
    return bool(np.all((mask == 0.0) | (mask == 1.0)))


def resize_mask(mask: Mask, size: tuple[int, int]) -> Mask:
    """Scale ``mask`` to ``size = (width, height)``.

    Binary masks use nearest neighbour, so they stay binary; soft masks use area averaging
    (Pillow's box filter), so feathered edges keep their mean level. Returns a new array.
    """
    check_mask(mask)
    width, height = size
    if width < 1 or height < 1:
        raise InvalidInput(f"cannot resize a mask to {width}x{height}")
    resample = PILImage.Resampling.NEAREST if is_binary(mask) else PILImage.Resampling.BOX
    scaled = PILImage.fromarray(np.ascontiguousarray(mask)).resize((width, height), resample=resample)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0.0, 1.0)


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale a label map (int32 ids or uint8 colours) to ``size = (width, height)``, nearest neighbour."""
    source = labels if labels.ndim == 3 else labels.astype(np.int32)
    scaled = PILImage.fromarray(np.ascontiguousarray(source)).resize(size, resample=PILImage.Resampling.NEAREST)
    return np.asarray(scaled).astype(labels.dtype)
