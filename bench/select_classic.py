"""Click-to-mask time of the classical selector on a 1 MP photo, beside the code it replaced.

Run from the repository root: ``flock -x /tmp/stencil-bench.lock python3 -m bench.select_classic``.
Uses a photo from ``../shared/datasets/photos`` when present (resized to 1 MP), else a synthetic
one. Figures: ``prepare`` once, a first click (``select``) and a correction click, medians of
``REPEATS``. The same timings run in a child process on the code of ``--baseline-ref`` (default
``main``, unpacked from git into a temporary folder), interleaved with this code's, so both see the
same machine load (two rounds, each side keeps its quieter one). ``--grabcut`` adds plain
``cv2.grabCut`` (rectangle, 5 iterations; ~20 s a run).
``--size`` picks another photo size in megapixels (e.g. 12).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# replace the script folder on the path: bench/select.py would shadow the stdlib module `select`;
# STENCIL_BENCH_CODE puts another tree's pipeline first (the baseline child process)
sys.path[0] = os.environ.get("STENCIL_BENCH_CODE", str(ROOT))

from pipeline.select.classic.selector import ClassicSelector  # noqa: E402
from pipeline.types import Point  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "datasets" / "photos"
REPEATS = 7


def photo(megapixels: float) -> tuple[np.ndarray, str]:
    import cv2

    candidates = sorted(PHOTOS.rglob("*.jpg")) if PHOTOS.is_dir() else []
    if candidates:
        image = cv2.cvtColor(cv2.imread(str(candidates[0])), cv2.COLOR_BGR2RGB)
        source = candidates[0].name
    else:
        rng = np.random.default_rng(0)
        image = np.clip(rng.normal(180, 20, (600, 800, 3)), 0, 255).astype(np.uint8)
        cv2.circle(image, (400, 300), 180, (200, 40, 30), -1)
        source = "synthetic"
    h, w = image.shape[:2]
    scale = np.sqrt(megapixels * 1e6 / (h * w))
    image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return image, source


def median_ms(run) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def click_times(image: np.ndarray) -> dict[str, float]:
    """Median ms of prepare, a first click and a correction click of the classical selector."""
    h, w = image.shape[:2]
    selector = ClassicSelector()
    prepared = selector.prepare(image)
    click = [Point(w / 2, h / 2)]
    first = selector.select(prepared, click)
    second = [*click, Point(w / 4, h / 4, positive=False)]
    return {
        "prepare": median_ms(lambda: selector.prepare(image)),
        "first click": median_ms(lambda: selector.select(prepared, click)),
        "correction click": median_ms(lambda: selector.select(prepared, second, None, first)),
    }


def baseline_times(ref: str, image_file: Path) -> dict[str, float]:
    """``click_times`` of the code at git ``ref``, in a child process."""
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "pipeline"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        out = subprocess.run(
            [sys.executable, "-m", "bench.select_classic", "--child", str(image_file)],
            cwd=ROOT, env={**os.environ, "STENCIL_BENCH_CODE": tree}, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return {k: float(v) for k, v in (line.split("=") for line in out.stdout.split())}


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", default="main", help="git ref of the code to time beside this one")
    parser.add_argument("--size", type=float, default=1.0, help="photo size in megapixels")
    parser.add_argument("--grabcut", action="store_true", help="also time plain cv2.grabCut (slow)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        times = click_times(np.load(args.child))
        print(" ".join(f"{k.replace(' ', '_')}={v:.1f}" for k, v in times.items()))
        return
    image, source = photo(args.size)
    h, w = image.shape[:2]
    with tempfile.TemporaryDirectory() as folder:
        image_file = Path(folder) / "photo.npy"
        np.save(image_file, image)
        runs = [(click_times(image), baseline_times(args.baseline_ref, image_file)) for _ in range(2)]
    # interleaved twice; each side keeps its quieter run
    new = {k: min(r[0][k] for r in runs) for k in runs[0][0]}
    old = {k: min(r[1][k] for r in runs) for k in runs[0][1]}
    print(f"photo: {source} resized to {w}x{h} ({w * h / 1e6:.2f} MP), median of {REPEATS}")
    for key in new:
        print(
            f"classic {key:17s} this code {new[key]:6.0f} ms   "
            f"{args.baseline_ref}: {old[key.replace(' ', '_')]:6.0f} ms"
        )
    if args.grabcut:
        rect = (w // 8, h // 8, 3 * w // 4, 3 * h // 4)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)

        def grabcut() -> None:
            mask = np.zeros((h, w), np.uint8)
            cv2.grabCut(bgr, mask, rect, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)

        print(f"cv2.grabCut rect, 5 iterations:   {median_ms(grabcut):.0f} ms")


if __name__ == "__main__":
    main()
