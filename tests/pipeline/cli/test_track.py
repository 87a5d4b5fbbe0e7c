"""``stencil track`` and ``stencil apply`` on clips: the files they write, and one-line errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_run import one_line_error, stencil
from track_clips import jaccard, scene, write_clip, write_mask, write_photos

from pipeline.io.images import decode_mask
from pipeline.io.video import probe_clip


@pytest.fixture
def clip(tmp_path: Path) -> tuple[Path, Path, list[np.ndarray]]:
    frames, truths = scene(6)
    return write_clip(tmp_path / "clip.mp4", frames), write_mask(tmp_path / "first.png", truths[0]), truths


def test_track_writes_a_zip_of_masks_that_apply_uses_on_every_frame(tmp_path: Path, clip) -> None:  # type: ignore[no-untyped-def]
    path, first, truths = clip
    assert stencil("track", path, "--mask", first, "-o", tmp_path / "masks.zip", "--tracker", "classic") == 0
    with zipfile.ZipFile(tmp_path / "masks.zip") as archive:
        names = archive.namelist()
        assert names[:6] == [f"mask-{i:05d}.png" for i in range(1, 7)]
        assert jaccard(decode_mask(archive.read("mask-00006.png")), truths[5]) > 0.8
        assert json.loads(archive.read("frames.json"))[0] == {
            "frame": 1, "keyframe": True, "confidence": 1.0, "reason": ""
        }  # fmt: skip
    recipe = tmp_path / "white.json"
    assert (
        stencil("background", first, first, "--color", "white", "-o", tmp_path / "x.png", "--save-recipe", recipe) == 0
    )
    out = tmp_path / "out"
    assert stencil("apply", recipe, path, "--masks", tmp_path / "masks.zip", "-o", out / "white.mp4",
                   "--cutout-out", out / "alpha.webm", "--mask-out", out / "used.zip") == 0  # fmt: skip
    assert probe_clip(out / "white.mp4").frames == 6 and probe_clip(out / "alpha.webm").frames == 6
    with zipfile.ZipFile(out / "used.zip") as archive:
        assert len(archive.namelist()) == 6


def test_track_from_a_later_frame_of_a_spin_set_into_a_folder(tmp_path: Path) -> None:
    frames, truths = scene(5)
    folder = write_photos(tmp_path / "spin", frames)
    mask = write_mask(tmp_path / "third.png", truths[2])
    assert stencil("track", folder, "--mask", mask, "--frame", 3, "-o", tmp_path / "out") == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[:2] == ["frames.json", "mask-00001.png"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ("small-mask", "the mask is 8x8 but the frames are 96x64"),
        ("empty-mask", "frame 1 has no mask to propagate"),
        ("too-long", "has 6 frames; sequences take at most 4 frames"),
        ("not-video", "is not a video Stencil can read"),
        ("no-model", "no SAM 2 video model is configured"),
        ("bad-frame", "--frame 9: clip.mp4 has 6 frames"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, clip, capsys, change: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    path, first, _ = clip
    args: list[object] = ["track", path, "--mask", first, "-o", tmp_path / "m.zip", "--tracker", "classic"]
    if change == "small-mask":
        args[3] = write_mask(tmp_path / "small.png", np.ones((8, 8), np.float32))
    elif change == "empty-mask":
        args[3] = write_mask(tmp_path / "empty.png", np.zeros((64, 96), np.float32))
    elif change == "too-long":
        args += ["--max-frames", 4]
    elif change == "not-video":
        (tmp_path / "fake.mp4").write_text("hello")
        args[1] = tmp_path / "fake.mp4"
    elif change == "no-model":
        args[-1] = "sam2"
    elif change == "bad-frame":
        args += ["--frame", 9]
    capsys.readouterr()
    assert stencil(*args) == 2
    one_line_error(capsys, fragment)
    assert not (tmp_path / "m.zip").exists()


def test_apply_refuses_masks_of_the_wrong_size_before_writing(tmp_path: Path, clip, capsys) -> None:  # type: ignore[no-untyped-def]
    path, first, _ = clip
    recipe = tmp_path / "white.json"
    assert (
        stencil("background", first, first, "--color", "white", "-o", tmp_path / "x.png", "--save-recipe", recipe) == 0
    )
    masks = tmp_path / "masks"
    masks.mkdir()
    write_mask(masks / "mask-00001.png", np.ones((10, 10), np.float32))
    capsys.readouterr()
    assert stencil("apply", recipe, path, "--masks", masks, "-o", tmp_path / "out.mp4") == 2
    one_line_error(capsys, "frame 1: ")
    assert not (tmp_path / "out.mp4").exists()
