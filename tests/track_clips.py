"""Tiny synthetic sequences for the tracking tests: a textured disc gliding over a textured backdrop.

Frames are written by the tests themselves (PyAV for clips, PNG for spin sets); each frame's
true mask is exact, since the frames are drawn here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage

SIZE = (96, 64)  # width, height


def scene(count: int = 8, *, step_px: float = 2.0, seed: int = 3) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``count`` frames (``(64, 96, 3)`` uint8) and their true masks (float32 {0, 1})."""
    rng = np.random.default_rng(seed)
    width, height = SIZE
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    backdrop = np.stack([90 + 40 * np.sin(xx / 5), 140 + 30 * np.cos(yy / 4), 100 + 20 * np.sin((xx + yy) / 9)], 2)
    backdrop = np.clip(backdrop + rng.normal(0, 6, backdrop.shape), 0, 255)
    frames, masks = [], []
    for t in range(count):
        cx, cy = 30 + step_px * t, 32 + 0.5 * step_px * np.sin(t / 2)
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= 14**2
        disc = np.stack([220 + 25 * np.sin((xx - cx) / 2), 60 + 30 * np.cos((yy - cy) / 2), 40 + 0 * xx], 2)
        frame = np.where(inside[..., None], disc, backdrop)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        masks.append(inside.astype(np.float32))
    return frames, masks


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    from pipeline.io.video import write_video

    write_video(path, frames, fps=fps, quality=4)
    return path


def write_photos(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        PILImage.fromarray(frame).save(folder / f"turn-{index:02d}.png")
    return folder


def write_mask(path: Path, mask: np.ndarray) -> Path:
    PILImage.fromarray((mask * 255).astype(np.uint8)).save(path)
    return path


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return float((a & b).sum() / max((a | b).sum(), 1))
