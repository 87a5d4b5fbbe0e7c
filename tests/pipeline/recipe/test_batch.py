"""A recipe over a folder on the local pool: same pixels on 1 or 2 workers, a manifest, resumable,
lossless after failures, Ctrl-C, SIGTERM and a killed worker; bad batches refused before any work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import psutil
import pytest
from batch_photos import catalogue, outputs, rows, white_square
from PIL import Image as PILImage

from pipeline import recipe as rc
from pipeline.cli import main
from pipeline.edits.background import BlurredOriginal, Shadow
from pipeline.recipe.batch import BatchError, Manifest, check_generalises, check_output_folder, plan
from pipeline.recipe import pool
from pipeline.recipe.pool import run_local
from pipeline.settings import Settings
from pipeline.types import Point

ROOT = Path(__file__).resolve().parents[3]
CLASSIC = ("auto", "classic")


def test_one_and_two_workers_give_the_same_files_and_a_manifest(tmp_path: Path) -> None:
    photos = catalogue(tmp_path / "in", 6, corrupt=4)
    recipe = white_square()
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        out.mkdir()
        manifest = Manifest(out / "manifest.jsonl")
        summary = run_local(recipe, plan(photos, out, recipe), manifest, workers=workers, kinds=CLASSIC)
        assert (summary.total, summary.done, summary.failed, summary.skipped) == (6, 5, 1, 0)
        results[workers] = outputs(out)
        written = rows(out / "manifest.jsonl")
        assert len(written) == 6 and {r["status"] for r in written} == {"ok", "error"}
        bad = next(r for r in written if r["status"] == "error")
        assert bad["input"].endswith("shot-004.png") and bad["error"] and bad["outputs"] == []
        good = next(r for r in written if r["status"] == "ok")
        assert len(good["input_sha256"]) == 64 and len(good["recipe_sha256"]) == 64 and good["seconds"] > 0
    assert results[1].keys() == results[2].keys() and len(results[1]) == 5
    assert all(np.array_equal(results[1][name], results[2][name]) for name in results[1])
    first = results[1]["shot-000.png"]
    assert first.shape == (200, 200, 3) and tuple(first[2, 2]) == (255, 255, 255)
    single = rc.run(recipe, np.asarray(PILImage.open(photos / "shot-000.png").convert("RGB")))
    assert np.array_equal(single.image, first)  # the batch is the recipe, photo by photo


def test_a_second_run_recomputes_nothing_and_a_changed_photo_is_redone(tmp_path: Path) -> None:
    photos = catalogue(tmp_path / "in", 4)
    recipe, out = white_square(), tmp_path / "out"
    run_local(recipe, plan(photos, out, recipe), Manifest(out / "manifest.jsonl"), workers=1, kinds=CLASSIC)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    again = run_local(recipe, plan(photos, out, recipe), Manifest(out / "manifest.jsonl"), workers=2, kinds=CLASSIC)
    assert (again.skipped, again.done) == (4, 0)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == stamps
    (out / "shot-001.png").unlink()  # a missing output, and a changed input, are done again
    PILImage.fromarray(np.zeros((120, 160, 3), np.uint8)).save(photos / "shot-002.png")
    third = run_local(recipe, plan(photos, out, recipe), Manifest(out / "manifest.jsonl"), workers=1, kinds=CLASSIC)
    assert (third.skipped, third.done) == (2, 2) and (out / "shot-001.png").exists()
    other = rc.Recipe((*white_square().steps[:2], rc.ReplaceBackground(fill=BlurredOriginal(4.0))))
    fourth = run_local(other, plan(photos, out, other), Manifest(out / "manifest.jsonl"), workers=1, kinds=CLASSIC)
    assert fourth.skipped == 0 and fourth.done == 4  # another recipe redoes everything


def test_photo_specific_recipes_and_bad_output_folders_are_refused_before_any_work(tmp_path: Path) -> None:
    clicks = rc.Recipe((rc.Clicks(size=(160, 120), points=(Point(50, 60),)), white_square().steps[2]))
    with pytest.raises(BatchError, match=r"step 1 \(clicks\).*colour or luminance"):
        check_generalises(clicks)
    photos = catalogue(tmp_path / "in", 2)
    with pytest.raises(BatchError, match="inside the input folder"):
        check_output_folder(photos, photos / "out")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere; a file in the way cannot be a folder
            locked.chmod(0o700)
            (locked / "out").write_text("a file")
            target = locked / "out" / "deeper"
        else:
            target = locked / "out"
        with pytest.raises(BatchError, match="cannot write to the output folder"):
            check_output_folder(photos, target)
    finally:
        locked.chmod(0o700)


def test_the_cli_refuses_a_bad_batch_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = catalogue(tmp_path / "in", 2)
    clicks = tmp_path / "clicks.json"
    clicks.write_text(rc.dumps(rc.Recipe((rc.Clicks(size=(160, 120), points=(Point(50, 60),)),))))
    good = tmp_path / "good.json"
    good.write_text(rc.dumps(white_square()))
    for recipe, out in ((clicks, tmp_path / "out"), (good, photos / "nested")):
        assert main(["apply", str(recipe), str(photos), "-o", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("stencil: error:"), err
        assert not out.exists()


def _slow_catalogue(tmp_path: Path, count: int) -> tuple[Path, Path, Path]:
    """Photos big enough (1200x900, blur) that a worker is busy when the test signals it."""
    photos = catalogue(tmp_path / "in", count, size=(1200, 900))
    recipe = rc.Recipe(
        (
            rc.ColorRange(color=(235, 235, 235), tolerance=10.0),
            rc.Refine(invert=True, feather_px=3.0),
            rc.ReplaceBackground(fill=BlurredOriginal(40.0), shadow=Shadow()),
        )
    )
    path = tmp_path / "recipe.json"
    path.write_text(rc.dumps(recipe))
    return photos, path, tmp_path / "out"


def _start(recipe: Path, photos: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pipeline.cli", "apply", str(recipe), str(photos), "-o", str(out), *extra]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)


def _wait_for_rows(manifest: Path, count: int, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= count:
            return
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.05)
    raise AssertionError(f"no {count} manifest rows within {timeout_s} s")


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_batch_leaves_no_partial_file_and_resumes(tmp_path: Path, how: signal.Signals) -> None:
    photos, recipe, out = _slow_catalogue(tmp_path, 10)
    process = _start(recipe, photos, out, "--workers", "2")
    _wait_for_rows(out / "manifest.jsonl", 2, process)
    process.send_signal(how)
    code = process.wait(timeout=120)
    assert code == 130 and b"interrupted" in process.stderr.read()
    assert list(out.glob(".*.part")) == []
    finished = {Path(r["input"]).stem for r in rows(out / "manifest.jsonl") if r["status"] == "ok"}
    assert finished and all((out / f"{stem}.png").exists() for stem in finished)
    rest = _start(recipe, photos, out, "--workers", "2")
    assert rest.wait(timeout=300) == 0
    assert len(list(out.glob("shot-*.png"))) == 10
    done = [r for r in rows(out / "manifest.jsonl") if r["status"] == "ok"]
    assert len(done) == 10  # the first run's photos were not done twice


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_every_photo_is_written(tmp_path: Path) -> None:
    photos, recipe, out = _slow_catalogue(tmp_path, 8)
    process = _start(recipe, photos, out, "--workers", "2")
    _wait_for_rows(out / "manifest.jsonl", 1, process)
    children = psutil.Process(process.pid).children(recursive=True)
    workers = [
        c for c in children if "spawn_main" in " ".join(c.cmdline()) and "resource_tracker" not in " ".join(c.cmdline())
    ]
    assert workers, "no worker processes"
    workers[0].kill()
    assert process.wait(timeout=300) == 0
    assert "a worker died" in process.stderr.read().decode()
    assert len(list(out.glob("shot-*.png"))) == 8 and list(out.glob(".*.part")) == []
    ok = {Path(r["input"]).name for r in rows(out / "manifest.jsonl") if r["status"] == "ok"}
    assert len(ok) == 8
    clean = tmp_path / "clean"
    assert main(["apply", str(recipe), str(photos), "-o", str(clean), "--workers", "1"]) == 0
    assert all(np.array_equal(outputs(out)[name], outputs(clean)[name]) for name in outputs(clean))


def test_settings_reach_the_workers(tmp_path: Path) -> None:
    """The pool's workers build their engines from the batch's settings and kinds."""
    photos = catalogue(tmp_path / "in", 2)
    recipe = rc.Recipe((rc.ColorRange(color=(200, 40, 30), tolerance=20.0), rc.Remove()))
    out = tmp_path / "out"
    summary = run_local(
        recipe, plan(photos, out, recipe), Manifest(tmp_path / "m.jsonl"), workers=2, settings=Settings(), kinds=CLASSIC
    )
    assert summary.done == 2 and summary.failed == 0


def test_workers_that_cannot_load_their_models_stop_the_batch_with_the_reason(tmp_path: Path) -> None:
    photos = catalogue(tmp_path / "in", 3)
    recipe = rc.Recipe((rc.ColorRange(color=(200, 40, 30), tolerance=20.0), rc.Remove()))
    out = tmp_path / "out"
    settings = Settings(inpaint_model=str(tmp_path / "no-such-model"))
    with pytest.raises(BatchError, match="cannot load their models.*does not exist"):
        run_local(recipe, plan(photos, out, recipe), Manifest(out / "m.jsonl"), workers=2, settings=settings,
                  kinds=("auto", "diffusion"))  # fmt: skip
    assert not list(out.glob("*.png"))


class _BreaksOnThirdSubmit(ProcessPoolExecutor):
    """A real pool whose third hand-out finds it broken, as when a worker dies between two hand-outs."""

    submits = 0

    def submit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        type(self).submits += 1
        if type(self).submits == 3:
            raise BrokenProcessPool("a child process terminated abruptly")
        return super().submit(*args, **kwargs)


def test_a_pool_that_breaks_while_photos_are_handed_out_loses_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The killed-worker race: a photo being handed out when the pool broke is tried again, not dropped."""
    monkeypatch.setattr(pool, "ProcessPoolExecutor", _BreaksOnThirdSubmit)
    monkeypatch.setattr(_BreaksOnThirdSubmit, "submits", 0)
    photos = catalogue(tmp_path / "in", 4)
    recipe, out = white_square(), tmp_path / "out"
    summary = run_local(recipe, plan(photos, out, recipe), Manifest(out / "m.jsonl"), workers=2, kinds=CLASSIC)
    assert _BreaksOnThirdSubmit.submits > 3  # the broken pool was replaced
    assert (summary.done, summary.failed) == (4, 0) and len(outputs(out)) == 4
