"""Click-to-mask time of the classical selector on a 1 MP photo, beside plain ``cv2.grabCut``.

Run from the repository root: ``flock -x /tmp/stencil-bench.lock python3 -m bench.select_classic``. Uses a photo from
``../shared/datasets/photos`` when present (resized to 1 MP), else a synthetic one. The
classical figure is one click on a prepared photo (``select``), plus ``prepare`` once; the
baseline is ``cv2.grabCut`` with a rectangle, 5 iterations, on the same photo.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

# replace the script folder on the path: bench/select.py would shadow the stdlib module `select`
sys.path[0] = str(Path(__file__).resolve().parents[1])

from pipeline.select.classic.selector import ClassicSelector  # noqa: E402
from pipeline.types import Point  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "photos"
REPEATS = 7


def photo_1mp() -> tuple[np.ndarray, str]:
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
    scale = np.sqrt(1_000_000 / (h * w))
    image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return image, source


def median_ms(run) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    import cv2

    image, source = photo_1mp()
    h, w = image.shape[:2]
    selector = ClassicSelector()
    prepare_ms = median_ms(lambda: selector.prepare(image))
    prepared = selector.prepare(image)
    click = [Point(w / 2, h / 2)]
    select_ms = median_ms(lambda: selector.select(prepared, click))
    first = selector.select(prepared, click)
    second = [*click, Point(w / 4, h / 4, positive=False)]
    correct_ms = median_ms(lambda: selector.select(prepared, second, None, first))
    rect = (w // 8, h // 8, 3 * w // 4, 3 * h // 4)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)

    def grabcut() -> None:
        mask = np.zeros((h, w), np.uint8)
        cv2.grabCut(bgr, mask, rect, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)

    grabcut_ms = median_ms(grabcut)
    print(f"photo: {source} resized to {w}x{h} ({w * h / 1e6:.2f} MP), median of {REPEATS}")
    print(f"classic prepare (once per photo): {prepare_ms:.0f} ms")
    print(f"classic first click (select):     {select_ms:.0f} ms")
    print(f"classic correction click:         {correct_ms:.0f} ms")
    print(f"cv2.grabCut rect, 5 iterations:   {grabcut_ms:.0f} ms")


if __name__ == "__main__":
    main()
