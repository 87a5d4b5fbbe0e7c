"""Save images and masks: the format follows the suffix, every write goes through a temporary file.

PNG, WebP, BMP and TIFF are written losslessly and JPEG at quality 95 (PNG's zlib level and the
JPEG or WebP quality can be chosen). A file is written under a hidden ``.part`` name in the same
folder and renamed into place, so an interrupted write (an I/O error, Ctrl-C, SIGTERM) never
leaves half a file; EXIF is copied without its GPS block.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from pipeline.errors import InvalidInput
from pipeline.io.files import remove_quietly
from pipeline.io.gate import clean_exif
from pipeline.types import Image, Mask, check_image, check_mask

_SAVE_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
    ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF",
}  # fmt: skip
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "PNG": {"compress_level": 6},
    "JPEG": {"quality": 95, "subsampling": 0},
    "WEBP": {"lossless": True, "quality": 100, "exact": True},
    "BMP": {},
    "TIFF": {"compression": "raw"},
}
_EXIF_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})


def _save_format(path: Path, allowed: frozenset[str], what: str) -> str:
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None or fmt not in allowed:
        names = sorted(s for s, f in _SAVE_FORMATS.items() if f in allowed)
        raise InvalidInput(f"cannot save {what} as '{path.suffix or path.name}'; use one of {', '.join(names)}")
    return fmt


def _write(
    img: PILImage.Image,
    path: Path,
    fmt: str,
    exif: bytes | None = None,
    *,
    compression: int | None = None,
    quality: int | None = None,
) -> None:
    """Save through a temporary file in the same folder, then rename, so no half-written file remains."""
    options = dict(_SAVE_OPTIONS[fmt])
    if compression is not None and fmt == "PNG":
        options["compress_level"] = _whole(compression, 0, 9, "PNG compression (zlib level)")
    if quality is not None and fmt in ("JPEG", "WEBP"):
        level = _whole(quality, 1, 100, "quality")
        options = {**options, "quality": level} if fmt == "JPEG" else {"quality": level}  # lossy WebP
    cleaned = clean_exif(exif) if fmt in _EXIF_FORMATS else None
    if cleaned:
        options["exif"] = cleaned
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        img.save(temporary, format=fmt, **options)
        os.replace(temporary, path)
    except OSError as error:
        raise InvalidInput(f"cannot write {path}: {error.strerror or error}") from None
    finally:  # also after Ctrl-C or SIGTERM (the CLI turns it into an exception): no .part is left
        remove_quietly(temporary)


def _whole(value: object, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def save_image(
    path: str | os.PathLike[str],
    image: Image,
    *,
    exif: bytes | None = None,
    compression: int | None = None,
    quality: int | None = None,
) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB image; the format follows the suffix.

    PNG, WebP, BMP and TIFF are lossless, JPEG is quality 95. ``exif`` (for example
    ``LoadedImage.exif``) is written to PNG, JPEG and WebP without its GPS block.
    ``compression``: PNG's zlib level, 0 (stored, fastest) to 9 (smallest); None is 6. Every
    level is lossless; 1 writes a 12 MP photo about four times faster than 6, somewhat larger.
    ``quality``: 1 to 100 for JPEG, and for WebP, which it makes lossy; None keeps JPEG at 95
    and WebP lossless. A setting the format does not have (quality for PNG) is not used.
    """
    check_image(image)
    fmt = _save_format(Path(path), frozenset(_SAVE_OPTIONS), "an image")
    pixels = PILImage.fromarray(np.ascontiguousarray(image))
    _write(pixels, Path(path), fmt, exif, compression=compression, quality=quality)


def save_mask(path: str | os.PathLike[str], mask: Mask, *, compression: int | None = None) -> None:
    """Write a mask as an 8-bit gray file (level = round(255 * mask)) in a lossless format.

    ``compression``: PNG's zlib level 0..9 as in ``save_image`` (None is 6).
    """
    check_mask(mask)
    fmt = _save_format(Path(path), frozenset({"PNG", "WEBP", "BMP", "TIFF"}), "a mask (lossless formats only)")
    levels = np.rint(mask * np.float32(255.0)).astype(np.uint8)
    _write(PILImage.fromarray(levels), Path(path), fmt, compression=compression)


def save_rgba(path: str | os.PathLike[str], rgba: np.ndarray, *, compression: int | None = None) -> None:
    """Write an ``(H, W, 4)`` uint8 RGBA image (a cutout, see ``masks.compose.cutout``) as PNG, WebP
    or TIFF, losslessly. ``compression``: PNG's zlib level 0..9 as in ``save_image`` (None is 6).
    """
    if not isinstance(rgba, np.ndarray) or rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        shape = getattr(rgba, "shape", None)
        raise InvalidInput(f"an RGBA image must be an (H, W, 4) uint8 array, got shape {shape}")
    fmt = _save_format(Path(path), frozenset({"PNG", "WEBP", "TIFF"}), "a transparent image")
    _write(PILImage.fromarray(np.ascontiguousarray(rgba)), Path(path), fmt, compression=compression)
