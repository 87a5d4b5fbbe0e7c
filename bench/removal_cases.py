"""The removal benchmark's cases (``bench/removal.py``): objects pasted on real photos, and the
inpainting samples' mask shapes moved off the objects they were drawn around, each with its truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
PHOTOS = [
    "hope-image-preview/scene_0001/0000_rgb.jpg",
    "segment-anything/truck.jpg",
    "hope-image-preview/scene_0005/0000_rgb.jpg",
    "segment-anything/dogs.jpg",
    "scikit-image/coffee.png",
    "pymatting-lemur/lemur.png",
    "segment-anything/groceries.jpg",
    "scikit-image/astronaut.png",
    "hope-image-preview/scene_0008/0000_rgb.jpg",
    "scikit-image/chelsea.png",
]
SHAPES = ["GT02", "GT04", "GT13", "GT23", "GT07"]


@dataclass(frozen=True)
class Case:
    name: str
    truth: np.ndarray
    image: np.ndarray
    hole: np.ndarray
    half: str


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def silhouette(name: str, height_px: int) -> np.ndarray:
    import cv2

    alpha = cv2.imread(str(DATASETS / "alphamatting" / "alpha" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    ys, xs = np.nonzero(alpha > 127)
    shape = alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = height_px / shape.shape[0]
    return cv2.resize(shape, (max(1, int(shape.shape[1] * scale)), height_px)) > 127


def paste(truth: np.ndarray, shape: np.ndarray, at: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(photo with the object in flat green, bool hole)."""
    h, w = truth.shape[:2]
    hole = np.zeros((h, w), bool)
    y0, x0 = int((h - shape.shape[0]) * at[1]), int((w - shape.shape[1]) * at[0])
    hole[y0 : y0 + shape.shape[0], x0 : x0 + shape.shape[1]] = shape[: h - y0, : w - x0]
    image = truth.copy()
    image[hole] = (40, 200, 60)
    return image, hole


def moved_hole(mask: np.ndarray, *, step_px: int = 8, gap_px: int = 12) -> np.ndarray:
    """The largest region of ``mask`` moved to the nearest place ``gap_px`` clear of all of ``mask``.

    The shape is shifted on a ``step_px`` grid, whole and inside the photo; when no place is free
    it is shrunk by 0.8 and tried again. Deterministic (nearest shift, scan order on ties).
    """
    import cv2

    h, w = mask.shape
    size = 2 * gap_px + 1
    taken = cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    ys, xs = np.nonzero(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))
    shape = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))[
        ys.min() : ys.max() + 1, xs.min() : xs.max() + 1
    ]
    y0, x0 = int(ys.min()), int(xs.min())
    for _ in range(10):
        sh, sw = shape.shape
        best: tuple[int, int, int] | None = None
        for ny in range(0, h - sh + 1, step_px):
            for nx in range(0, w - sw + 1, step_px):
                distance = (ny - y0) ** 2 + (nx - x0) ** 2
                if (best is None or distance < best[0]) and not (taken[ny : ny + sh, nx : nx + sw] & shape).any():
                    best = (distance, ny, nx)
        if best is not None:
            out = np.zeros_like(mask, dtype=bool)
            out[best[1] : best[1] + sh, best[2] : best[2] + sw] = shape
            return out
        shape = cv2.resize(shape.astype(np.uint8), (max(1, int(sw * 0.8)), max(1, int(sh * 0.8))),
                           interpolation=cv2.INTER_NEAREST) > 0  # fmt: skip
    raise ValueError("the mask leaves no free place for its shape")


def cases(*, object_holes: bool = False) -> list[Case]:
    import cv2

    out = []
    spots = [(0.3, 0.5), (0.6, 0.35), (0.45, 0.7), (0.7, 0.6), (0.25, 0.3)]
    for i, name in enumerate(PHOTOS):
        truth = read_rgb(DATASETS / "photos" / name)
        image, hole = paste(truth, silhouette(SHAPES[i % len(SHAPES)], int(truth.shape[0] * 0.35)), spots[i % 5])
        out.append((f"pasted {Path(name).parent.name}/{Path(name).stem}", truth, image, hole))
    folder = DATASETS / "photos" / "latent-diffusion-inpainting"
    for mask_path in sorted(folder.glob("*_mask.png")):
        truth = read_rgb(folder / mask_path.name.replace("_mask", ""))
        hole = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) >= 128
        if not object_holes:
            hole = moved_hole(hole)
        image = truth.copy()
        image[hole] = 127
        out.append((f"hole {mask_path.stem[:-5][:18]}", truth, image, hole))
    return [Case(n, t, im, h, "tune" if i % 2 == 0 else "held-out") for i, (n, t, im, h) in enumerate(out)]
