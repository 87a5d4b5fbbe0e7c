"""The LaMa backend: a tiny TorchScript module with big-lama's interface, saved by the test and
loaded through the same loader a user's ``big-lama.pt`` takes (``load_lama`` / the registry)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.edits.remove import remove
from pipeline.errors import InvalidModel, ModelUnavailable
from pipeline.inpaint.lama import LamaInpainter, find_lama, load_lama
from pipeline.inpaint.protocol import InpaintRequest
from pipeline.models import make_remover
from pipeline.recipe import Recipe, Remove, StoredMask, run
from pipeline.recipe.apply import Engines
from pipeline.settings import Settings

FILL = (0.25, 0.5, 0.75)  # what the tiny module paints into the hole


class TinyLama(torch.nn.Module):
    """big-lama's interface; refuses sizes that are not multiples of 8, larger than ``limit`` px
    or masks that are not 0/1, so the tests see the engine's size rules through the real path."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.mix = torch.nn.Conv2d(4, 3, 1)  # a real (random) layer; its output is overwritten in the hole
        self.register_buffer("fill", torch.tensor(FILL).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if image.shape[2] % 8 != 0 or image.shape[3] % 8 != 0:
            raise RuntimeError("LaMa needs sizes that are multiples of 8")
        if image.shape[2] > self.limit or image.shape[3] > self.limit:
            raise RuntimeError("larger than the engine's max side")
        if bool(((mask != 0) & (mask != 1)).any()):
            raise RuntimeError("the mask must be 0 or 1")
        known = torch.sigmoid(self.mix(torch.cat([image * (1 - mask), mask], 1)))
        return known * (1 - mask) + self.fill * mask


class OneInput(torch.nn.Module):
    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image


class WrongShape(torch.nn.Module):
    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return image[:, :1]


def _save(module: torch.nn.Module, path: Path) -> Path:
    torch.jit.save(torch.jit.script(module), str(path))
    return path


@pytest.fixture
def lama_file(tmp_path: Path) -> Path:
    return _save(TinyLama(limit=4096), tmp_path / "big-lama.pt")


def _photo(h: int = 45, w: int = 61) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.float32)
    mask[10:30, 20:41] = 1.0
    mask[5, 5] = 0.5  # a soft pixel: blended, never a non-binary mask for the network
    return image, mask


def test_runs_on_odd_sizes_fills_the_hole_and_keeps_the_rest(lama_file: Path) -> None:
    engine = load_lama(lama_file, device="cpu")
    image, mask = _photo()
    before = image.copy()
    result = remove(image, mask, engine, grow_px=0)
    expected = np.round(np.array(FILL) * 255).astype(np.uint8)
    assert np.all(result.image[mask == 1] == expected)
    assert np.array_equal(result.image[mask == 0], image[mask == 0])
    assert np.array_equal(image, before)
    assert result.engine == "lama"


def test_a_crop_larger_than_the_max_side_is_shrunk_and_the_fill_enlarged(tmp_path: Path) -> None:
    module = torch.jit.load(str(_save(TinyLama(limit=128), tmp_path / "small.pt")))
    engine = LamaInpainter(module, "cpu", max_side_px=128)
    image = np.zeros((300, 420, 3), np.uint8)
    mask = np.zeros((300, 420), np.float32)
    mask[60:240, 80:340] = 1.0
    out = engine.inpaint(InpaintRequest(image, mask))
    inner = out[80:220, 100:320].astype(int)
    assert np.all(np.abs(inner - np.round(np.array(FILL) * 255)) <= 2)
    assert np.array_equal(out[mask == 0], image[mask == 0])


def test_the_registry_picks_lama_when_configured_and_the_exemplar_fill_otherwise(
    lama_file: Path, tmp_path: Path
) -> None:
    chosen = make_remover("auto", Settings(removal_model=lama_file, models_dir=tmp_path / "none", device="cpu"))
    assert chosen.backend.name == "lama" and str(lama_file) in chosen.reason
    fallback = make_remover("auto", Settings(removal_model=None, models_dir=tmp_path / "none"))
    assert fallback.backend.name == "exemplar" and "stencil download big-lama" in fallback.reason
    # A file downloaded into the models folder is found without any setting.
    assert find_lama(Settings(removal_model=None, models_dir=lama_file.parent)) == lama_file


def test_a_recipe_remove_step_uses_lama_when_configured(lama_file: Path) -> None:
    image, mask = _photo()
    engines = Engines(Settings(removal_model=lama_file, device="cpu"))
    levels = (mask >= 1).astype(np.uint8) * 255
    result = run(Recipe((StoredMask(levels=levels), Remove(grow_px=0))), image, engines)
    assert result.engine == "lama"


def test_a_file_that_is_not_torchscript_is_one_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "big-lama.pt"
    junk.write_bytes(b"not a model" * 100)
    with pytest.raises(InvalidModel, match="is not a TorchScript file.*stencil download big-lama"):
        load_lama(junk)
    pickled = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, pickled)  # a plain checkpoint, not TorchScript
    with pytest.raises(InvalidModel, match="not a TorchScript file"):
        make_remover("auto", Settings(removal_model=pickled, device="cpu"))  # no silent fallback


@pytest.mark.parametrize("module", [OneInput(), WrongShape()])
def test_a_module_with_the_wrong_interface_is_one_clear_error(module: torch.nn.Module, tmp_path: Path) -> None:
    path = _save(module, tmp_path / "other.pt")
    with pytest.raises(InvalidModel, match=r"wrong interface.*forward\(image \[1,3,H,W\]"):
        load_lama(path)


def test_a_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="stencil download big-lama"):
        load_lama(tmp_path / "nowhere.pt")
