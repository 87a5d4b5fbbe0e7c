"""Evaluation data for click selection, read or built at bench time from ``../shared/datasets``.

- ``grabcut()``: the 30 shared GrabCut photos with their truth and ignored band.
- ``upscaled(sample, pixels)``: a GrabCut sample blown up to about 12 MP, its truth made from a
  smooth (cubic) upscale of the signed distance to the boundary, so the true edge has no steps.
- ``cluttered(n)``: objects with exact alpha (the alphamatting set) pasted onto busy real photos
  (grocery shelves, street, dogs) among distractor objects cut from the GrabCut set; the target
  is pasted last, so its alpha is its exact visible mask. Nothing is written to disk.
- ``boundary_f``: boundary F-measure within a tolerance in pixels, at the mask's own size.

Nothing here is part of the product; every function returns nothing useful when the folder is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@dataclass(frozen=True)
class Sample:
    """One evaluation photo: RGB uint8 image, boolean truth and ignored pixels (same size)."""

    name: str
    image: np.ndarray
    truth: np.ndarray
    ignore: np.ndarray


def _rgb(path: Path) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def grabcut(root: Path = DATASETS / "grabcut") -> list[Sample]:
    """The shared GrabCut set (255 object, 128 ignored band), sorted by name; [] when absent."""
    import cv2

    if not (root / "images").is_dir():
        return []
    masks = {p.stem: p for p in (root / "masks").iterdir()}
    samples = []
    for path in sorted((root / "images").iterdir()):
        if path.stem not in masks:
            continue
        raw = cv2.imread(str(masks[path.stem]), cv2.IMREAD_GRAYSCALE)
        samples.append(Sample(path.stem, _rgb(path), raw > 200, (raw > 50) & (raw <= 200)))
    return samples


def middle_truth(sample: Sample) -> np.ndarray:
    """The truth with the ignored band split at its middle (each band pixel joins the nearer sure side)."""
    import cv2

    sure_bg = ~sample.truth & ~sample.ignore
    d_obj = cv2.distanceTransform((~sample.truth).astype(np.uint8), cv2.DIST_L2, 5)
    d_bg = cv2.distanceTransform((~sure_bg).astype(np.uint8), cv2.DIST_L2, 5)
    return sample.truth | (sample.ignore & (d_obj < d_bg))


def signed_distance(mask: np.ndarray) -> np.ndarray:
    """Positive inside, negative outside, in pixels (float32)."""
    import cv2

    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    return (inside - outside).astype(np.float32)


def upscaled(sample: Sample, pixels: float = 12e6) -> tuple[Sample, float]:
    """The sample at about ``pixels`` (cubic image, smooth truth, no ignored band) and the factor."""
    import cv2

    h, w = sample.truth.shape
    factor = float(np.sqrt(pixels / (h * w)))
    size = (round(w * factor), round(h * factor))
    image = cv2.resize(sample.image, size, interpolation=cv2.INTER_CUBIC)
    # a smoothed signed distance: the low-resolution mask's own pixel steps would otherwise be 9 px steps
    smooth = cv2.GaussianBlur(signed_distance(middle_truth(sample)) - 0.5, (0, 0), 1.0)
    distance = cv2.resize(smooth, size, interpolation=cv2.INTER_CUBIC)
    truth = distance >= 0
    return Sample(f"{sample.name}@{size[0]}x{size[1]}", image, truth, np.zeros_like(truth)), factor


def boundary_f(prediction: np.ndarray, truth: np.ndarray, tolerance: float = 2.0) -> float:
    """F-measure of the two masks' boundary pixels, each matched within ``tolerance`` px of the other's."""
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    edges = [cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_GRADIENT, kernel) > 0 for m in (prediction, truth)]
    edges = [e & m for e, m in zip(edges, (prediction, truth), strict=True)]  # inner boundary: one pixel wide
    if not edges[0].any() or not edges[1].any():
        return float(edges[0].any() == edges[1].any())
    far = [cv2.distanceTransform((~e).astype(np.uint8), cv2.DIST_L2, 5) for e in edges]
    precision = float(np.mean(far[1][edges[0]] <= tolerance))
    recall = float(np.mean(far[0][edges[1]] <= tolerance))
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _backgrounds() -> list[np.ndarray]:
    photos = DATASETS / "photos"
    paths = sorted((photos / "hope-image-preview").rglob("*_rgb.jpg")) + [
        photos / "segment-anything" / name for name in ("groceries.jpg", "truck.jpg", "dogs.jpg", "dog.jpg")
    ]
    return [_rgb(p) for p in paths if p.is_file()]


def _objects() -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
    """Targets (alphamatting, true alpha) and distractors (GrabCut cut-outs), each cropped to its alpha."""
    import cv2

    def crop(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ys, xs = np.nonzero(alpha > 0.05)
        return image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], alpha[
            ys.min() : ys.max() + 1, xs.min() : xs.max() + 1
        ]

    root = DATASETS / "alphamatting"
    targets = []
    if (root / "alpha").is_dir():
        for path in sorted((root / "alpha").iterdir()):
            alpha = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
            targets.append(crop(_rgb(root / "images" / path.name), alpha))
    distractors = []
    for sample in grabcut():
        soft = cv2.GaussianBlur(middle_truth(sample).astype(np.float32), (0, 0), 0.7)
        distractors.append(crop(sample.image, soft))
    return targets, distractors


def _paste(
    canvas: np.ndarray, image: np.ndarray, alpha: np.ndarray, area: float, rng: np.random.Generator, centre=None
):
    """Paste ``image`` scaled to cover about ``area`` of the canvas, centred near ``centre`` (x, y) or
    at a random place; return its full-size alpha."""
    import cv2

    ch, cw = canvas.shape[:2]
    h, w = alpha.shape
    fill = max(float(alpha.mean()), 0.05)
    scale = min(np.sqrt(area * ch * cw / (fill * h * w)), 0.9 * ch / h, 0.9 * cw / w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    if centre is None:
        y, x = int(rng.integers(0, ch - size[1] + 1)), int(rng.integers(0, cw - size[0] + 1))
    else:
        x = int(np.clip(centre[0] - size[0] // 2, 0, cw - size[0]))
        y = int(np.clip(centre[1] - size[1] // 2, 0, ch - size[1]))
    full = np.zeros((ch, cw), np.float32)
    full[y : y + size[1], x : x + size[0]] = alpha
    region = canvas[y : y + size[1], x : x + size[0]]
    region[:] = region * (1 - alpha[..., None]) + image * alpha[..., None]
    return full


def cluttered(n: int = 24, size: tuple[int, int] = (640, 480), seed: int = 0) -> list[Sample]:
    """``n`` composites (``size`` = width, height): a small target among 6 distractors on a busy photo.

    Half the targets are alphamatting objects (true alpha), half GrabCut cut-outs; two of the
    distractors are pasted right beside the target, as products stand on a shelf. [] when absent.
    """
    import cv2

    backgrounds = _backgrounds()
    targets, distractors = _objects()
    if not backgrounds or not targets or not distractors:
        return []
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        back = backgrounds[i % len(backgrounds)]
        bh, bw = back.shape[:2]
        crop_scale = rng.uniform(0.5, 1.0)
        ch, cw = int(bh * crop_scale), int(bw * crop_scale)
        y, x = int(rng.integers(0, bh - ch + 1)), int(rng.integers(0, bw - cw + 1))
        canvas = cv2.resize(back[y : y + ch, x : x + cw], size, interpolation=cv2.INTER_AREA).astype(np.float32)
        cx, cy = int(rng.integers(size[0] // 4, 3 * size[0] // 4)), int(rng.integers(size[1] // 4, 3 * size[1] // 4))
        for j, k in enumerate(rng.choice(len(distractors), 6, replace=False)):
            near = (
                cx + int(rng.integers(-size[0] // 6, size[0] // 6)),
                cy + int(rng.integers(-size[1] // 6, size[1] // 6)),
            )
            _paste(canvas, *distractors[k], rng.uniform(0.03, 0.08), rng, near if j < 2 else None)
        target = targets[i // 2 % len(targets)] if i % 2 == 0 else distractors[int(rng.integers(len(distractors)))]
        alpha = _paste(canvas, *target, rng.uniform(0.03, 0.1), rng, (cx, cy))
        samples.append(
            Sample(
                f"clutter{i:02d}", np.clip(canvas, 0, 255).astype(np.uint8), alpha >= 0.5, (alpha > 0.1) & (alpha < 0.9)
            )
        )
    return samples
