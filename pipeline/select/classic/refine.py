"""From the working-scale cut to full-size candidates: variants, scores, upscaling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.select.classic.graph import PairWeights

if TYPE_CHECKING:
    from pipeline.select.classic.solve import ClassicPrepared, Seed


def boundary_contrast(mask: np.ndarray, weights: PairWeights) -> float:
    """Mean edge strength (1 - pair weight, in [0, 1]) across the mask's boundary; 0 without one."""
    cut_right = mask[:, 1:] != mask[:, :-1]
    cut_down = mask[1:] != mask[:-1]
    n = int(cut_right.sum() + cut_down.sum())
    if n == 0:
        return 0.0
    return float(((1 - weights.right[cut_right]).sum() + (1 - weights.down[cut_down]).sum()) / n)


def candidates_of(mask: np.ndarray, seeds: tuple[Seed, ...], weights: PairWeights) -> list[tuple[np.ndarray, float]]:
    """The cut and its variants with a score in [0, 1] each (unordered)."""
    return [(mask, boundary_contrast(mask, weights))]


def to_full_size(prepared: ClassicPrepared, mask: np.ndarray) -> np.ndarray:
    """A working-scale boolean mask as a binary float32 mask at the photo's size."""
    import cv2

    width, height = prepared.size
    if mask.shape == (height, width):
        return mask.astype(np.float32)
    up = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    # In place, no bool temporary: "> the float32 just below 0.5" is exactly ">= 0.5".
    below_half = float(np.nextafter(np.float32(0.5), np.float32(0.0)))
    cv2.threshold(up, below_half, 1.0, cv2.THRESH_BINARY, dst=up)
    return up
