"""The classical subject extractor, zero clicks: IoU on GrabCut and the examples, and its speed.

Run from the repository root: ``flock -x /tmp/stencil-bench.lock python3 -m bench.subject``
(``--quick``: the shipped settings only, no k-fold; ``--part quality|speed``: one half; the IoU
figures do not depend on the machine's load, the timing does).

- **GrabCut** (``../shared/datasets/grabcut``, 30 photos; skipped when absent): settings are
  chosen by 5-fold cross-validation over a small grid (each fold picks the best mean IoU on the
  other 24 photos); the figures are each photo's IoU *in its held-out fold*, the 128 band
  ignored. The shipped defaults (``SubjectTuning()``) are then scored on all 30 for reference.
- **Examples** (``examples/photos``, ten product photos, never tuned on): IoU against the true
  mask thresholded at 0.5, with the shipped defaults.
- **Speed**: ``find_subject`` on a 1 MP copy of ``mug_paper.jpg``, median of 7, beside plain
  ``cv2.grabCut`` (a rectangle 5% in from the border, 5 iterations) on the same photo (once: it is slow).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[1])  # bench/select.py would shadow the stdlib `select`

from pipeline.select.subject.classic import SubjectTuning, clean, cut, find_subject, working_copy  # noqa: E402
from pipeline.select.subject.upsample import guided_upsample  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRABCUT = ROOT.parent / "shared" / "datasets" / "grabcut"
EXAMPLES = ROOT / "examples" / "photos"
FOLDS = 5
CUT_GRID = {"centre_weight": (2.0, 3.0), "prior_threshold": (0.6, 0.9, 1.2), "backdrop_saliency": (0.45, 0.6, 1.0)}
CLEAN_GRID = {"min_region_share": (0.05, 0.3, 1.0), "max_hole_share": (0.0, 0.03, 1.0)}
PRODUCT_CLEAN = {"min_region_share": 0.05, "max_hole_share": 1.0}
"""The shipped clean-up, fixed for product photos: keep every sizeable region (a catalogue shot may
show several products) and fill every hole (a label the colour of the backdrop is still product)."""


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def iou(found: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    union = ((found | truth) & valid).sum()
    return float(((found & truth) & valid).sum() / union) if union else 1.0


def grabcut_photos() -> list[tuple[str, np.ndarray, np.ndarray]]:
    photos = []
    for path in sorted((GRABCUT / "images").iterdir()):
        truth = cv2.imread(str(GRABCUT / "masks" / f"{path.stem}.png"), cv2.IMREAD_GRAYSCALE)
        photos.append((path.name, read_rgb(path), truth))
    return photos


def settings_grid() -> list[SubjectTuning]:
    grid = {**CUT_GRID, **CLEAN_GRID}
    return [
        replace(SubjectTuning(), **dict(zip(grid, values, strict=True))) for values in itertools.product(*grid.values())
    ]


def score_table(photos: list[tuple[str, np.ndarray, np.ndarray]], grid: list[SubjectTuning]) -> np.ndarray:
    """IoU of every setting (rows) on every photo (columns); a cut is shared by its clean-up variants."""
    table = np.zeros((len(grid), len(photos)))
    for column, (_, image, truth) in enumerate(photos):
        small = working_copy(image, SubjectTuning().work_side_px)
        cuts: dict[tuple[float, ...], np.ndarray] = {}
        for row, tuning in enumerate(grid):
            key = tuple(getattr(tuning, name) for name in CUT_GRID)
            if key not in cuts:
                cuts[key] = cut(small, tuning)
            found = guided_upsample(clean(cuts[key], tuning).astype(np.float32), image) > 0.5
            table[row, column] = iou(found, truth == 255, truth != 128)
    return table


def cross_validate(photos: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    grid = settings_grid()
    table = score_table(photos, grid)
    k_fold(photos, grid, table, "every setting free")
    product = [row for row, t in enumerate(grid) if all(getattr(t, k) == v for k, v in PRODUCT_CLEAN.items())]
    k_fold(photos, [grid[row] for row in product], table[product], "clean-up fixed to the shipped product clean-up")
    shipped = next((row for row, tuning in enumerate(grid) if tuning == SubjectTuning()), None)
    if shipped is not None:
        print(f"shipped SubjectTuning() on all 30 (tuned on them; not a held-out figure): {table[shipped].mean():.3f}")


def k_fold(
    photos: list[tuple[str, np.ndarray, np.ndarray]], grid: list[SubjectTuning], table: np.ndarray, what: str
) -> None:
    held_out = np.zeros(len(photos))
    print(f"GrabCut, {len(photos)} photos, {FOLDS}-fold cross-validation over {len(grid)} settings ({what})")
    for fold in range(FOLDS):
        test = np.arange(len(photos)) % FOLDS == fold
        best = int(np.argmax(table[:, ~test].mean(axis=1)))
        held_out[test] = table[best, test]
        chosen = ", ".join(f"{name}={getattr(grid[best], name):g}" for name in (*CUT_GRID, *CLEAN_GRID))
        train, held = table[best, ~test].mean(), held_out[test].mean()
        print(f"  fold {fold + 1}: chose {chosen}; train {train:.3f}, held out {held:.3f}")
    for (name, _, _), value in zip(photos, held_out, strict=True):
        print(f"  {name:14s} held-out IoU {value:.3f}{'   (below 0.5)' if value < 0.5 else ''}")
    print(f"GrabCut held-out mIoU ({what}): {held_out.mean():.3f}")
    best_all = int(np.argmax(table.mean(axis=1)))
    chosen = ", ".join(f"{name}={getattr(grid[best_all], name):g}" for name in (*CUT_GRID, *CLEAN_GRID))
    print(f"best on all 30 (what ships; not a held-out figure): {chosen}, mIoU {table[best_all].mean():.3f}")


def examples() -> None:
    scores = []
    for path in sorted(EXAMPLES.glob("*.jpg")):
        truth = cv2.imread(str(path.with_suffix(".mask.png")), cv2.IMREAD_GRAYSCALE) >= 128
        found = find_subject(read_rgb(path)) > 0.5
        scores.append(iou(found, truth, np.ones_like(truth)))
        print(f"  {path.stem:18s} IoU {scores[-1]:.3f}")
    print(f"examples mIoU: {statistics.mean(scores):.3f} ({len(scores)} photos, shipped settings)")


def median_ms(run, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def speed() -> None:
    image = read_rgb(EXAMPLES / "mug_paper.jpg")
    h, w = image.shape[:2]
    scale = np.sqrt(1_000_000 / (h * w))
    image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    rect = (w // 20, h // 20, w - w // 10, h - h // 10)

    def grabcut() -> None:
        cv2.grabCut(
            bgr, np.zeros((h, w), np.uint8), rect, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT
        )

    ours = median_ms(lambda: find_subject(image))
    baseline = median_ms(grabcut, repeats=1)
    print(f"speed on mug_paper.jpg resized to {w}x{h} ({w * h / 1e6:.2f} MP), median:")
    print(f"  find_subject (classical, zero clicks): {ours:.0f} ms")
    print(f"  cv2.grabCut, rectangle, 5 iterations:  {baseline:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shipped settings only: no k-fold")
    parser.add_argument("--part", choices=("all", "quality", "speed"), default="all", help="what to measure")
    args = parser.parse_args()
    quick = args.quick
    if args.part == "speed":
        speed()
        return
    if not (GRABCUT / "images").is_dir():
        print(f"skipping GrabCut: {GRABCUT} is not here")
    elif quick:
        table = score_table(grabcut_photos(), [SubjectTuning()])
        print(f"GrabCut mIoU, shipped settings (tuned on these photos): {table.mean():.3f}")
    else:
        cross_validate(grabcut_photos())
    examples()
    if args.part == "all":
        speed()


if __name__ == "__main__":
    main()
