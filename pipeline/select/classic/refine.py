"""From the working-scale cut to full-size candidates: variants of different extent, scores, edges."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.select.classic.edges import refine_edges, upscale_soft
from pipeline.select.classic.extents import ScoreModel, describe, extents

if TYPE_CHECKING:
    from pipeline.select.classic.solve import ClassicPrepared, Distances, Seed


def candidates_of(
    prepared: ClassicPrepared, mask: np.ndarray, seeds: tuple[Seed, ...], dist: Distances, allowed: np.ndarray,
    scores: ScoreModel, variants: bool = True,
) -> list[tuple[str, np.ndarray, float]]:  # fmt: skip
    """``(kind, working-scale mask, score)`` of the cut and (with ``variants``) its variants, best score first."""
    clicks = [(s.y, s.x) for s in seeds if s.positive]
    found = extents(mask, dist.positive, clicks, allowed) if variants else {"object": mask}
    features = prepared.features
    rated = [
        (kind, m, scores.score(describe(m, kind, len(seeds), features.bins, features.weights)))
        for kind, m in found.items()
    ]
    return sorted(rated, key=lambda item: -item[2])


def to_full_size(prepared: ClassicPrepared, mask: np.ndarray, edges: bool = True) -> np.ndarray:
    """A working-scale boolean mask as a binary float32 mask at the photo's size.

    With ``edges`` the boundary band is decided again at full size (``edges.refine_edges``);
    without, the mask is upscaled bilinearly and thresholded at 0.5 (5 to 10 px steps on 12 MP).
    """
    if edges:
        return refine_edges(prepared.image, prepared.small, mask, prepared.scale)
    width, height = prepared.size
    if mask.shape == (height, width):
        return mask.astype(np.float32)
    up = upscale_soft(mask, (width, height))
    below_half = float(np.nextafter(np.float32(0.5), np.float32(0.0)))
    import cv2

    cv2.threshold(up, below_half, 1.0, cv2.THRESH_BINARY, dst=up)
    return up
