"""ViTMatte through the real code: a tiny random model saved by the test and loaded the user's way."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_transformers import save_vitmatte  # noqa: E402

from pipeline.edits.vitmatte import load_matter, tiles  # noqa: E402
from pipeline.errors import InvalidInput, ModelUnavailable  # noqa: E402


@pytest.fixture(scope="module")
def vitmatte_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_vitmatte(tmp_path_factory.mktemp("vitmatte") / "tiny-vitmatte")


def ring_trimap(height: int, width: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.sqrt((xx - width / 2) ** 2 + (yy - height / 2) ** 2) - 30
    return np.where(np.abs(distance) <= 4, 128, np.where(distance < 0, 255, 0)).astype(np.uint8)


@pytest.mark.parametrize("tile_px", [1024, 48])
def test_known_pixels_keep_the_trimap_and_unknown_ones_get_the_model_alpha(vitmatte_folder, photo, tile_px) -> None:
    matter = load_matter(str(vitmatte_folder), device="cpu", tile_px=tile_px)
    trimap = ring_trimap(*photo.shape[:2])
    alpha = matter.matte(photo, trimap)
    assert alpha.shape == photo.shape[:2] and alpha.dtype == np.float32
    assert np.all(alpha[trimap == 255] == 1.0) and np.all(alpha[trimap == 0] == 0.0)
    unknown = alpha[trimap == 128]
    assert np.all((unknown >= 0) & (unknown <= 1))


def test_tiles_cover_every_unknown_pixel_and_skip_empty_ground() -> None:
    unknown = np.zeros((300, 500), bool)
    unknown[10:20, 20:480] = True
    unknown[250, 250] = True
    covered = np.zeros_like(unknown)
    windows = list(tiles(unknown.shape, unknown, 128, 16))
    for window in windows:
        covered[window] = True
        assert covered[window].shape[0] <= 128 and covered[window].shape[1] <= 128
    assert covered[unknown].all()
    assert len(windows) < (300 // 112 + 1) * (500 // 112 + 1)  # tiles with nothing unknown are skipped


def test_a_folder_with_files_missing_is_one_clear_error(vitmatte_folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(vitmatte_folder, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelUnavailable, match=r"missing \*\.safetensors"):
        load_matter(str(broken), device="cpu")


def test_a_trimap_of_the_wrong_size_is_refused(vitmatte_folder: Path, photo) -> None:
    matter = load_matter(str(vitmatte_folder), device="cpu")
    with pytest.raises(InvalidInput, match="trimap"):
        matter.matte(photo, np.zeros((5, 5), np.uint8))
