"""``stencil select`` and ``stencil eval-clicks`` on small synthetic files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.cli import main

SUMMARY = re.compile(r"NoC@85=\d+\.\d+ NoC@90=\d+\.\d+ mIoU@1=\d\.\d+ mIoU@5=\d\.\d+ n=\d+")


def _write(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


def test_select_one_image(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray, capsys) -> None:
    source = _write(tmp_path / "disc.png", photo)
    out = tmp_path / "mask.png"
    assert main(["select", str(source), "--point", "64,48", "--point", "5,5,-", "--segmenter", "classic",
                 "-o", str(out)]) == 0  # fmt: skip
    assert "classical selector" in capsys.readouterr().err
    mask = np.asarray(Image.open(out)) > 127
    assert mask.shape == disc_mask.shape
    assert (mask & (disc_mask > 0)).sum() / (mask | (disc_mask > 0)).sum() > 0.9


def test_select_folder_applies_the_clicks_to_every_image(tmp_path: Path, photo: np.ndarray) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        _write(folder / name, photo)
    out = tmp_path / "out"
    assert main(["select", str(folder), "--point", "64,48", "--segmenter", "classic", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--point", "64"], "not a click"),
        (["--point", "64,48,x"], "not a click"),
        (["--point", "500,48"], "outside"),
        (["--point", "nan,4"], "finite"),
        (["--box", "10,10,10,40"], "degenerate"),
        ([], "at least one --point"),
    ],
)
def test_select_bad_input_is_one_line_error(tmp_path: Path, photo: np.ndarray, capsys, args, words) -> None:
    source = _write(tmp_path / "disc.png", photo)
    assert main(["select", str(source), *args, "--segmenter", "classic", "-o", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # the error alone: the backend notice is said only after a success
    assert words in err[0] and err[0].startswith("stencil: error:")


def test_eval_clicks_prints_table_and_summary_line(tmp_path: Path, photo: np.ndarray, disc_mask, capsys) -> None:
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    _write(images / "disc.png", photo)
    _write(images / "orphan.png", photo)
    reference = (disc_mask * 255).astype(np.uint8)
    reference[0, 0] = 128  # an ignored pixel
    _write(masks / "disc.png", reference)
    status = main(["eval-clicks", "--images", str(images), "--masks", str(masks), "--segmenter", "classic",
                   "--max-clicks", "5"])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0
    lines = captured.out.strip().splitlines()
    assert SUMMARY.fullmatch(lines[-1]), lines[-1]
    assert lines[-1].endswith("n=1")
    assert any(line.startswith("disc ") for line in lines)
    assert "orphan.png" in captured.err
