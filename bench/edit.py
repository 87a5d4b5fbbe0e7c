"""Benchmark of the edit operations: removal quality and speed, soft-edge compositing.

    flock -x /tmp/stencil-bench.lock python3 -m bench.edit            # everything (a few minutes)
    python3 -m bench.edit --skip-12mp                                 # without the slow 12 MP Telea runs

Removal: objects (silhouettes from the alphamatting true alphas, thresholded at 0.5) are
pasted in flat green onto backgrounds whose truth is known: real photos from
``../shared/datasets/photos`` and synthetic textures. The hole is filled by the classical
engine and by ``cv2.inpaint`` Telea (radius 5) in the same run; PSNR is measured inside the hole
against the true background. The 12 MP case upscales a 1920x1080 photo (its central 1440x1080,
4:3) to 4000x3000 with bicubic interpolation and removes an object covering about 13% of it.

Soft edges: on ``../shared/datasets/alphamatting``, the true alpha thresholded at 0.5 (a hard
mask) is refined with ``matting.refine_edge`` and composited with decontaminated colours
(``matting.estimate_foreground``) onto a new background. The reference composites the same
background with the TRUE alpha and the foreground pymatting estimates from it
(``estimate_foreground_ml``). Reported: SAD of alpha (sum |a - a_true| / 1000) and the mean
absolute colour error (0..255) over the trimap's unknown band, for the hard mask and the refined edge.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds a select.py that would shadow the standard library's select module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.removal_cases import read_rgb, silhouette  # noqa: E402 - after the path fix
from pipeline.edits.remove import remove  # noqa: E402
from pipeline.inpaint.classic import ClassicInpainter  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
PHOTOS = [
    "hope-image-preview/scene_0001/0000_rgb.jpg",
    "hope-image-preview/scene_0005/0000_rgb.jpg",
    "segment-anything/truck.jpg",
    "segment-anything/dogs.jpg",
    "scikit-image/coffee.png",
    "scikit-image/astronaut.png",
]
SHAPES = ["GT02", "GT04", "GT13", "GT23"]


def paste(background: np.ndarray, shape: np.ndarray, at: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(image with the object in flat green, float32 mask of the object)."""
    h, w = background.shape[:2]
    mask = np.zeros((h, w), np.float32)
    y0 = int((h - shape.shape[0]) * at[1])
    x0 = int((w - shape.shape[1]) * at[0])
    mask[y0 : y0 + shape.shape[0], x0 : x0 + shape.shape[1]] = shape[: h - y0, : w - x0]
    image = background.copy()
    image[mask > 0] = (40, 200, 60)
    return image, mask


def psnr(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    error = np.mean((result[hole].astype(np.float64) - truth[hole].astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(error, 1e-9)))


def texture(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "waves":
        out = np.stack([128 + 70 * np.sin(xs / 37), 128 + 60 * np.cos(ys / 51), 128 + 50 * np.sin((xs + ys) / 83)], -1)
    else:  # smooth noise: several octaves of upscaled random fields
        out = np.zeros((h, w, 3), np.float32)
        for octave in (8, 32, 128):
            field = rng.normal(0, 1, (h // octave + 2, w // octave + 2, 3)).astype(np.float32)
            out += 40 * cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC)
        out += 128
    out += rng.normal(0, 4, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def run_removal(image: np.ndarray, mask: np.ndarray, truth: np.ndarray, *, repeats: int = 1, telea: bool = True):
    hole = mask > 0
    engine = ClassicInpainter()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ours = remove(image, mask, engine, grow_px=0).image
        times.append(time.perf_counter() - start)
    row = {"ours_psnr": psnr(ours, truth, hole), "ours_s": statistics.median(times)}
    if telea:
        start = time.perf_counter()
        theirs = cv2.inpaint(image, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
        row |= {"telea_psnr": psnr(theirs, truth, hole), "telea_s": time.perf_counter() - start}
    return row


def removal_table(skip_12mp: bool) -> None:
    rng = np.random.default_rng(7)
    print("\n### Removal: PSNR inside the hole (dB) and time (s), classical engine vs cv2.inpaint Telea\n")
    print("| background | size | hole | ours PSNR | Telea PSNR | ours s | Telea s |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    cases = [(name, read_rgb(DATASETS / "photos" / name)) for name in PHOTOS]
    cases += [(f"synthetic {k}", texture(k, 1080, 1440, rng)) for k in ("waves", "noise")]
    for label, truth in cases:
        h, w = truth.shape[:2]
        for i, shape_name in enumerate(SHAPES):
            shape = silhouette(shape_name, int(h * 0.4))
            image, mask = paste(truth, shape, ((0.3, 0.5, 0.7, 0.4)[i], (0.5, 0.3, 0.6, 0.7)[i]))
            row = run_removal(image, mask, truth)
            rows.append(row)
            print(f"| {label} | {w}x{h} | {shape_name} {100 * (mask > 0).mean():.0f}% | {row['ours_psnr']:.2f} | "
                  f"{row['telea_psnr']:.2f} | {row['ours_s']:.3f} | {row['telea_s']:.3f} |", flush=True)  # fmt: skip
    mean = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
    print(f"| **mean of {len(rows)}** | | | **{mean['ours_psnr']:.2f}** | **{mean['telea_psnr']:.2f}** | "
          f"{mean['ours_s']:.3f} | {mean['telea_s']:.3f} |")  # fmt: skip
    if skip_12mp:
        return
    print("\n### Removal at 12 MP (4000x3000, upscaled photo / synthetic texture; ours: median of 5 runs)\n")
    print("| background | hole | ours PSNR | Telea PSNR | ours s | Telea s | speed-up |")
    print("|---|---|---|---|---|---|---|")
    photo = read_rgb(DATASETS / "photos" / "hope-image-preview/scene_0001/0000_rgb.jpg")[:, 240:1680]
    big_cases = [("HOPE scene_0001 upscaled", cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_CUBIC)),
                 ("synthetic noise", texture("noise", 3000, 4000, rng))]  # fmt: skip
    for label, truth in big_cases:
        image, mask = paste(truth, silhouette("GT04", 1500), (0.5, 0.5))
        row = run_removal(image, mask, truth, repeats=5)
        hole = f"{(mask > 0).sum() / 1e6:.2f} MP ({100 * (mask > 0).mean():.0f}%)"
        print(f"| {label} | {hole} | {row['ours_psnr']:.2f} | "
              f"{row['telea_psnr']:.2f} | {row['ours_s']:.2f} | {row['telea_s']:.1f} | "
              f"{row['telea_s'] / row['ours_s']:.1f}x |", flush=True)  # fmt: skip


def edges_table() -> None:
    from PIL import Image as PILImage
    from pymatting import estimate_foreground_ml

    from pipeline.edits.matting import estimate_foreground, refine_edge

    folder = DATASETS / "alphamatting"
    new_background = read_rgb(DATASETS / "photos" / "hope-image-preview/scene_0002/0000_rgb.jpg")
    print("\n### Soft edges on alphamatting (hard = true alpha >= 0.5; refined = guided edge + decontamination)\n")
    print("| image | SAD hard | SAD refined | colour err hard | colour err refined | refine s |")
    print("|---|---|---|---|---|---|")
    rows = []
    for path in sorted((folder / "images").glob("*.png")):
        image = read_rgb(path)
        truth = cv2.imread(str(folder / "alpha" / path.name), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
        unknown = np.asarray(PILImage.open(folder / "trimaps" / path.name).convert("L"))
        band = (unknown > 0) & (unknown < 255)
        plate = cv2.resize(new_background, image.shape[1::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
        true_fg = estimate_foreground_ml(image / 255.0, truth.astype(np.float64)) * 255.0
        reference = truth[..., None] * true_fg + (1 - truth[..., None]) * plate
        hard = (truth >= 0.5).astype(np.float32)
        start = time.perf_counter()
        soft = refine_edge(image, hard)
        fg = estimate_foreground(image, soft).astype(np.float32)
        seconds = time.perf_counter() - start
        composite_hard = hard[..., None] * image + (1 - hard[..., None]) * plate
        composite_soft = soft[..., None] * fg + (1 - soft[..., None]) * plate
        row = (
            np.abs(hard - truth).sum() / 1000,
            np.abs(soft - truth).sum() / 1000,
            np.abs(composite_hard - reference)[band].mean(),
            np.abs(composite_soft - reference)[band].mean(),
            seconds,
        )
        rows.append(row)
        print(f"| {path.stem} | {row[0]:.2f} | {row[1]:.2f} | {row[2]:.2f} | {row[3]:.2f} | {row[4]:.2f} |", flush=True)
    mean = np.mean(rows, axis=0)
    cells = " | ".join(f"**{v:.2f}**" for v in mean[:4])
    print(f"| **mean** | {cells} | {mean[4]:.2f} |")
    print(f"\nSAD {100 * (1 - mean[1] / mean[0]):.0f}% lower, colour error {100 * (1 - mean[3] / mean[2]):.0f}% lower "
          "than the hard mask.")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-12mp", action="store_true", help="leave out the 12 MP case (slow Telea)")
    parser.add_argument("--only", choices=("removal", "edges"), default=None)
    args = parser.parse_args()
    if not DATASETS.is_dir():
        print(f"skipped: {DATASETS} is absent (the benchmark needs the shared datasets)")
        return 0
    cv2.setNumThreads(2)
    print(f"cv2 {cv2.__version__}, {cv2.getNumThreads()} threads")
    if args.only in (None, "removal"):
        removal_table(args.skip_12mp)
    if args.only in (None, "edges"):
        edges_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
