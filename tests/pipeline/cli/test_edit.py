"""``stencil remove | inpaint | background | outpaint`` end to end on small files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from pipeline.cli import main


@pytest.fixture
def files(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> dict[str, Path]:
    image, mask = tmp_path / "shot.png", tmp_path / "shot_mask.png"
    PILImage.fromarray(photo).save(image)
    PILImage.fromarray((disc_mask * 255).astype(np.uint8)).save(mask)
    return {"image": image, "mask": mask, "dir": tmp_path}


def _read(path: Path) -> np.ndarray:
    return np.asarray(PILImage.open(path).convert("RGB"))


def test_remove(files: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray, capsys) -> None:  # noqa: ANN001
    out = files["dir"] / "out.png"
    assert main(["remove", str(files["image"]), str(files["mask"]), "-o", str(out), "--engine", "auto"]) == 0
    assert "exemplar fill" in capsys.readouterr().err  # auto says what ran and why (no LaMa file here)
    result = _read(out)
    grown = np.zeros_like(disc_mask, bool)
    grown[10:87, 26:103] = True  # the disc (radius 30 at 64, 48) grown by 2 px fits in here
    assert np.array_equal(result[~grown], photo[~grown])
    assert result[48, 64, 1] > 150  # the red disc is gone: the backdrop is light gray


def test_removing_most_of_the_photo_warns_on_stderr(files: dict[str, Path], photo: np.ndarray, capsys) -> None:  # noqa: ANN001
    big = files["dir"] / "big_mask.png"
    levels = np.full(photo.shape[:2], 255, np.uint8)
    levels[:, : photo.shape[1] // 4] = 0  # 75% selected
    PILImage.fromarray(levels).save(big)
    out = files["dir"] / "out.png"
    assert main(["remove", str(files["image"]), str(big), "-o", str(out), "--engine", "classic"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: shot.png: the removal mask covers 7\d% of the photo.*fill will be poor", err)
    assert err.count("warning") == 1
    result = _read(out)
    assert np.array_equal(result[:, : photo.shape[1] // 4 - 4], photo[:, : photo.shape[1] // 4 - 4])
    assert result[:, photo.shape[1] // 2 :].std() > 1.0  # filled from what is left, not a flat grey photo


def test_inpaint_classic_and_diffusion_missing(files: dict[str, Path], capsys) -> None:  # noqa: ANN001
    out = files["dir"] / "out.png"
    args = ["inpaint", str(files["image"]), str(files["mask"]), "--prompt", "a plant", "--strength", "0.7",
            "--steps", "5", "--seed", "1", "-o", str(out)]  # fmt: skip
    assert main([*args, "--engine", "classic"]) == 0 and out.exists()
    assert main([*args, "--engine", "diffusion", "--inpaint-model", str(files["dir"] / "nope")]) == 2
    assert "stencil: error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "mode",
    [["--color", "#ffffff"], ["--gradient", "white,#336699"], ["--blur", "8"], ["--prompt", "a beach"],
     ["--color", "10,20,30", "--feather", "4", "--shadow", "--shadow-kind", "contact", "--matte", "3"]],
)  # fmt: skip
def test_background(files: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray, mode: list[str]) -> None:
    out = files["dir"] / "bg.png"
    args = ["background", str(files["image"]), str(files["mask"]), *mode, "-o", str(out), "--engine", "classic"]
    assert main(args) == 0
    result = _read(out)
    if "--matte" not in mode:
        assert np.array_equal(result[disc_mask == 1], photo[disc_mask == 1])
    if mode[:2] == ["--color", "#ffffff"]:
        assert (result[0, 0] == 255).all()


def test_background_image_file(files: dict[str, Path]) -> None:
    plate = files["dir"] / "plate.png"
    PILImage.fromarray(np.full((30, 50, 3), 90, np.uint8)).save(plate)
    out = files["dir"] / "bg.png"
    assert main(["background", str(files["image"]), str(files["mask"]), "--image", str(plate), "--fit", "fit",
                 "-o", str(out)]) == 0  # fmt: skip
    assert _read(out).shape == (96, 128, 3)


def test_outpaint(files: dict[str, Path], photo: np.ndarray) -> None:
    out = files["dir"] / "wide.png"
    assert main(["outpaint", str(files["image"]), "--aspect", "16:9", "-o", str(out)]) == 0
    assert _read(out).shape == (96, 171, 3)
    assert main(["outpaint", str(files["image"]), "--left", "10", "--top", "6", "-o", str(out)]) == 0
    result = _read(out)
    assert result.shape == (102, 138, 3)
    assert np.array_equal(result[6 + 20 :, 10 + 20 :], photo[20:, 20:])


def test_folders_match_masks_by_stem(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> None:
    images, masks_dir, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks_dir.mkdir()
    for name in ("a", "b"):
        PILImage.fromarray(photo).save(images / f"{name}.png")
        PILImage.fromarray((disc_mask * 255).astype(np.uint8)).save(masks_dir / f"{name}.png")
    assert main(["remove", str(images), str(masks_dir), "-o", str(out), "--engine", "classic"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    PILImage.fromarray(photo).save(images / "c.png")  # no mask for c: it fails, the rest go on
    assert main(["background", str(images), str(masks_dir), "--color", "black", "-o", str(out)]) == 2


def test_error_exits(files: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = str(tmp_path / "x.png")
    small = tmp_path / "small.png"
    PILImage.fromarray(np.zeros((10, 10), np.uint8)).save(small)
    empty = tmp_path / "empty.png"
    PILImage.fromarray(np.zeros((96, 128), np.uint8)).save(empty)
    assert main(["remove", str(files["image"]), str(small), "-o", out, "--engine", "classic"]) == 2
    assert "10x10" in capsys.readouterr().err
    assert main(["remove", str(files["image"]), str(empty), "-o", out, "--engine", "classic"]) == 2
    assert "nothing selected" in capsys.readouterr().err
    assert main(["background", str(files["image"]), str(files["mask"]), "-o", out]) == 2  # no mode
    assert main(["background", str(files["image"]), str(files["mask"]), "--color", "nope", "-o", out]) == 2
    assert main(["outpaint", str(files["image"]), "-o", out]) == 2
    assert main(["outpaint", str(files["image"]), "--aspect", "4:3", "-o", out]) == 2  # already 4:3
    assert main(["inpaint", str(files["image"]), str(files["mask"]), "-o", out]) == 2  # no prompt
    assert main(["remove", str(tmp_path / "missing.png"), str(files["mask"]), "-o", out]) == 2


@pytest.mark.parametrize(("flag", "word"), [(["--steps", "0"], "steps"), (["--strength", "1.5"], "strength")])
def test_bad_prompt_settings_are_one_line_errors(files: dict[str, Path], capsys, flag, word) -> None:  # noqa: ANN001
    out = files["dir"] / "out.png"
    args = ["inpaint", str(files["image"]), str(files["mask"]), "--prompt", "a plant", "--engine", "classic"]
    assert main([*args, *flag, "-o", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("stencil: error:") and word in lines[-1]
    assert not out.exists()
