"""Files that decode but should not be edited silently: damaged JPEG data, lying PNG headers,
animations and multi-page files reduced to one frame; and a short fuzz of the whole gate."""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from pipeline.errors import CorruptImage
from pipeline.io.images import decode_image, load_image

ROOT = Path(__file__).resolve().parents[3]


def noise_jpeg() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    PILImage.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_jpeg_with_damaged_data_is_refused_not_edited_as_garbage() -> None:
    data = bytearray(noise_jpeg())
    decode_image(bytes(data))  # the intact file loads
    middle = len(data) // 2
    data[middle : middle + 20] = np.random.default_rng(1).integers(0, 256, 20, dtype=np.uint8).tobytes()
    PILImage.open(io.BytesIO(bytes(data))).load()  # Pillow alone decodes it without a word
    with pytest.raises(CorruptImage, match="damaged JPEG data .*Corrupt JPEG data"):
        decode_image(bytes(data))


def test_truncated_jpeg_is_refused() -> None:
    data = noise_jpeg()
    with pytest.raises(CorruptImage):
        decode_image(data[: len(data) * 2 // 3])


@pytest.mark.parametrize("chunk", [b"IDAT", b"tEXt", b"zzZz"])
def test_png_chunk_claiming_gigabytes_is_corrupt_image(chunk: bytes) -> None:
    buffer = io.BytesIO()
    PILImage.fromarray(np.zeros((20, 30, 3), np.uint8)).save(buffer, "PNG")
    data = buffer.getvalue()
    lie = struct.pack(">I", 0xFFFFFFF0) + chunk + b"x" * 100
    with pytest.raises(CorruptImage):
        decode_image(data[:33] + lie + data[33:])  # just after IHDR


@pytest.mark.parametrize(("suffix", "options"), [(".webp", {}), (".tiff", {}), (".png", {"duration": 100})])
def test_animations_and_pages_are_reduced_to_the_first_and_say_so(tmp_path: Path, suffix: str, options: dict) -> None:
    first = PILImage.fromarray(np.full((20, 30, 3), 10, np.uint8))
    second = PILImage.fromarray(np.full((20, 30, 3), 200, np.uint8))
    path = tmp_path / f"moving{suffix}"
    first.save(path, save_all=True, append_images=[second, first], **options)
    loaded = load_image(path)
    assert loaded.frames == 3 and int(loaded.rgb.mean()) == 10
    assert loaded.note == f"moving{suffix} holds 3 frames or pages; Stencil edits only the first one"


def test_a_still_image_has_no_note(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    PILImage.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    assert load_image(path).frames == 1 and load_image(path).note is None


def test_short_fuzz_gives_only_pipeline_errors_under_a_2_gb_memory_cap() -> None:
    """300 mutated PNG/JPEG/WebP/TIFF/GIF/BMP files (``bench/fuzz_images.py``, 10,000 for the record)."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.fuzz_images", "--files", "300", "--seed", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "300 mutated files" in completed.stdout
    assert "other exceptions or hangs: 0;" in completed.stdout, completed.stdout
    assert completed.returncode == 0


def test_a_tiff_whose_second_page_is_damaged_is_corrupt_image(tmp_path: Path) -> None:
    """Found by the fuzz (seed 0, file 3201): counting pages met a page without dimensions."""
    sys.path.insert(0, str(ROOT))
    from bench.fuzz_images import FORMATS, mutate, seeds

    originals, rng = seeds(), random.Random(0)
    for index in range(3202):
        data = mutate(originals[FORMATS[index % len(FORMATS)]], rng)
    path = tmp_path / "fuzz-3201.tiff"
    path.write_bytes(data)
    with pytest.raises(CorruptImage, match="damaged page or frame"):
        load_image(path)
