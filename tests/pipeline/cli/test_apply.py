"""``--save-recipe`` and ``stencil apply``: the saved recipe replays to the same pixels, bad recipes are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import one_line_error, stencil
from PIL import Image as PILImage

from pipeline import recipe as rc
from pipeline.edits.background import SolidColor
from pipeline.inpaint.protocol import DEFAULT_PROMPTING
from pipeline.io import images as imageio


def read_rgb(path: Path) -> np.ndarray:
    return np.asarray(PILImage.open(path).convert("RGB"))


def steps_of(path: Path) -> list[dict]:
    return json.loads(path.read_text())["steps"]


@pytest.fixture
def files(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> dict[str, Path]:
    imageio.save_image(tmp_path / "shot.png", photo)
    imageio.save_mask(tmp_path / "disc.png", disc_mask)
    return {"photo": tmp_path / "shot.png", "mask": tmp_path / "disc.png", "dir": tmp_path}


# ---------------------------------------------------------------- (a) the same pixels


@pytest.mark.parametrize(
    "edit",
    [
        ["background", "--color", "10,20,30", "--feather", "4", "--matte", "3", "--shadow"],
        ["background", "--gradient", "white,#336699", "--feather", "6"],
        ["remove", "--engine", "classic"],
        ["inpaint", "--prompt", "a plant", "--engine", "classic"],
    ],
)
def test_saved_edit_replays_to_identical_pixels(files: dict[str, Path], edit: list[str]) -> None:
    d = files["dir"]
    command, *flags = edit
    assert (
        stencil(command, files["photo"], files["mask"], *flags, "-o", d / "direct.png", "--save-recipe", d / "r.json")
        == 0
    )
    kinds = [step["step"] for step in steps_of(d / "r.json")]
    assert kinds[0] == "mask" and kinds[-1] == "output" and kinds[-2] == command
    assert stencil("apply", d / "r.json", files["photo"], "-o", d / "replayed.png") == 0
    np.testing.assert_array_equal(read_rgb(d / "replayed.png"), read_rgb(d / "direct.png"))
    assert not list(d.glob(".*.part"))


def test_a_16_bit_soft_mask_replays_to_identical_pixels(files: dict[str, Path]) -> None:
    d = files["dir"]
    yy, xx = np.mgrid[0:96, 0:128]
    soft = np.clip(34.0 - np.hypot(xx - 64, yy - 48), 0, 8) / 8  # a soft edge: levels 8 bits cannot hold
    PILImage.fromarray(np.rint(soft * 65535).astype(np.uint16)).save(d / "soft16.png")
    args = ("background", files["photo"], d / "soft16.png", "--color", "black", "-o", d / "direct.png")
    assert stencil(*args, "--save-recipe", d / "r.json") == 0
    assert stencil("apply", d / "r.json", files["photo"], "-o", d / "replayed.png") == 0
    np.testing.assert_array_equal(read_rgb(d / "replayed.png"), read_rgb(d / "direct.png"))


def test_background_feather_goes_through_refine_and_keeps_the_subject(
    files: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    d = files["dir"]
    args = ("background", files["photo"], files["mask"], "--color", "black", "--feather", "5")
    assert stencil(*args, "-o", d / "bg.png", "--save-recipe", d / "r.json") == 0
    refine = next(step for step in steps_of(d / "r.json") if step["step"] == "refine")
    assert refine["feather_px"] == 5.0 and refine["grow_px"] == 0
    result = read_rgb(d / "bg.png")
    np.testing.assert_array_equal(result[disc_mask == 1], photo[disc_mask == 1])  # outward only
    ring = (np.hypot(*np.mgrid[0:96, 0:128] - np.array([48, 64])[:, None, None]) - 31.5) ** 2 < 1
    assert result[ring].mean() > 5  # the soft band lies outside the disc: not pure black there


def test_colour_mask_recipe_generalises_to_other_photos(files: dict[str, Path], photo: np.ndarray) -> None:
    d = files["dir"]
    colour = ("--color", "#c82820", "--tolerance", "60")
    assert stencil("mask", files["photo"], *colour, "-o", d / "m.png", "--save-recipe", d / "r.json") == 0
    assert [step["step"] for step in steps_of(d / "r.json")] == ["color"]
    assert stencil("apply", d / "r.json", files["photo"], "-o", d / "out.png", "--mask-out", d / "m2.png") == 0
    np.testing.assert_array_equal(imageio.load_mask(d / "m2.png"), imageio.load_mask(d / "m.png"))
    np.testing.assert_array_equal(read_rgb(d / "out.png"), photo)  # no edit: the photo itself
    small = np.ascontiguousarray(photo[::2, ::2])  # another size: a colour step replays anywhere
    imageio.save_image(d / "small.png", small)
    assert stencil("apply", d / "r.json", d / "small.png", "-o", d / "o2.png", "--mask-out", d / "ms.png") == 0
    assert imageio.load_mask(d / "ms.png").shape == (48, 64) and imageio.load_mask(d / "ms.png").mean() > 0.1


def test_refine_recipe_replays_and_feathers_outward(files: dict[str, Path], disc_mask: np.ndarray) -> None:
    d = files["dir"]
    args = ("refine", files["mask"], "--grow", "3", "--feather", "4", "-o", d / "soft.png")
    assert stencil(*args, "--save-recipe", d / "r.json") == 0
    soft = imageio.load_mask(d / "soft.png")
    assert (soft >= disc_mask).all() and ((soft > 0.05) & (soft < 0.95)).sum() > 200
    assert stencil("apply", d / "r.json", files["photo"], "-o", d / "o.png", "--mask-out", d / "again.png") == 0
    np.testing.assert_array_equal(imageio.load_mask(d / "again.png"), soft)


def test_outpaint_recipe_replays_on_a_folder(tmp_path: Path, photo: np.ndarray) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    imageio.save_image(photos / "a.png", photo)
    imageio.save_image(photos / "b.png", np.ascontiguousarray(photo[:, :96]))  # 96x96: a square
    args = ("outpaint", photos, "--aspect", "16:9", "--engine", "classic", "-o", tmp_path / "direct")
    assert stencil(*args, "--save-recipe", tmp_path / "r.json") == 0
    assert stencil("apply", tmp_path / "r.json", photos, "-o", tmp_path / "replayed") == 0
    for name in ("a.png", "b.png"):
        np.testing.assert_array_equal(read_rgb(tmp_path / "replayed" / name), read_rgb(tmp_path / "direct" / name))
    assert read_rgb(tmp_path / "replayed" / "b.png").shape == (96, 171, 3)


def test_prompt_defaults_come_from_prompting(files: dict[str, Path]) -> None:
    d = files["dir"]
    args = ("inpaint", files["photo"], files["mask"], "--prompt", "a plant", "--engine", "classic")
    assert stencil(*args, "-o", d / "o.png", "--save-recipe", d / "r.json") == 0
    prompting = next(step for step in steps_of(d / "r.json") if step["step"] == "inpaint")["prompting"]
    assert prompting["prompt"] == "a plant"
    assert (prompting["steps"], prompting["guidance"], prompting["strength"], prompting["seed"]) == (
        DEFAULT_PROMPTING.steps, DEFAULT_PROMPTING.guidance, DEFAULT_PROMPTING.strength, DEFAULT_PROMPTING.seed,
    )  # fmt: skip
    assert stencil(*args, "--steps", "12", "--seed", "7", "-o", d / "o.png", "--save-recipe", d / "r.json") == 0
    prompting = next(step for step in steps_of(d / "r.json") if step["step"] == "inpaint")["prompting"]
    assert (prompting["steps"], prompting["seed"]) == (12, 7)


def test_apply_keeps_exif(tmp_path: Path, photo: np.ndarray) -> None:
    exif = PILImage.Exif()
    exif[0x010F] = "Stencil Test Camera"  # Make
    PILImage.fromarray(photo).save(tmp_path / "cam.jpg", exif=exif.tobytes(), quality=95)
    (tmp_path / "r.json").write_text(rc.dumps(rc.Recipe((rc.ColorRange(color=(200, 40, 30), tolerance=60.0),))))
    assert stencil("apply", tmp_path / "r.json", tmp_path / "cam.jpg", "-o", tmp_path / "out.jpg") == 0
    assert PILImage.open(tmp_path / "out.jpg").getexif().get(0x010F) == "Stencil Test Camera"


def test_save_recipe_with_a_folder_and_a_mask_is_refused(
    files: dict[str, Path], photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    d = files["dir"]
    photos = d / "photos"
    photos.mkdir()
    imageio.save_image(photos / "a.png", photo)
    args = ("remove", photos, files["mask"], "--engine", "classic", "-o", d / "out", "--save-recipe", d / "r.json")
    assert stencil(*args) == 2
    one_line_error(capsys, "--save-recipe", "one photo")
    assert not (d / "r.json").exists() and not (d / "out").exists()


# ---------------------------------------------------------------- (b) bad recipes


def _good() -> dict:
    return {"stencil_recipe": 2, "steps": [{"step": "color", "color": [200, 40, 30]}, {"step": "refine"}]}


def _mutated(change: str) -> dict | str:
    recipe = _good()
    steps = recipe["steps"]
    if change == "version":
        recipe["stencil_recipe"] = 7
    elif change == "unknown step":
        steps.append({"step": "sharpen", "amount": 2})
    elif change == "missing field":
        del steps[0]["color"]
    elif change == "extra field":
        steps[1]["blur_px"] = 3
    elif change == "out of range":
        steps[1]["grow_px"] = 5000
    elif change == "10000 steps":
        recipe["steps"] = [{"step": "alpha"}] * 10_000
    return recipe


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ("version", ("version 7",)),
        ("unknown step", ("step 3", "'sharpen'")),
        ("missing field", ("step 1 (color)", "'color'")),
        ("extra field", ("step 2 (refine)", "'blur_px'")),
        ("out of range", ("step 2 (refine)", "grow_px", "5000")),
        ("10000 steps", ("10000 steps",)),
    ],
)
def test_bad_recipe_is_one_line_exit_2_and_writes_nothing(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], change: str, fragments: tuple[str, ...]
) -> None:
    d = files["dir"]
    (d / "bad.json").write_text(json.dumps(_mutated(change)))
    out = d / "out" / "result.png"
    assert stencil("apply", d / "bad.json", files["photo"], "-o", out, "--mask-out", d / "m.png") == 2
    one_line_error(capsys, *fragments)
    assert not out.exists() and not (d / "m.png").exists()


def test_a_ten_megabyte_recipe_is_refused_before_reading(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    d = files["dir"]
    text = json.dumps(_good())
    (d / "big.json").write_text(text[:-1] + " " * (10 * 2**20) + "}")
    assert stencil("apply", d / "big.json", files["photo"], "-o", d / "out.png") == 2
    one_line_error(capsys, "10.0 MiB", "8 MiB")
    assert not (d / "out.png").exists()


def test_a_photo_specific_step_on_a_photo_of_another_size(
    files: dict[str, Path], photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    d = files["dir"]
    args = ("background", files["photo"], files["mask"], "--color", "white", "-o", d / "bg.png")
    assert stencil(*args, "--save-recipe", d / "r.json") == 0
    capsys.readouterr()
    imageio.save_image(d / "small.png", np.ascontiguousarray(photo[::2, ::2]))
    assert stencil("apply", d / "r.json", d / "small.png", "-o", d / "out.png") == 2
    one_line_error(capsys, "step 1 (mask)", "128x96", "64x48")
    assert not (d / "out.png").exists()


# ---------------------------------------------------------------- (c) folders


def test_folder_replay_goes_on_past_a_corrupt_photo(
    tmp_path: Path, photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    imageio.save_image(photos / "a.png", photo)
    imageio.save_image(photos / "c.png", np.roll(photo, 10, axis=1))
    (photos / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a picture")
    steps = (
        rc.ColorRange(color=(200, 40, 30), tolerance=60.0),
        rc.ReplaceBackground(fill=SolidColor((0, 0, 255)), engine="classic"),
        rc.Output(format="webp"),
    )
    (tmp_path / "r.json").write_text(rc.dumps(rc.Recipe(steps)))
    assert stencil("apply", tmp_path / "r.json", photos, "-o", tmp_path / "out", "--mask-out", tmp_path / "m") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("stencil apply: 1 of 3 photos failed;") and any("b.png" in line for line in err)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.webp", "c.webp", "manifest.jsonl"]
    rows = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert sorted((Path(r["input"]).name, r["status"]) for r in rows) == [
        ("a.png", "ok"),
        ("b.png", "error"),
        ("c.png", "ok"),
    ]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["a.png", "c.png"]
    result = read_rgb(tmp_path / "out" / "a.webp")
    assert tuple(result[2, 2]) == (0, 0, 255) and tuple(result[48, 64]) == tuple(photo[48, 64])


# ---------------------------------------------------------------- (d) label maps


def test_labels_recipe_replays_with_each_photos_own_label_map(
    tmp_path: Path, photo: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, labels = tmp_path / "photos", tmp_path / "labels"
    photos.mkdir()
    labels.mkdir()
    maps = {}
    for index, name in enumerate(("a", "b")):
        ids = np.zeros((96, 128), np.uint8)
        ids[:, 30 + 40 * index :] = 2  # a different map per photo
        maps[name] = ids
        imageio.save_image(photos / f"{name}.png", photo)
        PILImage.fromarray(ids).save(labels / f"{name}.png")
    made = ("mask", photos / "a.png", "--labels", labels / "a.png", "--class", "2", "-o", tmp_path / "a_mask.png")
    assert stencil(*made, "--save-recipe", tmp_path / "r.json") == 0
    assert steps_of(tmp_path / "r.json") == [{"step": "labels", "classes": [2], "labels": None, "combine": "replace"}]
    args = ("apply", tmp_path / "r.json", photos, "-o", tmp_path / "out", "--mask-out", tmp_path / "masks")
    assert stencil(*args, "--labels", labels) == 0
    for name, ids in maps.items():
        np.testing.assert_array_equal(
            imageio.load_mask(tmp_path / "masks" / f"{name}.png"), (ids == 2).astype(np.float32)
        )
    capsys.readouterr()
    assert stencil(*args) == 2  # without --labels
    one_line_error(capsys, "--labels")
