"""The gate every image file passes before its pixels are decoded.

Order matters for untrusted input: the format is identified from the header (only PNG, JPEG,
WebP, BMP and TIFF plugins are tried), the size the header declares is checked against the caps
before any pixel is decoded, then the whole image is decoded (so a truncated file fails here
rather than showing up grey; a JPEG whose compressed data is damaged fails too, see
``jpeg_check``) and its EXIF orientation is applied.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is left untouched; when it
fires it is reported as ``ImageTooLarge`` like our own, per call, never by changing the global.
(Its warning is escalated inside ``warnings.catch_warnings()`` around the header read only,
and only when our cap is at or below Pillow's, so it never refuses what the caller allowed.)
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, ImageOps, UnidentifiedImageError
from PIL import Image as PILImage

from pipeline.errors import CorruptImage, ImageTooLarge, InvalidInput, UnsupportedFormat
from pipeline.io import jpeg_check

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 8192
READ_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP", "TIFF"})
_ACCEPTED = READ_FORMATS | {"MPO"}  # multi-picture JPEG from cameras: its first picture is a JPEG
_FORMAT_LIST = "PNG, JPEG, WebP, BMP or TIFF"
FRAMES_KEY = "stencil_frames"
"""``img.info`` key where ``open_checked`` leaves the file's frame count (the first frame is decoded)."""
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"),
    (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"8BPS", "PSD"), (b"%PDF", "PDF"),
    (b"\x00\x00\x01\x00", "ICO"), (b"\xff\x0a", "JPEG XL"), (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)  # fmt: skip


def _limits(max_pixels: int, max_side: int) -> str:
    return f"the limit is {max_pixels / 1e6:g} MP and {max_side} px on the longest side"


def _sniff(head: bytes) -> str | None:
    """The format a file's first bytes announce, or None."""
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return "HEIF/AVIF"
    if b"<svg" in head.lower():
        return "SVG"
    return None


def _unidentified(fp: BinaryIO, name: str) -> CorruptImage | UnsupportedFormat:
    fp.seek(0)
    head = fp.read(1024)
    announced = _sniff(head)
    if not head:
        return CorruptImage(f"{name} is empty (0 bytes); choose a {_FORMAT_LIST} image instead")
    if announced in READ_FORMATS:
        return CorruptImage(
            f"{name} starts like a {announced} file but its header is damaged or cut short; re-export it"
        )
    if announced:
        return UnsupportedFormat(
            f"{name} is in {announced} format; Stencil reads only {_FORMAT_LIST}: convert it first"
        )
    return UnsupportedFormat(f"{name} is not an image Stencil can read; it reads only {_FORMAT_LIST}")


def _open_header(fp: BinaryIO, name: str, max_pixels: int, max_side: int) -> PILImage.Image:
    """Identify the format and read the header only; Pillow's own bomb guard becomes ImageTooLarge."""
    pillow_limit = PILImage.MAX_IMAGE_PIXELS
    escalate = pillow_limit is not None and max_pixels <= pillow_limit  # what Pillow warns about is over our cap
    try:
        with warnings.catch_warnings():
            if escalate:
                warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            return PILImage.open(fp, formats=sorted(READ_FORMATS))
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
        raise ImageTooLarge(
            f"{name} declares too many pixels to decode safely ({error}); {_limits(max_pixels, max_side)}; "
            "downscale it first"
        ) from error
    except UnidentifiedImageError as error:
        raise _unidentified(fp, name) from error
    except _DECODE_ERRORS as error:
        fp.seek(0)
        kind = _sniff(fp.read(64)) or "image"
        raise CorruptImage(f"{name} has a damaged or cut-short {kind} header ({error}); re-export it") from error


def _check_size(img: PILImage.Image, name: str, max_pixels: int, max_side: int) -> None:
    width, height = img.size
    if width <= 0 or height <= 0:
        raise CorruptImage(f"{name} declares an empty size {width}x{height}; re-export it")
    if width * height > max_pixels or max(width, height) > max_side:
        raise ImageTooLarge(
            f"{name} is {width}x{height} ({width * height / 1e6:.1f} MP) but {_limits(max_pixels, max_side)}; "
            "downscale it first or raise the limit"
        )


def _decode(img: PILImage.Image, name: str) -> None:
    """Decode every pixel now (Pillow is lazy); a truncated file fails here, not later."""
    if img.format not in _ACCEPTED:
        raise UnsupportedFormat(f"{name} is in {img.format} format; Stencil reads only {_FORMAT_LIST}")
    try:
        img.load()
    except _DECODE_ERRORS as error:
        raise CorruptImage(f"{name} could not be decoded completely ({error}): it is truncated or damaged") from error
    except MemoryError as error:  # the size was within the caps: the server is short of memory right now
        raise ImageTooLarge(f"there is not enough memory free to decode {name} now; try a smaller photo") from error
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except _DECODE_ERRORS as error:
        log.warning("%s: ignoring an unreadable EXIF orientation (%s)", name, error)


def _reader(source: Path | bytes, name: str) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    try:
        return Path(source).open("rb")  # noqa: SIM115 - the caller closes it with a with-block
    except FileNotFoundError as error:
        raise InvalidInput(f"{name} does not exist; check the path") from error
    except OSError as error:
        raise InvalidInput(f"cannot read {name}: {error.strerror or error}") from error


def _check_caps(max_pixels: int, max_side: int) -> None:
    if max_pixels < 1 or max_side < 1:
        raise InvalidInput(f"size caps must be positive, got max_pixels={max_pixels} and max_side={max_side}")


def open_checked(
    source: Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = DEFAULT_MAX_SIDE
) -> tuple[PILImage.Image, bytes | None]:
    """Open ``source`` (a path or a file's bytes) through every check.

    Returns the fully decoded, upright Pillow image (its first frame; ``img.info[FRAMES_KEY]`` says
    how many the file holds) and its EXIF without GPS and orientation
    (None for TIFF, whose tags describe the file layout, or when absent). Raises
    ``UnsupportedFormat``, ``CorruptImage``, ``ImageTooLarge`` or ``InvalidInput`` (missing file).
    """
    _check_caps(max_pixels, max_side)
    name = "the uploaded image" if isinstance(source, bytes) else str(source)
    with _reader(source, name) as fp:
        img = _open_header(fp, name, max_pixels, max_side)
        _check_size(img, name, max_pixels, max_side)
        if img.format == "PNG":
            _check_png_chunks(fp, name)
        frames = frame_count(img, name)  # before decoding: counting pages seeks through the file
        _decode(img, name)
        img.info[FRAMES_KEY] = frames
        if img.format in ("JPEG", "MPO"):
            fp.seek(0)
            _check_jpeg_data(fp.read(), name)
        exif = clean_exif(img.info.get("exif")) if img.format != "TIFF" else None
        return img, exif


MAX_PNG_CHUNKS = 100_000


def _check_png_chunks(fp: BinaryIO, name: str) -> None:
    """Refuse a PNG whose chunk headers claim more bytes than the file holds (a "lying" header).

    Pillow trusts a chunk's declared length and may reserve that much memory (4 GB for a lying
    IDAT) before finding out that the file is shorter. Walking the chunk headers costs one seek each.
    """
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    position = 8  # after the signature
    for _ in range(MAX_PNG_CHUNKS):
        if position + 8 > size:
            return  # no IEND: Pillow's decoder reports the cut-short file
        fp.seek(position)
        length, kind = struct.unpack(">I4s", fp.read(8))
        if position + 12 + length > size:
            raise CorruptImage(
                f"{name} is damaged: its PNG {kind.decode('latin-1')!r} chunk claims {length} bytes "
                f"but only {max(0, size - position - 12)} follow; re-export it"
            )
        if kind == b"IEND":
            return
        position += 12 + length
    raise CorruptImage(f"{name} has more than {MAX_PNG_CHUNKS} PNG chunks; re-export it")


def _check_jpeg_data(data: bytes, name: str) -> None:
    """Refuse a JPEG whose compressed data is damaged (it decodes, but as garbage)."""
    warning = jpeg_check.damage(data)
    if warning is not None:
        raise CorruptImage(
            f"{name} has damaged JPEG data ({warning.rstrip('.')}): it would load with garbled blocks; "
            "re-download or re-export it"
        )


def frame_count(img: PILImage.Image, name: str) -> int:
    """How many frames or pages the file holds (an animation, a multi-page TIFF).

    Counting reads every page's header: a damaged one makes the file ``CorruptImage``.
    """
    try:
        return max(1, int(getattr(img, "n_frames", 1)))
    except (*_DECODE_ERRORS, TypeError, KeyError) as error:
        raise CorruptImage(f"{name} has a damaged page or frame ({error}); re-export it") from error


def clean_exif(data: object) -> bytes | None:
    """EXIF bytes without GPS and orientation, or None when absent or unreadable."""
    if not isinstance(data, bytes) or not data:
        return None
    exif = PILImage.Exif()
    try:
        exif.load(data)
        exif.pop(ExifTags.IFD.GPSInfo, None)
        exif.pop(ExifTags.Base.Orientation, None)
        return exif.tobytes() if len(exif) else None
    except _DECODE_ERRORS as error:
        log.warning("dropping unreadable EXIF data (%s)", error)
        return None
