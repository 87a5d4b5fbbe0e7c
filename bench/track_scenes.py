"""Test sequences for ``bench.track``, built from real photos with exact masks.

A GrabCut object (its true mask, unlabelled band counted as object) is pasted over a HOPE scene
and moved, scaled and rotated along smooth paths, while the camera pans across the scene and a
second GrabCut object crosses in front for part of the clip. The truth of every frame is the
object's mask minus the occluder: exact, since the frames are composed here. Nothing is copied
into the project; the photos are read from ``../shared/datasets`` at bench time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
GRABCUT = DATASETS / "grabcut"
SCENES = DATASETS / "photos" / "hope-image-preview"
SIZE = (640, 360)  # width, height of every frame
FRAMES = 60


@dataclass(frozen=True, eq=False)
class Scene:
    """One sequence: ``frames`` (RGB uint8) and ``truths`` (bool) of ``SIZE``, and its name."""

    name: str
    frames: list[np.ndarray]
    truths: list[np.ndarray]


def available() -> bool:
    return (GRABCUT / "images").is_dir() and SCENES.is_dir()


def _read(path: Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


def objects() -> list[Path]:
    return sorted((GRABCUT / "images").iterdir())


def _sprite(path: Path, height_px: int) -> tuple[np.ndarray, np.ndarray]:
    """The object's pixels and mask cropped to its box, scaled to ``height_px`` tall."""
    image = _read(path)
    mask = _read(GRABCUT / "masks" / f"{path.stem}.png", cv2.IMREAD_GRAYSCALE) >= 128
    ys, xs = np.nonzero(mask)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    image, mask = image[box], mask[box].astype(np.uint8)
    scale = height_px / image.shape[0]
    size = (max(8, round(image.shape[1] * scale)), height_px)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.resize(
        mask, size, interpolation=cv2.INTER_NEAREST
    )


def _place(sprite: np.ndarray, mask: np.ndarray, centre: tuple[float, float], scale: float, angle: float):
    """The sprite and its mask moved to ``centre`` (frame px), scaled and rotated (degrees)."""
    h, w = mask.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += np.array(centre) - np.array([w / 2, h / 2])
    pixels = cv2.warpAffine(sprite, matrix, SIZE, flags=cv2.INTER_LINEAR)
    placed = cv2.warpAffine(mask, matrix, SIZE, flags=cv2.INTER_NEAREST).astype(bool)
    return pixels, placed


def build(index: int) -> Scene:
    """Sequence ``index``: object ``index`` of the GrabCut set over scene ``index % 10``."""
    rng = np.random.default_rng(1000 + index)
    paths = objects()
    subject_path = paths[index % len(paths)]
    occluder_path = paths[(index + 7) % len(paths)]
    scenes = sorted(SCENES.glob("*/*_rgb.jpg"))
    backdrop = cv2.resize(_read(scenes[index % len(scenes)]), (1120, 630), interpolation=cv2.INTER_AREA)
    sprite, sprite_mask = _sprite(subject_path, int(rng.uniform(150, 200)))
    occluder, occluder_mask = _sprite(occluder_path, int(rng.uniform(90, 130)))
    pan = rng.uniform(-1, 1, 2) * np.array([400, 200])
    start = np.array([240.0, 135.0]) - pan / 2
    path_a, path_b = rng.uniform(-1, 1, 2) * np.array([150, 60]), rng.uniform(0, 2 * np.pi, 2)
    spin, grow = rng.uniform(-25, 25), rng.uniform(-0.25, 0.25)
    frames, truths = [], []
    for t in range(FRAMES):
        u = t / (FRAMES - 1)
        x0, y0 = (start + pan * u).round().astype(int)
        frame = backdrop[y0 : y0 + SIZE[1], x0 : x0 + SIZE[0]].copy()
        centre = (320 + path_a[0] * np.sin(np.pi * u + path_b[0]), 180 + path_a[1] * np.sin(2 * np.pi * u + path_b[1]))
        pixels, truth = _place(sprite, sprite_mask, centre, 1 + grow * u, spin * u)
        frame[truth] = pixels[truth]
        cross = 640 * (1.4 * u - 0.2) if index % 2 == 0 else 640 * (1.2 - 1.4 * u)
        cover, hidden = _place(occluder, occluder_mask, (cross, centre[1] + 40), 1.0, 0.0)
        frame[hidden] = cover[hidden]
        frames.append(frame)
        truths.append(truth & ~hidden)
    return Scene(f"{subject_path.stem} over {scenes[index % len(scenes)].parent.name}", frames, truths)
