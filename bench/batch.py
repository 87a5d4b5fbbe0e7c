"""Benchmark of a catalogue run: photos/s of ``stencil apply`` on a folder, one process beside
``--workers 2`` and Ray, and its peak memory as the catalogue grows.

    flock -x /tmp/stencil-bench.lock python3 -m bench.batch                       # everything (~10 min)
    python3 -m bench.batch --photos 40 --skip-ray --skip-memory                   # a quick look

1. **Throughput**: ``--photos`` synthetic product shots of about 2 MP (1632x1224: a coloured
   product with a highlight on a light, slightly noisy backdrop, as PNG) through the catalogue
   recipe: backdrop by colour, inverted, holes filled, 1.5 px feather, white background with a
   soft shadow, a 2000x2000 square canvas. Timed in one run, each on a fresh output folder:
   one process (``run_local(workers=1)``, the baseline: the recipe photo by photo, models loaded
   once), ``--workers 2`` (the process pool; its start-up included) and ``--ray`` (a local Ray
   started with ``ray.init(num_cpus=2)``; its start-up timed apart and included in the figure).
   Targets: workers 2 >= 1.7x one process; Ray >= 1.5x.
2. **Memory**: ``stencil apply`` (``--workers 2``) as a subprocess on 500 and then 5,000 small
   photos (160x120; the same recipe without the square canvas), its peak RSS (the process and
   its children, sampled every 0.1 s). Target: flat (the run streams: a photo list, never the
   pictures, stays in memory).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds a select.py that would shadow the standard library's select module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import psutil  # noqa: E402

from pipeline import recipe as rc  # noqa: E402
from pipeline.edits.background import Shadow, SolidColor  # noqa: E402
from pipeline.recipe.batch import Manifest, plan  # noqa: E402
from pipeline.recipe.pool import run_local  # noqa: E402

MB = 1024 * 1024
CLASSIC = ("auto", "classic")


def catalogue_recipe() -> rc.Recipe:
    return rc.Recipe(
        (
            rc.ColorRange(color=(232, 232, 232), tolerance=12.0),
            rc.Refine(invert=True, fill_holes=True, min_speck_px=200, feather_px=1.5),
            rc.ReplaceBackground(fill=SolidColor((255, 255, 255)), shadow=Shadow(kind="contact")),
            rc.Output(canvas=(2000, 2000), subject_share=0.85),
        )
    )


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> Path:
    """``count`` product shots of ``size`` (width, height): a product that moves and changes colour."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    rng = np.random.default_rng(1)
    backdrop = np.clip(232 + rng.normal(0, 1.5, (height, width, 3)), 0, 255).astype(np.uint8)
    for index in range(count):
        image = backdrop.copy()
        centre = (width // 2 + (index * 37) % (width // 5) - width // 10, height // 2)
        axes = (width // 6, height // 3)
        colour = tuple(int(c) for c in rng.integers(20, 200, 3))
        cv2.ellipse(image, centre, axes, 0, 0, 360, colour, -1, cv2.LINE_AA)
        cv2.ellipse(image, (centre[0] - axes[0] // 3, centre[1] - axes[1] // 3), (axes[0] // 6, axes[1] // 8),
                    0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)  # fmt: skip
        cv2.imwrite(str(folder / f"p{index:05d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fmt: skip
    return folder


def throughput(photos: Path, work: Path, *, ray: bool) -> dict[str, float]:
    """Photos/s of one process, two workers and (optionally) Ray, on the same photos."""
    recipe = catalogue_recipe()
    figures: dict[str, float] = {}
    for name, workers in (("one process", 1), ("--workers 2", 2)):
        out = work / name.replace(" ", "-")
        items = plan(photos, out, recipe)
        started = time.perf_counter()
        summary = run_local(recipe, items, Manifest(out / "manifest.jsonl"), workers=workers, kinds=CLASSIC)
        figures[name] = summary.done / (time.perf_counter() - started)
        assert summary.failed == 0, summary.failures[:1]
    if ray:
        import ray as ray_module

        from pipeline.recipe.ray_batch import run_ray

        started = time.perf_counter()
        ray_module.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        figures["ray start-up s"] = time.perf_counter() - started
        out = work / "ray"
        items = plan(photos, out, recipe)
        begun = time.perf_counter()
        summary = run_ray(recipe, items, Manifest(out / "manifest.jsonl"), address="local", kinds=CLASSIC)
        figures["--ray"] = summary.done / (time.perf_counter() - begun + figures["ray start-up s"])
        assert summary.failed == 0, summary.failures[:1]
        ray_module.shutdown()
    return figures


SIZES = {"1 MP": (1152, 864), "4 MP": (2304, 1728), "12 MP": (4000, 3000)}


def edit_kinds() -> dict[str, rc.Recipe]:
    """The edits of the sizing table, each after the same backdrop-by-colour mask."""
    from pipeline.edits.background import BlurredOriginal

    mask = catalogue_recipe().steps[:2]
    return {
        "white + shadow + square": catalogue_recipe(),
        "blurred background": rc.Recipe((*mask, rc.ReplaceBackground(fill=BlurredOriginal(24.0)))),
        "remove (classical)": rc.Recipe((mask[0], rc.Refine(fill_holes=True), rc.Remove(engine="classic"))),
    }


def costs(work: Path, per_size: int) -> dict[tuple[str, str], float]:
    """Seconds a photo, one process, for every edit kind and photo size (median of ``per_size``)."""
    from pipeline.recipe.batch import make_engines, process, recipe_sha256
    from pipeline.settings import Settings

    engines = make_engines(Settings(), CLASSIC)
    measured = {}
    for size_name, size in SIZES.items():
        photos = make_photos(work / f"cost-{size_name.replace(' ', '')}", per_size + 1, size)
        for kind, recipe in edit_kinds().items():
            items = plan(photos, work / "cost-out", recipe)
            (work / "cost-out").mkdir(exist_ok=True)
            process(recipe, items[0], engines, "warm")  # first photo: imports and caches
            seconds = []
            for item in items[1:]:
                row = process(recipe, item, engines, recipe_sha256(recipe))
                assert row.status == "ok", row.error
                seconds.append(row.seconds)
            measured[(kind, size_name)] = float(np.median(seconds))
            print(f"  {kind:26} {size_name:6} {measured[(kind, size_name)]:6.2f} s a photo "
                  f"= {1 / measured[(kind, size_name)]:5.2f} photos/s a core", flush=True)  # fmt: skip
    return measured


def peak_rss(command: list[str]) -> tuple[float, float]:
    """Run ``command``; its peak RSS (MB, with children) and how long it took (s)."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        root = psutil.Process(process.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()) / MB)
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    watcher.start()
    code = process.wait()
    stop.set()
    watcher.join()
    if code != 0:
        raise SystemExit(f"{' '.join(command)} exited with {code}")
    return peak[0], time.perf_counter() - started


def memory(work: Path, counts: tuple[int, ...]) -> list[tuple[int, float, float]]:
    recipe_path = work / "recipe.json"  # no 2000x2000 canvas here: many small photos, fast
    recipe_path.write_text(rc.dumps(rc.Recipe(catalogue_recipe().steps[:3])))
    measured = []
    for count in counts:
        photos = make_photos(work / f"small-{count}", count, (160, 120))
        out = work / f"small-out-{count}"
        command = [sys.executable, "-m", "pipeline.cli", "apply", str(recipe_path), str(photos), "-o", str(out),
                   "--workers", "2", "--engine", "classic"]  # fmt: skip
        peak, seconds = peak_rss(command)
        measured.append((count, peak, seconds))
        print(f"  {count:5d} small photos: peak RSS {peak:7.0f} MB in {seconds:5.1f} s", flush=True)
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--small", type=int, nargs="+", default=[500, 5000], help="catalogue sizes for the memory part")
    parser.add_argument("--costs", type=int, default=0, metavar="N", help="also time N photos of each kind and size")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="stencil-bench-batch-") as tmp:
        work = Path(tmp)
        print(f"{os.cpu_count()} cores, load average {load:.2f}; making {args.photos} photos of 1632x1224", flush=True)
        photos = make_photos(work / "photos", args.photos, (1632, 1224))
        figures = throughput(photos, work, ray=not args.skip_ray)
        base = figures["one process"]
        print("\n1. throughput (white background + shadow + 2000x2000 square)")
        for name in ("one process", "--workers 2", "--ray"):
            if name in figures:
                target = {"--workers 2": " (target >= 1.7x)", "--ray": " (target >= 1.5x, Ray start-up included)"}
                print(f"  {name:12} {figures[name]:6.2f} photos/s  {figures[name] / base:4.2f}x{target.get(name, '')}")
        if "ray start-up s" in figures:
            print(f"  (Ray start-up: {figures['ray start-up s']:.1f} s)")
        if not args.skip_memory:
            print("\n2. peak memory of `stencil apply --workers 2` as the catalogue grows")
            measured = memory(work, tuple(args.small))
            if len(measured) >= 2:
                growth = measured[-1][1] - measured[0][1]
                print(f"  growth from {measured[0][0]} to {measured[-1][0]} photos: {growth:+.0f} MB (target: flat)")
        if args.costs:
            print("\n3. seconds a photo, one process, by edit and size (for docs/SCALE.md)")
            costs(work, args.costs)
        print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
