"""A recipe over a folder on a real local Ray (two CPUs, one runtime for the module): the local pool's
files, a manifest written as rows stream in, resumable, lossless when a worker is killed, and a
cluster that cannot be reached or engines that cannot load refused in one line before any work."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
import pytest
from batch_photos import catalogue, outputs, rows, white_square

from pipeline import recipe as rc
from pipeline.cli import main
from pipeline.edits.background import PromptBackground
from pipeline.inpaint.protocol import Prompting
from pipeline.recipe.batch import MAX_RETRIES, BatchError, Item, Manifest, Row, Summary, plan
from pipeline.recipe.pool import run_local
from pipeline.settings import Settings

ray = pytest.importorskip("ray")

from pipeline.recipe import ray_batch  # noqa: E402
from pipeline.recipe.ray_batch import _Attempts, _needs_gpu, _Replay, run_ray  # noqa: E402

CLASSIC = ("auto", "classic")
PHOTOS, CORRUPT = 20, 7


def same_pixels(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[name], b[name]) for name in a)


@pytest.fixture(scope="module")
def runtime() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return catalogue(tmp_path_factory.mktemp("ray") / "in", PHOTOS, corrupt=CORRUPT)


@pytest.fixture(scope="module")
def first(runtime: None, shots: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary, list[int]]:
    """One Ray run of the catalogue: its folder, its summary, and the manifest's length at each progress call."""
    out = tmp_path_factory.mktemp("ray") / "out"  # not made here: the run makes its output folders
    manifest, lengths = Manifest(out / "manifest.jsonl"), []
    recipe = white_square()

    def progress(row: Row) -> None:
        lengths.append(len((out / "manifest.jsonl").read_text().splitlines()))

    summary = run_ray(recipe, plan(shots, out, recipe), manifest, address="local", kinds=CLASSIC, progress=progress)
    return out, summary, lengths


@pytest.mark.slow
def test_a_corrupt_photo_is_one_error_row_and_the_rest_are_written(first: tuple[Path, Summary, list[int]]) -> None:
    out, summary, lengths = first
    assert (summary.total, summary.done, summary.failed, summary.skipped) == (PHOTOS, PHOTOS - 1, 1, 0)
    assert summary.line().startswith(f"1 of {PHOTOS} photos failed; {PHOTOS - 1} done")
    written = outputs(out)
    assert len(written) == PHOTOS - 1 and f"shot-{CORRUPT:03d}.png" not in written
    assert written["shot-000.png"].shape == (200, 200, 3) and tuple(written["shot-000.png"][2, 2]) == (255, 255, 255)
    manifest = rows(out / "manifest.jsonl")
    assert len(manifest) == PHOTOS and len({r["input"] for r in manifest}) == PHOTOS
    bad = [r for r in manifest if r["status"] == "error"]
    assert len(bad) == 1 and bad[0]["input"].endswith(f"shot-{CORRUPT:03d}.png") and "PNG" in bad[0]["error"]
    assert summary.failures[0].input == bad[0]["input"]
    assert lengths == list(range(1, PHOTOS + 1))  # each row is in the manifest before it is reported
    assert list(out.glob(".*.part")) == []


@pytest.mark.slow
def test_a_second_run_recomputes_nothing(first: tuple[Path, Summary, list[int]], shots: Path) -> None:
    out, _, _ = first
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    recipe = white_square()
    again = run_ray(recipe, plan(shots, out, recipe), Manifest(out / "manifest.jsonl"), kinds=CLASSIC)
    assert (again.skipped, again.done, again.failed) == (PHOTOS - 1, 0, 1)  # only the corrupt photo is tried again
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == stamps
    assert sum(r["status"] == "ok" for r in rows(out / "manifest.jsonl")) == PHOTOS - 1


@pytest.mark.slow
def test_one_and_two_workers_and_ray_give_the_same_files(
    first: tuple[Path, Summary, list[int]], shots: Path, tmp_path: Path
) -> None:
    ray_out = first[0]
    recipe = white_square()
    for workers in (1, 2):
        out = tmp_path / f"workers{workers}"
        out.mkdir()
        summary = run_local(recipe, plan(shots, out, recipe), Manifest(out / "m.jsonl"), workers=workers, kinds=CLASSIC)
        assert (summary.done, summary.failed) == (PHOTOS - 1, 1)
        assert same_pixels(outputs(out), outputs(ray_out))
        local = {(Path(r["input"]).name, r["status"], r["input_sha256"]) for r in rows(out / "m.jsonl")}
        assert local == {
            (Path(r["input"]).name, r["status"], r["input_sha256"]) for r in rows(ray_out / "manifest.jsonl")
        }


def _kill_a_map_worker(ready: threading.Event, killed: list[int]) -> None:
    """Once ``ready`` is set, SIGKILL one of this Ray's ``_Replay`` actor processes."""
    ready.wait(timeout=120)
    for process in psutil.Process().children(recursive=True):  # the Ray this test process started
        try:
            if process.name().startswith("ray::MapWorker"):
                process.kill()
                killed.append(process.pid)
                return
        except psutil.NoSuchProcess:
            continue


@pytest.mark.slow
@pytest.mark.parametrize("blocks", [PHOTOS, 4], ids=["a photo a block", "five photos a block"])
def test_a_killed_worker_is_restarted_and_every_photo_is_written_once(
    first: tuple[Path, Summary, list[int]], shots: Path, tmp_path: Path, blocks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_batch, "MAX_BLOCKS", blocks)
    out = tmp_path / "out"
    out.mkdir()
    ready, killed, seen = threading.Event(), [], []

    def progress(row: Row) -> None:
        seen.append(row)
        if len(seen) >= 3:
            ready.set()

    killer = threading.Thread(target=_kill_a_map_worker, args=(ready, killed))
    killer.start()
    recipe = white_square()
    summary = run_ray(
        recipe, plan(shots, out, recipe), Manifest(out / "manifest.jsonl"), kinds=CLASSIC, progress=progress
    )
    killer.join()
    assert killed, "no Ray map worker was found to kill"
    assert (summary.done, summary.failed) == (PHOTOS - 1, 1)
    assert same_pixels(outputs(out), outputs(first[0]))
    assert list(out.glob(".*.part")) == []
    manifest = rows(out / "manifest.jsonl")
    assert len(manifest) == PHOTOS and len({r["input"] for r in manifest}) == PHOTOS  # no photo reported twice


def test_an_unreachable_cluster_is_refused_quickly_and_nothing_is_written(shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    recipe = white_square()
    started = time.monotonic()
    with pytest.raises(BatchError, match=r"^cannot connect to Ray at ray://127\.0\.0\.1:1: ") as refused:
        run_ray(recipe, plan(shots, out, recipe), Manifest(out / "manifest.jsonl"), address="ray://127.0.0.1:1")
    assert time.monotonic() - started < 10 and "\n" not in str(refused.value)
    with pytest.raises(BatchError, match="is not 'auto', 'ray://HOST:PORT' or HOST:PORT"):
        run_ray(recipe, plan(shots, out, recipe), Manifest(out / "manifest.jsonl"), address="ray://nowhere")
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_engines_that_cannot_load_stop_the_batch_in_one_line(runtime: None, shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    recipe = rc.Recipe((rc.ColorRange(color=(200, 40, 30), tolerance=20.0), rc.Remove()))
    settings = Settings(inpaint_model=str(tmp_path / "missing.safetensors"), device="cpu")
    with pytest.raises(BatchError, match="Ray workers cannot load their engines: inpainting model .* does not exist"):
        run_ray(
            recipe, plan(shots, out, recipe), Manifest(out / "m.jsonl"), settings=settings, kinds=("auto", "diffusion")
        )
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_the_cli_runs_a_folder_on_ray(
    first: tuple[Path, Summary, list[int]], shots: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe, out = tmp_path / "recipe.json", tmp_path / "out"
    recipe.write_text(rc.dumps(white_square()))
    assert main(["apply", str(recipe), str(shots), "-o", str(out), "--ray"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"stencil apply: 1 of {PHOTOS} photos failed; {PHOTOS - 1} done"), err
    assert any(f"shot-{CORRUPT:03d}.png" in line for line in err[:-1])
    assert same_pixels(outputs(out), outputs(first[0])) and len(rows(out / "manifest.jsonl")) == PHOTOS


@pytest.mark.slow
def test_sources_may_be_uris(first: tuple[Path, Summary, list[int]], shots: Path, tmp_path: Path) -> None:
    recipe, out = white_square(), tmp_path / "out"
    out.mkdir()
    items = [replace(item, source=Path(item.source).as_uri()) for item in plan(shots, out, recipe)[:3]]
    summary = run_ray(recipe, items, Manifest(out / "manifest.jsonl"), kinds=CLASSIC)
    assert summary.done == 3
    assert [r["input"] for r in rows(out / "manifest.jsonl")] != [] and all(
        r["input"].startswith("file:///") for r in rows(out / "manifest.jsonl")
    )
    expected = {name: pixels for name, pixels in outputs(first[0]).items() if name < "shot-003"}
    assert same_pixels(outputs(out), expected)


def test_a_photo_that_keeps_killing_its_worker_gets_an_error_row(tmp_path: Path) -> None:
    worker = _Replay(rc.dumps(white_square()), Settings(), CLASSIC, attempts=None)  # type: ignore[arg-type]
    item = Item(source=str(tmp_path / "a.png"), target=str(tmp_path / "out.png"))
    row = worker._replay(item, tries=MAX_RETRIES + 2)
    assert row.status == "error" and f"died {MAX_RETRIES + 1} times" in row.error and row.outputs == ()
    attempts = _Attempts()  # counts a photo's starts: a finished photo is forgotten
    assert [attempts.begin("a.png"), attempts.begin("a.png"), attempts.begin("b.png")] == [1, 2, 1]
    attempts.finish("a.png")
    assert attempts.begin("a.png") == 1 and attempts.counts == {"a.png": 1, "b.png": 1}


def test_a_gpu_is_asked_for_only_when_a_model_runs() -> None:
    diffusion = rc.Recipe((rc.ColorRange(color=(1, 2, 3)), rc.Remove(engine="diffusion")))
    assert _needs_gpu(diffusion, Settings(), CLASSIC)
    assert not _needs_gpu(diffusion, Settings(device="cpu"), CLASSIC)
    assert not _needs_gpu(white_square(), Settings(), ("auto", "diffusion"))  # a solid fill runs no engine
    prompt = rc.Recipe(
        (rc.ColorRange(color=(1, 2, 3)), rc.ReplaceBackground(fill=PromptBackground(Prompting("a beach"))))
    )
    assert _needs_gpu(prompt, Settings(), ("auto", "diffusion"))
    assert not _needs_gpu(prompt, Settings(), CLASSIC)
