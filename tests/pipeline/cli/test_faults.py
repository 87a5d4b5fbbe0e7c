"""Faults in a CLI run: Ctrl-C, SIGTERM and an unwritable output each give one line and leave no ``.part`` file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[3]


def _folder_job(tmp_path: Path, count: int) -> tuple[Path, Path]:
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        PILImage.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(photos / f"p{index:02}.png")
        mask = np.zeros((480, 640), np.uint8)
        mask[100:380, 150:500] = 255
        PILImage.fromarray(mask).save(masks / f"p{index:02}.png")
    return photos, masks


@pytest.mark.parametrize(
    ("signum", "line", "status"), [(signal.SIGINT, "interrupted", 130), (signal.SIGTERM, "terminated", 143)]
)
def test_a_signal_mid_folder_leaves_finished_files_and_no_part(
    tmp_path: Path, signum: int, line: str, status: int
) -> None:
    photos, masks = _folder_job(tmp_path, 40)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "remove",
            str(photos),
            str(masks),
            "-o",
            str(out),
            "--engine",
            "classic",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out.exists() and any(out.glob("*.png"))) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the job finished before the signal arrived")
    assert process.returncode == status
    assert err.strip().splitlines()[-1] == f"stencil: {line}" and "Traceback" not in err
    assert list(out.glob(".*.part")) == [] and list(out.glob("*.png"))  # finished photos stay


def test_an_output_that_cannot_be_made_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos, masks = _folder_job(tmp_path, 1)
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should go")
    code = main(["remove", str(photos / "p00.png"), str(masks / "p00.png"), "-o", str(blocker / "out.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("stencil: error: ") and "file" in err[-1]
    assert list(tmp_path.rglob("*.part")) == []
