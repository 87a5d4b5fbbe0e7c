"""A soft-edged disc with its true alpha, and masks moved off its edge: shared by the matte tests."""

from __future__ import annotations

import cv2
import numpy as np


def soft_disc(size: int = 96, radius: float = 28.0, ramp_px: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """A bright disc with a soft rim on a textured dark backdrop; its true alpha (float32)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(xx - size / 2, yy - size / 2) - radius
    alpha = np.clip(0.5 - distance / ramp_px, 0.0, 1.0).astype(np.float32)
    rng = np.random.default_rng(3)
    backdrop = np.stack([40 + 20 * np.sin(xx / 5), 60 + 15 * np.cos(yy / 7), 50 + 0 * xx], -1) + rng.normal(
        0, 2, (size, size, 3)
    )
    subject = np.array([230.0, 200.0, 60.0])
    image = alpha[..., None] * subject + (1 - alpha[..., None]) * backdrop
    return np.clip(image, 0, 255).astype(np.uint8), alpha


def grown(mask: np.ndarray, px: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(px) + 1,) * 2)
    op = cv2.dilate if px > 0 else cv2.erode
    return op(mask.astype(np.uint8), kernel).astype(np.float32)
