"""The edge matte as the Refine step shows it: the alpha in grey beside the cutout on a checkerboard."""

from __future__ import annotations

import numpy as np

from pipeline.recipe.output import soft_cutout
from pipeline.types import Image, Mask

CHECK_PX = 12
GAP_PX = 8


def checkerboard(height: int, width: int, *, cell_px: int = CHECK_PX) -> Image:
    """Light and mid-grey squares, ``(H, W, 3)`` uint8: what transparency looks like in an editor."""
    yy, xx = np.mgrid[0:height, 0:width]
    light = ((yy // cell_px + xx // cell_px) % 2).astype(bool)
    return np.where(light[..., None], np.uint8(235), np.uint8(190)).repeat(3, axis=2).astype(np.uint8)


def matte_view(display: Image, alpha: Mask) -> Image:
    """``(H, 2W + gap, 3)`` uint8: ``alpha`` as grey on the left, the decontaminated cutout on a checkerboard."""
    height, width = alpha.shape
    grey = np.repeat(np.rint(alpha * 255).astype(np.uint8)[..., None], 3, axis=2)
    rgba = soft_cutout(display, alpha).astype(np.float32)
    weight = rgba[..., 3:] / 255.0
    over = rgba[..., :3] * weight + checkerboard(height, width).astype(np.float32) * (1.0 - weight)
    gap = np.full((height, GAP_PX, 3), 255, np.uint8)
    return np.concatenate([grey, gap, np.clip(over + 0.5, 0, 255).astype(np.uint8)], axis=1)
