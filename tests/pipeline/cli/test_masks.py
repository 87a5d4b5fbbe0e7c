"""``stencil mask | refine | cutout | iou``, run in-process through ``pipeline.cli.main`` and once as a program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_run import one_line_error, stencil
from PIL import Image as PILImage

from pipeline import recipe as rc
from pipeline.io import images as imageio

ROOT = Path(__file__).resolve().parents[3]


def save_rgba_png(path: Path, rgb: np.ndarray, alpha: np.ndarray) -> Path:
    PILImage.fromarray(np.dstack([rgb, alpha])).save(path)
    return path


def disc_iou(mask: np.ndarray, truth: np.ndarray) -> float:
    selected, true = mask >= 0.5, truth >= 0.5
    return float((selected & true).sum() / (selected | true).sum())


# ---------------------------------------------------------------- stencil mask


def test_mask_from_alpha(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> None:
    source = save_rgba_png(tmp_path / "cut.png", photo, (disc_mask * 200).astype(np.uint8))
    assert stencil("mask", source, "--alpha", "-o", tmp_path / "soft.png") == 0
    np.testing.assert_allclose(imageio.load_mask(tmp_path / "soft.png"), disc_mask * 200 / 255, atol=1 / 255)
    assert stencil("mask", source, "--alpha", "--threshold", "0.5", "-o", tmp_path / "hard.png") == 0
    np.testing.assert_array_equal(imageio.load_mask(tmp_path / "hard.png"), disc_mask)


def test_mask_from_alpha_needs_transparency(
    tmp_path: Path, photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    imageio.save_image(tmp_path / "opaque.png", photo)
    assert stencil("mask", tmp_path / "opaque.png", "--alpha", "-o", tmp_path / "m.png") == 2
    one_line_error(capsys, "no transparency")
    assert not (tmp_path / "m.png").exists()


def test_mask_from_gray_soft_and_thresholded(tmp_path: Path, photo: np.ndarray) -> None:
    imageio.save_image(tmp_path / "photo.png", photo)
    ramp = np.tile(np.linspace(0, 1, 128, dtype=np.float32), (96, 1))
    imageio.save_mask(tmp_path / "ramp.png", ramp)
    assert stencil("mask", tmp_path / "photo.png", "--gray", tmp_path / "ramp.png", "-o", tmp_path / "soft.png") == 0
    np.testing.assert_allclose(imageio.load_mask(tmp_path / "soft.png"), ramp, atol=1 / 255)
    args = ("mask", tmp_path / "photo.png", "--gray", tmp_path / "ramp.png", "--threshold", "0.75")
    assert stencil(*args, "-o", tmp_path / "hard.png") == 0
    hard = imageio.load_mask(tmp_path / "hard.png")
    assert set(np.unique(hard)) == {0.0, 1.0} and abs(hard.mean() - 0.25) < 0.02


def test_mask_from_labels_by_id_and_colour(tmp_path: Path, photo: np.ndarray) -> None:
    imageio.save_image(tmp_path / "photo.png", photo)
    ids = np.zeros((96, 128), np.uint8)
    ids[:, 40:80], ids[:, 80:] = 1, 2
    PILImage.fromarray(ids).save(tmp_path / "ids.png")
    out = tmp_path / "m.png"
    assert stencil("mask", tmp_path / "photo.png", "--labels", tmp_path / "ids.png", "--class", "2", "-o", out) == 0
    np.testing.assert_array_equal(imageio.load_mask(out), (ids == 2).astype(np.float32))
    assert stencil("mask", tmp_path / "photo.png", "--labels", tmp_path / "ids.png", "--class", "1,2", "-o", out) == 0
    np.testing.assert_array_equal(imageio.load_mask(out), (ids >= 1).astype(np.float32))
    colours = np.zeros((96, 128, 3), np.uint8)
    colours[ids == 1] = (255, 0, 0)
    colours[ids == 2] = (0, 0, 255)
    imageio.save_image(tmp_path / "colours.png", colours)
    labels = ("--labels", tmp_path / "colours.png", "--class", "#ff0000", "--class", "#0000FF")
    assert stencil("mask", tmp_path / "photo.png", *labels, "-o", out) == 0
    np.testing.assert_array_equal(imageio.load_mask(out), (ids >= 1).astype(np.float32))


def test_mask_from_colour_and_luminance_find_the_disc(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> None:
    imageio.save_image(tmp_path / "photo.png", photo)
    colour = ("--color", "#c82820", "--tolerance", "60")
    assert stencil("mask", tmp_path / "photo.png", *colour, "-o", tmp_path / "c.png") == 0
    assert disc_iou(imageio.load_mask(tmp_path / "c.png"), disc_mask) > 0.9
    assert stencil("mask", tmp_path / "photo.png", "--luminance", "0:0.5", "-o", tmp_path / "l.png") == 0
    assert disc_iou(imageio.load_mask(tmp_path / "l.png"), disc_mask) > 0.9


# ---------------------------------------------------------------- stencil refine


def test_refine_steps(tmp_path: Path, disc_mask: np.ndarray) -> None:
    holey = disc_mask.copy()
    holey[45:50, 60:66] = 0.0  # a hole inside the disc
    holey[5:7, 5:7] = 1.0  # a 4-pixel island
    imageio.save_mask(tmp_path / "m.png", holey)
    out = tmp_path / "out.png"
    assert stencil("refine", tmp_path / "m.png", "--fill-holes", "--min-island", "10", "-o", out) == 0
    np.testing.assert_array_equal(imageio.load_mask(out), disc_mask)
    assert stencil("refine", tmp_path / "m.png", "--fill-holes", "--min-island", "10", "--grow", "3", "-o", out) == 0
    grown = imageio.load_mask(out)
    assert (grown >= disc_mask).all() and grown.sum() > disc_mask.sum() + 100
    assert stencil("refine", out, "--invert", "-o", tmp_path / "inv.png") == 0
    inverted = imageio.load_mask(tmp_path / "inv.png")
    np.testing.assert_array_equal(1.0 - inverted, grown)
    # invert comes first: shrinking then works on what the invert selects (the backdrop)
    assert stencil("refine", out, "--shrink", "3", "--invert", "-o", tmp_path / "inv3.png") == 0
    shrunk = imageio.load_mask(tmp_path / "inv3.png")
    assert (shrunk <= inverted).all() and shrunk.sum() < inverted.sum() - 100
    assert disc_iou(1.0 - shrunk, disc_mask) < disc_iou(1.0 - inverted, disc_mask)
    assert stencil("refine", tmp_path / "m.png", "--feather", "4", "-o", tmp_path / "soft.png") == 0
    soft = imageio.load_mask(tmp_path / "soft.png")
    assert ((soft > 0.05) & (soft < 0.95)).sum() > 200  # feathering leaves soft edges


def test_refine_feather_is_outward_only(tmp_path: Path, disc_mask: np.ndarray) -> None:
    imageio.save_mask(tmp_path / "m.png", disc_mask)
    assert stencil("refine", tmp_path / "m.png", "--feather", "6", "-o", tmp_path / "soft.png") == 0
    soft = imageio.load_mask(tmp_path / "soft.png")
    assert (soft[disc_mask == 1] == 1.0).all()  # what was selected stays fully selected
    assert (soft >= disc_mask).all() and soft[disc_mask == 0].max() > 0.3  # the soft band lies outside


def test_refine_grow_and_shrink_together_is_a_usage_error(
    tmp_path: Path, disc_mask: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    imageio.save_mask(tmp_path / "m.png", disc_mask)
    assert stencil("refine", tmp_path / "m.png", "--grow", "2", "--shrink", "3", "-o", tmp_path / "out.png") == 2
    one_line_error(capsys, "--grow", "--shrink")
    assert not (tmp_path / "out.png").exists()


def test_gray_mask_recipe_keeps_the_mask_and_needs_one_photo(
    tmp_path: Path, photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    imageio.save_image(tmp_path / "photo.png", photo)
    ramp = np.tile(np.linspace(0, 1, 128, dtype=np.float32), (96, 1))
    imageio.save_mask(tmp_path / "ramp.png", ramp)
    args = ("mask", tmp_path / "photo.png", "--gray", tmp_path / "ramp.png", "-o", tmp_path / "m.png")
    assert stencil(*args, "--save-recipe", tmp_path / "r.json") == 0
    recipe = rc.loads((tmp_path / "r.json").read_bytes())
    assert len(recipe.steps) == 1 and isinstance(recipe.steps[0], rc.StoredMask)
    np.testing.assert_array_equal(recipe.steps[0].levels, np.asarray(PILImage.open(tmp_path / "m.png")))
    folder = tmp_path / "photos"
    folder.mkdir()
    imageio.save_image(folder / "a.png", photo)
    args = ("mask", folder, "--gray", tmp_path / "ramp.png", "-o", tmp_path / "masks")
    assert stencil(*args, "--save-recipe", tmp_path / "r2.json") == 2
    one_line_error(capsys, "--save-recipe", "one photo")
    assert not (tmp_path / "r2.json").exists()


def test_refine_without_a_step_is_a_usage_error(
    tmp_path: Path, disc_mask: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    imageio.save_mask(tmp_path / "m.png", disc_mask)
    assert stencil("refine", tmp_path / "m.png", "-o", tmp_path / "out.png") == 2
    one_line_error(capsys, "nothing to do")


# ---------------------------------------------------------------- stencil cutout and iou


def test_cutout_writes_rgba(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> None:
    imageio.save_image(tmp_path / "photo.jpg", photo)
    imageio.save_mask(tmp_path / "disc.png", disc_mask)
    assert stencil("cutout", tmp_path / "photo.jpg", tmp_path / "disc.png", "-o", tmp_path / "cut.png") == 0
    rgba = np.asarray(PILImage.open(tmp_path / "cut.png"))
    assert rgba.shape == (96, 128, 4)
    np.testing.assert_array_equal(rgba[..., 3], (disc_mask * 255).astype(np.uint8))
    inside = disc_mask == 1
    np.testing.assert_array_equal(rgba[..., :3][inside], imageio.load_image(tmp_path / "photo.jpg").rgb[inside])


def test_cutout_with_a_mask_of_another_size(
    tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    imageio.save_image(tmp_path / "photo.png", photo)
    imageio.save_mask(tmp_path / "half.png", disc_mask[::2, ::2])
    assert stencil("cutout", tmp_path / "photo.png", tmp_path / "half.png", "-o", tmp_path / "cut.png") == 2
    one_line_error(capsys, "64x48", "128x96")
    args = ("cutout", tmp_path / "photo.png", tmp_path / "half.png", "--resize-mask", "-o", tmp_path / "cut.png")
    assert stencil(*args) == 0
    alpha = np.asarray(PILImage.open(tmp_path / "cut.png"))[..., 3]
    assert disc_iou(alpha / 255.0, disc_mask) > 0.9


def test_iou_prints_the_score_leaving_out_the_ignore_band(
    tmp_path: Path, disc_mask: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = (disc_mask * 255).astype(np.uint8)
    reference[:, :10] = 128  # unlabeled band
    shifted = np.roll(disc_mask, 4, axis=1)
    shifted[:, :10] = 0.0  # misses the band, which reads as selected (128 >= 0.5) unless ignored
    PILImage.fromarray(reference).save(tmp_path / "gt.png")
    imageio.save_mask(tmp_path / "m.png", shifted)
    assert stencil("iou", tmp_path / "m.png", tmp_path / "gt.png") == 0
    expected = disc_iou(shifted[:, 10:], disc_mask[:, 10:])
    assert float(capsys.readouterr().out.strip()) == pytest.approx(expected, abs=1e-4)
    assert stencil("iou", tmp_path / "m.png", tmp_path / "gt.png", "--ignore", "none") == 0
    assert float(capsys.readouterr().out.strip()) < expected - 0.05


# ---------------------------------------------------------------- folders


def test_folder_mode_masks_cutouts_and_scores(
    tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, truth = tmp_path / "photos", tmp_path / "truth"
    photos.mkdir()
    truth.mkdir()
    for index, shift in enumerate((0, 6, 12)):
        imageio.save_image(photos / f"p{index}.jpg", np.roll(photo, shift, axis=1))
        PILImage.fromarray((np.roll(disc_mask, shift, axis=1) * 255).astype(np.uint8)).save(truth / f"p{index}.png")
    (photos / "notes.txt").write_text("not an image")
    assert stencil("mask", photos, "--color", "#c82820", "--tolerance", "60", "-o", tmp_path / "masks") == 0
    assert "3/3" in capsys.readouterr().err  # the progress bar
    made = sorted(p.name for p in (tmp_path / "masks").iterdir())
    assert made == ["p0.png", "p1.png", "p2.png"]
    # photos/p1.jpg pairs with masks/p1.png by stem
    assert stencil("cutout", photos, tmp_path / "masks", "-o", tmp_path / "cutouts") == 0
    assert sorted(p.name for p in (tmp_path / "cutouts").iterdir()) == made
    alpha = np.asarray(PILImage.open(tmp_path / "cutouts" / "p2.png"))[..., 3]
    assert disc_iou(alpha / 255.0, np.roll(disc_mask, 12, axis=1)) > 0.95
    capsys.readouterr()
    assert stencil("iou", tmp_path / "masks", truth) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert [line[0] for line in lines] == ["p0", "p1", "p2", "mean"]
    assert all(float(line[1]) > 0.95 for line in lines)


def test_folder_mode_reports_a_bad_image_and_goes_on(
    tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    masks_dir = tmp_path / "masks"
    masks_dir.mkdir()
    imageio.save_mask(masks_dir / "good.png", disc_mask)
    (masks_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert stencil("refine", masks_dir, "--invert", "-o", tmp_path / "out") == 2
    assert (tmp_path / "out" / "good.png").exists() and not (tmp_path / "out" / "broken.png").exists()
    assert "broken.png" in capsys.readouterr().err


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("mask", "{missing}", "--alpha", "-o", "{out}"), "does not exist"),
        (("mask", "{gif}", "--alpha", "-o", "{out}"), "GIF"),
        (("mask", "{photo}", "--color", "#zz0000", "-o", "{out}"), "#RRGGBB"),
        (("mask", "{photo}", "--labels", "{photo}", "-o", "{out}"), "--class"),
        (("mask", "{photo}", "--luminance", "0.8:0.2", "-o", "{out}"), "LO <= HI"),
        (("mask", "{photo}", "--alpha", "--gray", "{photo}", "-o", "{out}"), "not allowed with"),
        (("refine", "{photo}", "--grow", "-3", "-o", "{out}"), "--grow"),
        (("iou", "{photo}", "{photo}", "--ignore", "300"), "8-bit"),
        (("cutout", "{photo}", "{photo}", "-o", "{tmp}/cut.jpg"), ".png"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    tmp_path: Path, photo: np.ndarray, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    imageio.save_image(tmp_path / "photo.png", photo)
    PILImage.fromarray(photo).save(tmp_path / "anim.gif")
    names = {
        "missing": tmp_path / "missing.png",
        "gif": tmp_path / "anim.gif",
        "photo": tmp_path / "photo.png",
        "out": tmp_path / "out.png",
        "tmp": tmp_path,
    }
    assert stencil(*(a.format(**names) for a in argv)) == 2
    one_line_error(capsys, fragment)
    assert not (tmp_path / "out.png").exists()


def test_runs_as_a_program(tmp_path: Path, disc_mask: np.ndarray) -> None:
    imageio.save_mask(tmp_path / "m.png", disc_mask)
    command = [sys.executable, "-m", "pipeline.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [*command, "iou", tmp_path / "m.png", tmp_path / "m.png"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "1.0000", ok.stderr
    bad = subprocess.run(
        [*command, "iou", tmp_path / "m.png", tmp_path / "nope.png"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "nope.png" in bad.stderr
