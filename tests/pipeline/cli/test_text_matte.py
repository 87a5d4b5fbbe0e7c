"""``stencil mask --text`` (SAM 3) and ``stencil matte``, with tiny models the tests save themselves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

pytest.importorskip("transformers")

from cli_run import one_line_error, stencil  # noqa: E402
from tiny_transformers import save_sam3, save_vitmatte  # noqa: E402

from pipeline.io import images as imageio  # noqa: E402


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3(tmp_path_factory.mktemp("sam3") / "tiny")


@pytest.fixture
def files(tmp_path: Path, photo, disc_mask) -> tuple[Path, Path]:
    path, mask = tmp_path / "disc.png", tmp_path / "disc-mask.png"
    PILImage.fromarray(photo).save(path)
    imageio.save_mask(mask, disc_mask)
    return path, mask


def test_mask_text_writes_the_union_and_a_recipe_that_replays_it(files, sam3_folder, tmp_path, capsys) -> None:
    path, _ = files
    out, saved = tmp_path / "cups.png", tmp_path / "r.json"
    code = stencil("mask", path, "--text", " red  cup ", "--text-threshold", "0", "--sam3-model", sam3_folder,
                   "-o", out, "--save-recipe", saved)  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "SAM 3 on cpu" in capsys.readouterr().err
    mask = imageio.load_mask(out)
    assert mask.shape == (96, 128) and mask.any()
    assert json.loads(saved.read_text())["steps"][0] == {
        "step": "text", "text": "red cup", "instances": None, "threshold": 0.0, "combine": "replace",
    }  # fmt: skip
    again = tmp_path / "again.png"
    assert (
        stencil("apply", saved, path, "--sam3-model", sam3_folder, "--mask-out", again, "-o", tmp_path / "o.png") == 0
    )
    assert np.array_equal(imageio.load_mask(again), mask)


@pytest.mark.parametrize(("text", "needle"), [("", "empty"), ("x" * 10_000, "10,000 characters")])
def test_bad_text_is_one_line_and_writes_nothing(files, sam3_folder, tmp_path, capsys, text, needle) -> None:
    out = tmp_path / "never.png"
    assert stencil("mask", files[0], "--text", text, "--sam3-model", sam3_folder, "-o", out) == 2
    one_line_error(capsys, needle)
    assert not out.exists()


def test_without_sam3_the_error_says_how_to_get_it(files, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("STENCIL_SAM3_MODEL", raising=False)
    assert stencil("mask", files[0], "--text", "cup", "-o", tmp_path / "m.png") == 2
    one_line_error(capsys, "SAM 3", "hf download facebook/sam3", "--sam3-model")


def test_matte_writes_an_8_bit_grey_alpha_and_a_cutout(files, tmp_path, capsys) -> None:
    path, mask = files
    out, cutout = tmp_path / "alpha.png", tmp_path / "cut.png"
    assert stencil("matte", path, mask, "-o", out, "--band", "4", "--cutout-out", cutout) == 0
    assert "classical closed-form matte" in capsys.readouterr().err
    with PILImage.open(out) as written:
        assert written.mode == "L" and written.size == (128, 96)
        levels = np.asarray(written)
    assert np.count_nonzero((levels > 0) & (levels < 255)) > 0  # a soft edge
    with PILImage.open(cutout) as rgba:
        assert rgba.mode == "RGBA" and np.array_equal(np.asarray(rgba)[..., 3], levels)


def test_matte_with_the_users_vitmatte_folder(files, tmp_path, capsys) -> None:
    folder = save_vitmatte(tmp_path / "vitmatte")
    out = tmp_path / "alpha.png"
    assert stencil("matte", *files, "-o", out, "--matte-engine", "vitmatte", "--matte-model", folder) == 0
    assert "ViTMatte on cpu" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "config.json").unlink()
    assert (
        stencil("matte", *files, "-o", tmp_path / "b.png", "--matte-engine", "vitmatte", "--matte-model", broken) == 2
    )
    one_line_error(capsys, "missing config.json")
    assert not (tmp_path / "b.png").exists()


@pytest.mark.parametrize(("fill", "needle"), [(0.0, "selects nothing"), (1.0, "whole photo")])
def test_matte_on_an_empty_or_full_mask_is_one_line(files, tmp_path, capsys, fill, needle) -> None:
    blank = tmp_path / "blank.png"
    imageio.save_mask(blank, np.full((96, 128), fill, np.float32))
    out = tmp_path / "alpha.png"
    assert stencil("matte", files[0], blank, "-o", out) == 2
    one_line_error(capsys, needle)
    assert not out.exists()
