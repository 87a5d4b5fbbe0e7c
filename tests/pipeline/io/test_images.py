"""Loading and saving: one test per hazard of untrusted files, built in the test itself."""

from __future__ import annotations

import io
import logging
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags
from PIL import Image as PILImage

from pipeline.errors import CorruptImage, ImageTooLarge, InvalidInput, SizeMismatch, UnsupportedFormat
from pipeline.io import images as imageio


def encode(img: PILImage.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` RGB but whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return (
        signature + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- bit depths and modes


def test_16bit_png_scales_by_its_range_instead_of_coming_out_white(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 64 * 48).astype(np.uint16).reshape(48, 64)
    path = write(tmp_path / "deep.png", encode(PILImage.fromarray(ramp), "PNG"))
    assert PILImage.open(path).mode == "I;16"
    loaded = imageio.load_image(path)
    expected = np.rint(ramp / 257.0).astype(np.uint8)
    assert loaded.rgb.shape == (48, 64, 3) and loaded.rgb.dtype == np.uint8
    np.testing.assert_array_equal(loaded.rgb[..., 0], expected)
    assert (loaded.rgb == 255).mean() < 0.01 and 120 < loaded.rgb.mean() < 135
    assert loaded.alpha is None


def test_16bit_rgb_png_is_not_white() -> None:
    pixels = np.array([[[0, 1000, 30000], [65535, 20000, 257]]], dtype=">u2")  # 2x1, 16 bits per channel
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", 2, 1, 16, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows))
    rgb = imageio.decode_image(data + png_chunk(b"IEND", b"")).rgb
    np.testing.assert_allclose(rgb[0].astype(int), np.rint(pixels[0] / 257.0), atol=1)


def test_16bit_big_endian_tiff_and_16bit_mask_keep_full_precision(tmp_path: Path) -> None:
    values = np.array([[0, 1000, 30000, 65535]], dtype=">u2")
    img = PILImage.frombytes("I;16B", (4, 1), values.tobytes())
    path = write(tmp_path / "deep.tif", encode(img, "TIFF"))
    np.testing.assert_array_equal(imageio.load_image(path).rgb[0, :, 1], [0, 4, 117, 255])
    mask = imageio.load_mask(path)
    np.testing.assert_allclose(mask[0], values[0] / 65535.0, atol=1e-6)


def test_cmyk_jpeg_converts_multiplicatively(tmp_path: Path) -> None:
    img = PILImage.new("CMYK", (16, 8), (0, 255, 255, 0))
    img.paste((0, 255, 255, 128), (8, 0, 16, 8))
    path = write(tmp_path / "print.jpg", encode(img, "JPEG", quality=100))
    assert PILImage.open(path).mode == "CMYK"
    rgb = imageio.load_image(path).rgb.astype(int)
    np.testing.assert_allclose(rgb[4, 2], [255, 0, 0], atol=3)
    np.testing.assert_allclose(rgb[4, 12], [127, 0, 0], atol=3)


def test_cmyk_with_a_broken_profile_falls_back_with_a_warning(
    tmp_path: Path, rng: np.random.Generator, caplog: pytest.LogCaptureFixture
) -> None:
    cmyk = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    img = PILImage.frombytes("CMYK", (5, 6), cmyk.tobytes())
    path = write(tmp_path / "print.tif", encode(img, "TIFF", icc_profile=b"not a colour profile"))
    with caplog.at_level(logging.WARNING):
        rgb = imageio.load_image(path).rgb
    expected = np.rint(255.0 * (1 - cmyk[..., :3] / 255.0) * (1 - cmyk[..., 3:] / 255.0))
    np.testing.assert_allclose(rgb, expected, atol=1)
    assert "profile" in caplog.text


@pytest.mark.parametrize(("orientation", "corner"), [(3, "bottom-right"), (6, "top-right"), (8, "bottom-left")])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, corner: str) -> None:
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:8, :8] = 255  # mark the stored top-left corner
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    path = write(tmp_path / "phone.jpg", encode(PILImage.fromarray(pixels), "JPEG", exif=exif, quality=95))
    rgb = imageio.load_image(path).rgb
    assert rgb.shape == ((40, 60, 3) if orientation == 3 else (60, 40, 3))
    corners = {
        "top-left": rgb[:8, :8],
        "top-right": rgb[:8, -8:],
        "bottom-left": rgb[-8:, :8],
        "bottom-right": rgb[-8:, -8:],
    }
    assert corners.pop(corner).mean() > 200
    assert all(block.mean() < 30 for block in corners.values())


def test_palette_with_transparency_gives_rgb_and_alpha() -> None:
    img = PILImage.new("P", (10, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.paste(1, (5, 0, 10, 4))
    loaded = imageio.decode_image(encode(img, "PNG", transparency=0))
    assert loaded.alpha is not None and loaded.alpha.dtype == np.float32
    np.testing.assert_array_equal(loaded.alpha[0], [0] * 5 + [1] * 5)
    np.testing.assert_array_equal(loaded.rgb[0, 9], [0, 255, 0])


def test_la_keeps_its_alpha_and_rgba_is_not_premultiplied() -> None:
    la = PILImage.merge("LA", [PILImage.new("L", (3, 2), 100), PILImage.new("L", (3, 2), 51)])
    loaded = imageio.decode_image(encode(la, "PNG"))
    np.testing.assert_array_equal(loaded.rgb[1, 1], [100, 100, 100])
    assert loaded.alpha is not None and loaded.alpha[1, 1] == pytest.approx(0.2)
    rgba = np.dstack([np.full((2, 2, 3), 200, np.uint8), np.full((2, 2), 10, np.uint8)])
    loaded = imageio.decode_image(encode(PILImage.fromarray(rgba), "PNG"))
    np.testing.assert_array_equal(loaded.rgb, rgba[..., :3])
    assert loaded.alpha is not None and np.allclose(loaded.alpha, 10 / 255)


def test_one_bit_image_becomes_black_and_white(tmp_path: Path) -> None:
    img = PILImage.new("1", (5, 5), 0)
    img.putpixel((2, 3), 1)
    path = write(tmp_path / "bits.bmp", encode(img, "BMP"))
    rgb = imageio.load_image(path).rgb
    assert set(np.unique(rgb)) == {0, 255} and rgb[3, 2].tolist() == [255, 255, 255]
    mask = imageio.load_mask(path)
    assert mask.sum() == 1.0 and mask[3, 2] == 1.0


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_float_tiff_scales_by_its_range(tmp_path: Path, scale: float) -> None:
    values = np.linspace(0, scale, 16, dtype=np.float32).reshape(4, 4)
    values[0, 0] = np.nan
    path = write(tmp_path / "float.tif", encode(PILImage.fromarray(values), "TIFF"))
    rgb = imageio.load_image(path).rgb[..., 0]
    assert rgb[0, 0] == 0 and rgb[3, 3] == 255  # NaN becomes 0, the maximum white, never clipped
    np.testing.assert_array_equal(rgb.ravel()[1:], np.rint(np.arange(1, 16) * 17).astype(np.uint8))


def test_32bit_integer_outside_16_bits_is_stretched(tmp_path: Path) -> None:
    values = np.array([[-5, 0, 100_000]], dtype=np.int32)
    path = write(tmp_path / "int.tif", encode(PILImage.fromarray(values), "TIFF"))
    np.testing.assert_array_equal(imageio.load_image(path).rgb[0, :, 0], [0, 0, 255])


# ---------------------------------------------------------------- refusals


def test_decompression_bomb_header_is_refused_quickly_before_decoding() -> None:
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="40 MP and 8192 px"):
        imageio.decode_image(png_claiming(50_000, 50_000))
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(("width", "height"), [(7000, 7000), (9000, 100)])
def test_size_caps_are_checked_from_the_header(width: int, height: int) -> None:
    # The pixel data is a few bytes: decoding would raise CorruptImage, so ImageTooLarge proves
    # the check ran before any decoding.
    with pytest.raises(ImageTooLarge) as caught:
        imageio.decode_image(png_claiming(width, height))
    assert f"{width}x{height}" in str(caught.value) and "40 MP" in str(caught.value)


def test_size_caps_are_settings(tmp_path: Path) -> None:
    path = write(tmp_path / "small.png", encode(PILImage.new("RGB", (40, 30)), "PNG"))
    with pytest.raises(ImageTooLarge, match="0.001 MP"):
        imageio.load_image(path, max_pixels=1000)
    with pytest.raises(ImageTooLarge, match="32 px on the longest side"):
        imageio.load_image(path, max_side=32)
    assert imageio.load_image(path, max_pixels=1200, max_side=40).size == (40, 30)
    with pytest.raises(InvalidInput):
        imageio.load_image(path, max_pixels=0)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP", "WEBP"])
def test_truncated_file_is_corrupt(tmp_path: Path, rng: np.random.Generator, fmt: str) -> None:
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(PILImage.fromarray(noise), fmt)
    path = write(tmp_path / f"cut.{fmt.lower()}", data[: len(data) // 2])
    with pytest.raises(CorruptImage, match="truncated|damaged"):
        imageio.load_image(path)


def test_random_bytes_named_png_are_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    path = write(tmp_path / "photo.png", rng.bytes(4096))
    with pytest.raises(UnsupportedFormat, match="PNG, JPEG, WebP, BMP or TIFF"):
        imageio.load_image(path)


@pytest.mark.parametrize(
    ("data", "announced"),
    [
        (encode(PILImage.new("RGB", (8, 8), (1, 2, 3)), "GIF"), "GIF"),
        (b"8BPS\x00\x01" + bytes(40), "PSD"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    ],
)
def test_other_formats_are_named_and_refused(tmp_path: Path, data: bytes, announced: str) -> None:
    path = write(tmp_path / "image.png", data)
    with pytest.raises(UnsupportedFormat, match=announced):
        imageio.load_image(path)
    with pytest.raises(UnsupportedFormat, match=announced):
        imageio.decode_image(data)


def test_empty_damaged_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(CorruptImage, match="empty"):
        imageio.load_image(write(tmp_path / "empty.png", b""))
    with pytest.raises(CorruptImage, match="PNG"):
        imageio.load_image(write(tmp_path / "header.png", png_claiming(8, 8)[:20]))
    with pytest.raises(InvalidInput, match="does not exist"):
        imageio.load_image(tmp_path / "missing.png")
    with pytest.raises(InvalidInput):
        imageio.load_image(tmp_path)


# ---------------------------------------------------------------- saving


@pytest.mark.parametrize("suffix", [".png", ".webp", ".bmp", ".tif"])
def test_lossless_round_trips(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    noise = rng.integers(0, 256, (33, 47, 3), dtype=np.uint8)
    imageio.save_image(tmp_path / f"out{suffix}", noise)
    loaded = imageio.load_image(tmp_path / f"out{suffix}")
    np.testing.assert_array_equal(loaded.rgb, noise)
    assert not list(tmp_path.glob(".*.part"))  # the temporary file was renamed away


def test_jpeg_round_trip_is_close(tmp_path: Path, photo: np.ndarray) -> None:
    imageio.save_image(tmp_path / "out.jpg", photo)
    loaded = imageio.load_image(tmp_path / "out.jpg").rgb.astype(int)
    assert np.abs(loaded - photo).mean() < 3


def test_saving_strips_gps_but_keeps_other_exif(tmp_path: Path, photo: np.ndarray) -> None:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "StencilCam"
    exif[ExifTags.Base.Orientation] = 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    source = write(tmp_path / "src.jpg", encode(PILImage.fromarray(photo), "JPEG", exif=exif))
    assert PILImage.open(source).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the source has GPS
    loaded = imageio.load_image(source)
    for suffix in (".png", ".jpg", ".webp"):
        target = tmp_path / f"out{suffix}"
        imageio.save_image(target, loaded.rgb, exif=loaded.exif)
        imageio.save_image(tmp_path / f"raw{suffix}", loaded.rgb, exif=exif.tobytes())
        for path in (target, tmp_path / f"raw{suffix}"):
            saved = PILImage.open(path).getexif()
            assert saved.get(ExifTags.Base.Make) == "StencilCam"
            assert ExifTags.IFD.GPSInfo not in saved and not saved.get_ifd(ExifTags.IFD.GPSInfo)
            assert ExifTags.Base.Orientation not in saved  # pixels are upright already
    assert imageio.load_image(tmp_path / "out.png").rgb.shape == (128, 96, 3)


def test_mask_and_rgba_saving(tmp_path: Path, rng: np.random.Generator) -> None:
    soft = rng.random((20, 30), dtype=np.float32)
    imageio.save_mask(tmp_path / "m.png", soft)
    np.testing.assert_allclose(imageio.load_mask(tmp_path / "m.png"), soft, atol=0.5 / 255 + 1e-6)
    rgba = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    imageio.save_rgba(tmp_path / "cut.png", rgba)
    np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / "cut.png")), rgba)
    with pytest.raises(InvalidInput, match=r"\.png"):
        imageio.save_mask(tmp_path / "m.jpg", soft)
    with pytest.raises(InvalidInput, match=r"\.png"):
        imageio.save_rgba(tmp_path / "cut.jpg", rgba)
    with pytest.raises(InvalidInput):
        imageio.save_image(tmp_path / "bad.png", soft)
    with pytest.raises(InvalidInput, match="cannot write"):
        imageio.save_mask(tmp_path / "no-such-folder" / "m.png", soft)


def test_png_compression_level_is_lossless_and_chosen_by_the_caller(tmp_path: Path, photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[20:70, 30:100] = 0.75
    rgba = np.dstack([photo, np.full(photo.shape[:2], 200, np.uint8)])
    sizes = {}
    for level in (0, 1, 9):
        imageio.save_image(tmp_path / f"p{level}.png", photo, compression=level)
        imageio.save_mask(tmp_path / f"m{level}.png", mask, compression=level)
        imageio.save_rgba(tmp_path / f"c{level}.png", rgba, compression=level)
        np.testing.assert_array_equal(imageio.load_image(tmp_path / f"p{level}.png").rgb, photo)
        np.testing.assert_array_equal(imageio.load_mask(tmp_path / f"m{level}.png"), np.rint(mask * 255) / 255)
        np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / f"c{level}.png")), rgba)
        sizes[level] = (tmp_path / f"p{level}.png").stat().st_size
    assert sizes[0] > sizes[1] >= sizes[9]  # level 0 is stored, uncompressed
    imageio.save_image(tmp_path / "default.png", photo)
    imageio.save_image(tmp_path / "six.png", photo, compression=6)
    assert (tmp_path / "default.png").read_bytes() == (tmp_path / "six.png").read_bytes()
    imageio.save_image(tmp_path / "q.png", photo, compression=1, quality=50)  # quality: not a PNG setting
    np.testing.assert_array_equal(imageio.load_image(tmp_path / "q.png").rgb, photo)
    for bad in (10, -1, True, 1.5):
        with pytest.raises(InvalidInput, match="compression"):
            imageio.save_mask(tmp_path / "bad.png", mask, compression=bad)  # type: ignore[arg-type]


def test_quality_sets_jpeg_and_makes_webp_lossy(tmp_path: Path, rng: np.random.Generator) -> None:
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for suffix in (".jpg", ".webp"):
        imageio.save_image(tmp_path / f"low{suffix}", noise, quality=10)
        imageio.save_image(tmp_path / f"high{suffix}", noise, quality=95)
        assert (tmp_path / f"low{suffix}").stat().st_size < (tmp_path / f"high{suffix}").stat().st_size
        assert not np.array_equal(imageio.load_image(tmp_path / f"high{suffix}").rgb, noise)
    imageio.save_image(tmp_path / "lossless.webp", noise)
    np.testing.assert_array_equal(imageio.load_image(tmp_path / "lossless.webp").rgb, noise)
    with pytest.raises(InvalidInput, match="quality"):
        imageio.save_image(tmp_path / "bad.jpg", noise, quality=0)


# ---------------------------------------------------------------- masks, labels, references


def test_mask_of_another_size_is_an_error_unless_resized(tmp_path: Path, disc_mask: np.ndarray) -> None:
    imageio.save_mask(tmp_path / "disc.png", disc_mask)
    with pytest.raises(SizeMismatch, match="128x96 but the image is 64x48"):
        imageio.load_mask(tmp_path / "disc.png", size=(64, 48))
    half = imageio.load_mask(tmp_path / "disc.png", size=(64, 48), resize=True)
    assert half.shape == (48, 64) and set(np.unique(half)) == {0.0, 1.0}  # nearest keeps binary
    np.testing.assert_array_equal(half, disc_mask[1::2, 1::2])  # each output pixel samples its centre


def test_soft_mask_resizes_by_area(tmp_path: Path) -> None:
    soft = np.tile(np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32), (8, 8))
    imageio.save_mask(tmp_path / "soft.png", soft)
    small = imageio.load_mask(tmp_path / "soft.png", size=(8, 8), resize=True)
    np.testing.assert_allclose(small, np.full((8, 8), (0 + 255 + 128 + 64) / 4 / 255), atol=1e-5)
    assert imageio.resize_mask(soft, (16, 16)) is not soft


def test_mask_sources_alpha_gray_and_colour() -> None:
    alpha = np.zeros((4, 4), np.uint8)
    alpha[1:3, 1:3] = 255
    rgba = np.dstack([np.full((4, 4, 3), 90, np.uint8), alpha])
    cutout_mask = imageio.decode_mask(encode(PILImage.fromarray(rgba), "PNG"))
    np.testing.assert_array_equal(cutout_mask, alpha / 255.0)
    opaque = np.dstack([np.full((4, 4, 3), 51, np.uint8), np.full((4, 4), 255, np.uint8)])
    np.testing.assert_allclose(imageio.decode_mask(encode(PILImage.fromarray(opaque), "PNG")), 0.2)
    red_on_black = np.zeros((4, 4, 3), np.uint8)
    red_on_black[0, 0] = (255, 0, 0)
    coloured = imageio.decode_mask(encode(PILImage.fromarray(red_on_black), "PNG"))
    assert coloured[0, 0] == 1.0 and coloured.sum() == 1.0


def test_reference_marks_the_ignore_band(tmp_path: Path) -> None:
    levels = np.array([[0, 128, 255], [255, 128, 0]], dtype=np.uint8)
    imageio.save_image(tmp_path / "gt.png", np.repeat(levels[..., None], 3, axis=2))
    mask, ignore = imageio.load_reference(tmp_path / "gt.png")
    np.testing.assert_array_equal(ignore, levels == 128)
    np.testing.assert_array_equal(mask, [[0, 0, 1], [1, 0, 0]])
    _, nothing = imageio.load_reference(tmp_path / "gt.png", ignore_value=None)
    assert not nothing.any()


def test_labels_ids_palette_and_colours(tmp_path: Path) -> None:
    palette = PILImage.new("P", (4, 2), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    palette.paste(2, (2, 0, 4, 2))
    path = write(tmp_path / "labels.png", encode(palette, "PNG"))
    ids = imageio.load_labels(path)
    assert ids.dtype == np.int32 and ids.tolist() == [[0, 0, 2, 2]] * 2
    colours = imageio.load_labels(path, as_rgb=True)
    assert colours.shape == (2, 4, 3) and colours[0, 3].tolist() == [0, 0, 255]
    with pytest.raises(SizeMismatch):
        imageio.load_labels(path, size=(8, 4))
    assert imageio.load_labels(path, size=(8, 4), resize=True)[3].tolist() == [0] * 4 + [2] * 4


def test_decode_image_matches_load_image(tmp_path: Path, photo: np.ndarray) -> None:
    imageio.save_image(tmp_path / "p.png", photo)
    from_memory = imageio.decode_image((tmp_path / "p.png").read_bytes())
    from_disk = imageio.load_image(tmp_path / "p.png")
    np.testing.assert_array_equal(from_memory.rgb, from_disk.rgb)
    assert from_memory.path is None and from_disk.path == tmp_path / "p.png"
