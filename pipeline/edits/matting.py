"""Soft edges: refine a hard mask into a matte, and take the old background out of edge colours.

- ``refine_edge`` turns a hard (or roughly soft) mask into a fractional alpha in a band around
  its edge, following the image's colour edges (a colour guided filter, He et al. 2010), or with
  closed-form matting from ``pymatting`` (slower, often finer on hair).
- ``estimate_foreground`` answers "what colour would this edge pixel be without the old
  background?": an edge pixel is ``I = a F + (1 - a) B``; ``B`` is spread in from the pure
  background, ``F`` from the pure subject, and ``F`` is solved where ``a`` makes it stable.
  Compositing ``F`` (not ``I``) over a new background leaves no halo of the old one.
"""

from __future__ import annotations

import logging
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import InvalidInput
from pipeline.inpaint.classic import smooth_fill
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]
RefineMethod = Literal["guided", "closed_form"]

PURE = 0.02
"""Alpha within this of 0 or 1 counts as pure background or subject when spreading colours."""


def estimate_foreground(image: Image, alpha: Mask) -> Image:
    """Foreground colours of ``image`` under ``alpha``, with the old background taken out.

    ``image``: ``(H, W, 3)`` uint8; ``alpha``: ``(H, W)`` float32 in [0, 1] (1 = subject).
    Where ``alpha`` is 1 the result is ``image`` exactly; where it is 0 it is the subject's
    colours spread outward (useful when a feathered edge reaches past the mask); in between it
    is ``a (I - (1 - a) B) / a + (1 - a) F_spread``: the solved colour, trusted in proportion to ``a``.
    Returns a new ``(H, W, 3)`` uint8 image.
    """
    check_image(image)
    check_mask(alpha, "alpha")
    check_same_size(alpha, image, "alpha")
    pixels = image.astype(np.float32)
    # Pure subject and pure background seed the spread colours (nearly pure counts: noise).
    solid = (alpha >= 1.0 - PURE).astype(np.float32)
    clear = (alpha <= PURE).astype(np.float32)
    spread_fg = smooth_fill(pixels, solid if solid.any() else alpha)
    spread_bg = smooth_fill(pixels, clear if clear.any() else 1.0 - alpha)
    a = alpha[..., None]
    solved = (pixels - (1.0 - a) * spread_bg) / np.maximum(a, 1e-3)
    # The solve divides by a: trust it in proportion to a, the spread subject colour otherwise.
    fg = a * solved + (1.0 - a) * spread_fg
    out = np.clip(fg + 0.5, 0, 255).astype(np.uint8)
    np.copyto(out, image, where=(alpha >= 1.0)[..., None])
    return out


def edge_band(mask: Mask, band_px: int) -> npt.NDArray[np.bool_]:
    """Pixels within ``band_px`` of the edge of ``mask >= 0.5`` (either side), as a bool array."""
    hard = (mask >= 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band_px + 1, 2 * band_px + 1))
    return cv2.dilate(hard, kernel).astype(bool) & ~cv2.erode(hard, kernel).astype(bool)


def refine_edge(
    image: Image,
    mask: Mask,
    *,
    band_px: int = 6,
    method: RefineMethod = "guided",
    eps: float = 1e-4,
) -> Mask:
    """A soft alpha that follows the image's edges within ``band_px`` of the mask's edge.

    ``mask``: ``(H, W)`` float32 in [0, 1], usually binary (SAM, a threshold). Pixels farther than
    ``band_px`` from the edge of ``mask >= 0.5`` keep the hard value (0 or 1). ``method``:
    ``"guided"`` (colour guided filter, radius ``band_px``, regulariser ``eps``; fast) or
    ``"closed_form"`` (pymatting's closed-form matting on a trimap made from the band).
    Returns a new float32 mask.
    """
    check_image(image)
    check_mask(mask)
    check_same_size(mask, image)
    if not 1 <= band_px <= 64:
        raise InvalidInput(f"band_px is {band_px}; use 1 to 64 pixels")
    if method not in ("guided", "closed_form"):
        raise InvalidInput(f"edge refinement {method!r} is not one of guided, closed_form")
    hard = (mask >= 0.5).astype(np.float32)
    band = edge_band(mask, band_px)
    if not band.any():
        return hard
    rows, cols = np.flatnonzero(band.any(axis=1)), np.flatnonzero(band.any(axis=0))
    pad = 2 * band_px + 2
    window = (
        slice(max(0, rows[0] - pad), min(mask.shape[0], rows[-1] + 1 + pad)),
        slice(max(0, cols[0] - pad), min(mask.shape[1], cols[-1] + 1 + pad)),
    )
    if method == "guided":
        soft = guided_filter(image[window], hard[window], radius_px=band_px, eps=eps)
    else:
        soft = _closed_form(image[window], hard[window], band[window])
    out = hard.copy()
    out[window] = np.where(band[window], np.clip(soft, 0.0, 1.0), hard[window])
    return out.astype(np.float32)


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


def _closed_form(image: Image, hard: Floats, band: npt.NDArray[np.bool_]) -> Floats:
    """Closed-form matting (pymatting) with the band as the unknown region of the trimap."""
    from pymatting import estimate_alpha_cf

    trimap = np.where(band, 0.5, hard).astype(np.float64)
    alpha = estimate_alpha_cf(image.astype(np.float64) / 255.0, trimap)
    return np.asarray(alpha, dtype=np.float32)
