"""Mask engine speed: feather, grow/shrink, overlay, composite and the live preview.

Each operation is timed beside a plain baseline measured in the same run:
- feather: one ``cv2.GaussianBlur`` on float32 with the same sigma and border;
- grow / shrink: ``cv2.dilate`` / ``cv2.erode`` with an elliptical kernel of the same radius;
- overlay / composite: numpy float arithmetic;
- preview: full-resolution GaussianBlur, INTER_AREA resizes, numpy tint, the same encoder.

Run (reported figures under an exclusive lock, since the cores are shared):
    flock -x /tmp/stencil-bench.lock python3 -m bench.masks
Times are in ms: the median of ``--repeat`` runs (baselines: ``--baseline-repeat``), the best
run in brackets; the speedup compares medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import masks  # noqa: E402
from pipeline.masks import compose  # noqa: E402
from pipeline.masks.feather import BORDER  # noqa: E402

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

TINT = np.array(compose.DEFAULT_TINT, np.float32)


class Timing(float):
    """A median time in ms that remembers the best run (the cores are shared, so both matter)."""

    best: float

    def __new__(cls, times: list[float]) -> Timing:
        timing = super().__new__(cls, statistics.median(times))
        timing.best = min(times)
        return timing

    def __format__(self, spec: str) -> str:
        return f"{float(self):{spec}} ({self.best:{spec}})"


def timed(work: Callable[[], object], repeat: int) -> tuple[Timing, object]:
    """Wall time in ms over ``repeat`` runs (median, best), and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1e3)
    return Timing(times), result


def product_mask(height: int, width: int, *, blobs: int = 6) -> np.ndarray:
    """A product-like selection: a large outline with fine teeth, a thin handle, a few holes/blobs.

    ``blobs=40`` gives a busy mask (edges in most of the frame), the worst case for grow/shrink.
    """
    rng = np.random.default_rng(3)
    mask = np.zeros((height, width), np.uint8)
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    radius = min(height, width) * (0.3 + 0.02 * np.sin(angles * 40) + 0.01 * rng.standard_normal(720))
    star = np.stack([width * 0.45 + radius * np.cos(angles), height * 0.5 + radius * np.sin(angles)], axis=1)
    cv2.fillPoly(mask, [star.astype(np.int32)], 1)
    for _ in range(blobs):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(mask, centre, int(rng.integers(5, height // 12)), int(rng.integers(0, 2)), -1)
    cv2.line(mask, (width // 10, height // 10), (width * 9 // 10, height // 5), 1, 3)
    return mask.astype(np.float32)


def test_photo(height: int, width: int) -> tuple[np.ndarray, str]:
    """A real photo scaled to ``width x height`` if the shared datasets are here, else a synthetic one."""
    scene = DATASETS / "photos" / "hope-image-preview" / "scene_0000" / "0000_rgb.jpg"
    if scene.is_file():
        bgr = cv2.imread(str(scene))
        h, w = bgr.shape[:2]
        crop_w = min(w, h * width // height)
        bgr = bgr[:, (w - crop_w) // 2 : (w + crop_w) // 2]
        rgb = cv2.cvtColor(cv2.resize(bgr, (width, height), interpolation=cv2.INTER_CUBIC), cv2.COLOR_BGR2RGB)
        return rgb, f"HOPE scene_0000 photo (1920x1080 crop, cubic-upscaled to {width}x{height})"
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([180 + 50 * np.sin(xx / 700), 170 + 40 * np.cos(yy / 500), 160 + 30 * np.sin((xx + yy) / 900)], -1)
    base += rng.normal(0, 2, (height, width, 1)).astype(np.float32)
    return np.clip(base, 0, 255).astype(np.uint8), "synthetic gradient photo with noise (datasets absent)"


def numpy_overlay(image: np.ndarray, mask: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    alpha = (mask * opacity)[..., None]
    return np.rint(image * (1 - alpha) + TINT * alpha).astype(np.uint8)


def numpy_composite(fg: np.ndarray, bg: np.ndarray, mask: np.ndarray) -> np.ndarray:
    alpha = mask[..., None]
    return np.rint(fg * alpha + bg * (1 - alpha)).astype(np.uint8)


def baseline_preview(image: np.ndarray, mask: np.ndarray, feather_px: float, max_side: int, fmt: str) -> bytes:
    soft = cv2.GaussianBlur(mask, (0, 0), feather_px / 2, borderType=BORDER)
    scale = max_side / max(mask.shape)
    size = (round(mask.shape[1] * scale), round(mask.shape[0] * scale))
    small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(soft, size, interpolation=cv2.INTER_AREA)
    shown = cv2.cvtColor(numpy_overlay(small_image, small_mask), cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if fmt == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    return cv2.imencode(fmt, shown, params)[1].tobytes()


def row(name: str, ours_ms: float, base_ms: float, note: str = "") -> None:
    print(f"| {name} | {ours_ms:.1f} | {base_ms:.1f} | {float(base_ms) / float(ours_ms):.1f}x | {note} |")


def bench_mask_ops(side: int, repeat: int, baseline_repeat: int) -> None:
    mask, busy = product_mask(side, side), product_mask(side, side, blobs=40)
    image, _ = test_photo(side, side)
    print(f"\n{side}x{side} product mask ({side * side / 1e6:.1f} MP, {int(mask.sum())} px selected)\n")
    print("| operation | ours ms: median (best) | baseline ms | speedup | check |")
    print("|---|---:|---:|---:|---|")
    for radius in (4, 16, 64):
        ours_ms, ours = timed(lambda r=radius: masks.feather(mask, r), repeat)
        base_ms, base = timed(
            lambda r=radius: cv2.GaussianBlur(mask, (0, 0), r / 2, borderType=BORDER), baseline_repeat
        )
        error = float(np.abs(ours - base).max()) * 255
        row(f"feather {radius} px (sigma {radius / 2:g})", ours_ms, base_ms, f"max diff {error:.2f}/255")
    ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (33, 33))
    for label, subject in (("product", mask), ("busy, 40 blobs", busy)):
        for name, ours_op, base_op in (("grow", masks.grow, cv2.dilate), ("shrink", masks.shrink, cv2.erode)):
            ours_ms, ours = timed(lambda f=ours_op, m=subject: f(m, 16), repeat)
            base_ms, base = timed(lambda f=base_op, m=subject: f(m, ellipse), baseline_repeat)
            differ = int(np.count_nonzero(ours != base))
            row(f"{name} 16 px ({label})", ours_ms, base_ms, f"{differ} px differ: the ellipse is not the exact disc")
    soft = masks.feather(mask, 8)
    ours_ms, _ = timed(lambda: masks.grow(soft, 16), max(1, repeat // 3))
    base_ms, _ = timed(lambda: cv2.dilate(soft, ellipse), baseline_repeat)
    row("grow 16 px (soft product mask)", ours_ms, base_ms, "grey dilation by the exact disc")
    soft = masks.feather(mask, 16)
    ours_ms, ours = timed(lambda: compose.overlay(image, soft), repeat)
    base_ms, base = timed(lambda: numpy_overlay(image, soft), baseline_repeat)
    row("overlay (tint + outline)", ours_ms, base_ms, "baseline: tint only")
    background = np.ascontiguousarray(image[::-1])
    ours_ms, ours = timed(lambda: compose.composite(image, background, soft), repeat)
    base_ms, base = timed(lambda: numpy_composite(image, background, soft), baseline_repeat)
    differ = int(np.abs(ours.astype(int) - base).max())
    row("composite (soft mask)", ours_ms, base_ms, f"max diff {differ} level")


def bench_preview(repeat: int, baseline_repeat: int, max_side: int) -> None:
    height, width = 3000, 4000
    (image, source), mask = test_photo(height, width), product_mask(height, width)
    print(f"\nlive preview of a {width}x{height} photo, display <= {max_side} px; {source}\n")
    print("| operation | ours ms: median (best) | baseline ms | speedup | check |")
    print("|---|---:|---:|---:|---|")
    encoders = {".jpg": compose.encode_jpeg, ".png": compose.encode_png}
    for fmt, radius in ((".jpg", 16), (".jpg", 64), (".png", 16)):
        encode = encoders[fmt]
        ours_ms, data = timed(
            lambda r=radius, e=encode: e(compose.preview(image, mask, feather_px=r, max_side=max_side)), repeat
        )
        base_ms, _ = timed(lambda r=radius, f=fmt: baseline_preview(image, mask, r, max_side, f), baseline_repeat)
        row(f"preview + {fmt[1:].upper()}, feather {radius} px", ours_ms, base_ms, f"{len(data) / 1e6:.2f} MB")
    soft = masks.feather(mask, 16)
    small_image, small_mask = compose.fit_within(image, max_side), compose.fit_within(soft, max_side)
    shown = compose.overlay(small_image, small_mask)
    parts = {
        "feather 16 px at 12 MP": (lambda: masks.feather(mask, 16), "part of a preview"),
        "overlay at display size": (lambda: compose.overlay(small_image, small_mask), "part of a preview"),
        "encode_jpeg at display size": (lambda: compose.encode_jpeg(shown), "part of a preview"),
        "encode_png at display size": (lambda: compose.encode_png(shown), "part of a PNG preview"),
        "fit_within photo (pure INTER_AREA)": (lambda: compose.fit_within(image, max_side), "not used by preview"),
        "fit_within feathered mask": (lambda: compose.fit_within(soft, max_side), "not used by preview"),
    }
    for name, (work, note) in parts.items():
        ms, _ = timed(work, repeat)
        print(f"| ({name}) | {ms:.1f} | | | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=4096, help="mask side for the mask operations (px)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--baseline-repeat", type=int, default=1)
    parser.add_argument("--max-side", type=int, default=compose.PREVIEW_MAX_SIDE)
    parser.add_argument("--part", choices=("all", "ops", "preview"), default="all", help="what to time")
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads, numpy {np.__version__}, load average {load}")
    if args.part in ("all", "ops"):
        bench_mask_ops(args.side, args.repeat, args.baseline_repeat)
    if args.part in ("all", "preview"):
        bench_preview(args.repeat, args.baseline_repeat, args.max_side)


if __name__ == "__main__":
    main()
