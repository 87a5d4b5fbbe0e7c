"""The unknown band around a mask's edge, where a matte is solved, and the guided filter that
softens a mask along the photo's edges. Shared by the matters (``closed_form``, ``vitmatte``)
and ``matting.refine_edge``, which runs them.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import EmptyMask, InvalidInput
from pipeline.limits import MAX_MATTE_PX
from pipeline.types import Image, Mask, check_mask

Floats = npt.NDArray[np.float32]
Trimap = npt.NDArray[np.uint8]
"""``(H, W)`` uint8: 0 background, 255 subject, anything else (``UNKNOWN``) to be solved."""

UNKNOWN = 128
REFERENCE_SIDE_PX = 800
"""The longer side of the photos the automatic band was tuned on (alphamatting, see bench.matte)."""
AUTO_BAND_PX = 8
"""Band on each side of the edge at ``REFERENCE_SIDE_PX``; chosen by leave-half-out (bench.matte)."""
MAX_BAND_PX = MAX_MATTE_PX


def edge_band(mask: Mask, band_px: int) -> npt.NDArray[np.bool_]:
    """Pixels within ``band_px`` of the edge of ``mask >= 0.5`` (either side), as a bool array."""
    hard = (mask >= 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band_px + 1, 2 * band_px + 1))
    return cv2.dilate(hard, kernel).astype(bool) & ~cv2.erode(hard, kernel).astype(bool)


def auto_band_px(shape: tuple[int, ...]) -> int:
    """The unknown band for a photo of ``shape``: ``AUTO_BAND_PX`` scaled by its longer side."""
    return int(np.clip(round(AUTO_BAND_PX * max(shape[:2]) / REFERENCE_SIDE_PX), 3, MAX_BAND_PX))


def trimap(mask: Mask, band_px: int) -> Trimap:
    """A trimap from ``mask``: unknown within ``band_px`` of the edge of ``mask >= 0.5``, else 0 or 255.

    ``EmptyMask`` when the mask selects nothing, ``InvalidInput`` when it selects everything:
    then there is no edge to matte.
    """
    check_mask(mask)
    if not 1 <= band_px <= MAX_BAND_PX:
        raise InvalidInput(f"the matte band is {band_px} px; use 1 to {MAX_BAND_PX} px")
    hard = mask >= 0.5
    if not hard.any():
        raise EmptyMask("the mask selects nothing, so there is no edge to matte; select the subject first")
    if hard.all():
        raise InvalidInput("the mask selects the whole photo, so there is no edge to matte; select just the subject")
    out = np.where(hard, np.uint8(255), np.uint8(0))
    out[edge_band(mask, band_px)] = UNKNOWN
    return out


def guided_filter(guide: Image, source: Floats, *, radius_px: int, eps: float) -> Floats:
    """Colour guided filter (He, Sun and Tang): ``source`` smoothed along ``guide``'s edges.

    ``guide``: ``(H, W, 3)`` uint8; ``source``: ``(H, W)`` float32. Returns float32 ``(H, W)``
    (not clipped). ``eps`` is in units of the guide scaled to [0, 1] (squared).
    """
    size = (2 * radius_px + 1, 2 * radius_px + 1)

    def box(x: Floats) -> Floats:
        return np.asarray(cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT), np.float32)

    g = guide.astype(np.float32) / 255.0
    mean_g = box(g)
    mean_p = box(source)
    cov_gp = box(g * source[..., None]) - mean_g * mean_p[..., None]
    var = np.empty(g.shape[:2] + (3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            value = box(g[..., i] * g[..., j]) - mean_g[..., i] * mean_g[..., j]
            var[..., i, j] = var[..., j, i] = value
    var += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(var, cov_gp[..., None])[..., 0]
    b = mean_p - (a * mean_g).sum(axis=2)
    return ((box(a) * g).sum(axis=2) + box(b)).astype(np.float32)
