"""Bring a working-size mask to the photo's full size along the photo's own edges.

A guided filter (He et al.) on the grey photo turns the upsampled mask into a locally linear
function of the photo's brightness, so its edge moves onto the product's edge instead of
staying on the coarse grid; thresholding it gives a binary mask again.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.types import Image, Mask


def guided_upsample(small: np.ndarray, image: Image, *, radius_px: int | None = None, eps: float = 1e-3) -> Mask:
    """``small`` (``(h, w)`` float32 in [0, 1]) at ``image``'s size as a binary mask.

    ``radius_px``: the filter's window radius at full size (default: twice the upscale factor).
    """
    height, width = image.shape[:2]
    if small.shape == (height, width):
        return (small >= 0.5).astype(np.float32)
    factor = max(height / small.shape[0], width / small.shape[1])
    radius = radius_px if radius_px is not None else max(int(round(2 * factor)), 1)
    coarse = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    guide = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    fine = _guided_filter(guide, coarse, radius, eps)
    return (fine >= 0.5).astype(np.float32)


def _guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_g, mean_s = mean(guide), mean(source)
    var_g = mean(guide * guide) - mean_g * mean_g
    cov = mean(guide * source) - mean_g * mean_s
    a = cov / (var_g + eps)
    b = mean_s - a * mean_g
    return mean(a) * guide + mean(b)
