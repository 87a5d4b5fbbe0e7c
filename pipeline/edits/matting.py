"""Soft edges: refine a hard mask into an alpha matte, and take the old background out of edge colours.

- ``refine_edge`` makes a trimap from the mask (``trimap``: an unknown band of ``band_px`` on
  each side of its edge, the rest known) and asks a ``Matter`` for the alpha inside the band.
  The classical matter (``pipeline.edits.closed_form``) is closed-form matting pulled gently
  toward a guided-filter softening of the mask; ViTMatte (``pipeline.edits.vitmatte``) is the
  learned one. Outside the band the mask's hard value stays.
- ``estimate_foreground`` answers "what colour would this edge pixel be without the old
  background?": an edge pixel is ``I = a F + (1 - a) B``; ``B`` is spread in from the pure
  background, ``F`` from the pure subject, and ``F`` is solved where ``a`` makes it stable.
  Compositing ``F`` (not ``I``) over a new background leaves no halo of the old one.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import EmptyMask, InvalidInput
from pipeline.inpaint.classic import smooth_fill
from pipeline.limits import MAX_MATTE_PX
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]
Trimap = npt.NDArray[np.uint8]
"""``(H, W)`` uint8: 0 background, 255 subject, anything else (``UNKNOWN``) to be solved."""

UNKNOWN = 128
REFERENCE_SIDE_PX = 800
"""The longer side of the photos the automatic band was tuned on (alphamatting, see bench.matte)."""
AUTO_BAND_PX = 8
"""Band on each side of the edge at ``REFERENCE_SIDE_PX``; chosen by leave-half-out (bench.matte)."""
MAX_BAND_PX = MAX_MATTE_PX

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


@runtime_checkable
class Matter(Protocol):
    """Solves the unknown band of a trimap. ``name`` says which backend it is (status line, logs)."""

    name: str

    def matte(self, image: Image, trimap: Trimap, prior: Mask | None = None) -> Mask:
        """Alpha ``(H, W)`` float32 in [0, 1]: known trimap pixels exact, unknown ones solved.

        ``prior``: the mask the trimap was made from, for backends that use it as a soft guess.
        """
        ...


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


def refine_edge(image: Image, mask: Mask, *, band_px: int | None = None, matter: Matter | None = None) -> Mask:
    """A soft alpha that follows the photo within ``band_px`` of the mask's edge (None: automatic).

    ``mask``: ``(H, W)`` float32 in [0, 1], usually binary (SAM, a threshold, a subject finder);
    pixels farther than ``band_px`` from the edge of ``mask >= 0.5`` keep the hard value.
    ``matter``: the backend (None: the classical closed-form matter). Returns a new float32
    mask; an empty or full mask is an error (see ``trimap``).
    """
    check_image(image)
    check_mask(mask)
    check_same_size(mask, image)
    band = auto_band_px(mask.shape) if band_px is None else band_px
    known = trimap(mask, band)
    if matter is None:
        from pipeline.edits.closed_form import ClassicMatter

        matter = ClassicMatter()
    hard = (mask >= 0.5).astype(np.float32)
    alpha = matter.matte(image, known, hard)
    return np.where(known == UNKNOWN, np.clip(alpha, 0.0, 1.0), hard).astype(np.float32)


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
