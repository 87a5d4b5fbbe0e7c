"""Soft edges: refine a hard mask into an alpha matte, and take the old background out of edge colours.

- ``refine_edge`` makes a trimap from the mask (``trimap``: an unknown band of ``band_px`` on
  each side of its edge, the rest known) and asks a ``Matter`` for the alpha inside the band.
  For the classical matter the band is first centred on the photo's edge rather than the
  mask's (``edge_follow``: a wider probe matte says how far the mask is off).
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

import numpy as np
import numpy.typing as npt

from pipeline.edits.edge_follow import follow_photo_edge
from pipeline.edits.trimap import MAX_BAND_PX, UNKNOWN, Trimap, auto_band_px, edge_band, guided_filter, trimap
from pipeline.inpaint.classic import smooth_fill
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]
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
    follows_edge: bool
    """Whether ``refine_edge`` first centres the band on the photo's edge with a probe (``edge_follow``)."""
    follow_reach_bands: int | None
    """The neighbourhood the probe's offset is averaged over, in bands (None: the whole mask)."""

    def matte(self, image: Image, trimap: Trimap, prior: Mask | None = None) -> Mask:
        """Alpha ``(H, W)`` float32 in [0, 1]: known trimap pixels exact, unknown ones solved.

        ``prior``: the mask the trimap was made from, for backends that use it as a soft guess.
        """
        ...


def refine_edge(image: Image, mask: Mask, *, band_px: int | None = None, matter: Matter | None = None) -> Mask:
    """A soft alpha that follows the photo within ``band_px`` of the mask's edge (None: automatic).

    ``mask``: ``(H, W)`` float32 in [0, 1], usually binary (SAM, a threshold, a subject finder);
    pixels farther than ``band_px`` from the edge of ``mask >= 0.5`` keep the hard value (twice
    ``band_px`` when the matter follows the photo's edge: the band moves with it).
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
    if matter.follows_edge and band >= 2:
        reach = matter.follow_reach_bands
        hard, known = follow_photo_edge(
            image, hard, matter, band_px=band, radius_px=None if reach is None else reach * band
        )
    alpha = matter.matte(image, known, hard)
    return np.where(known == UNKNOWN, np.clip(alpha, 0.0, 1.0), hard).astype(np.float32)


__all__ = [
    "MAX_BAND_PX",
    "UNKNOWN",
    "Matter",
    "Trimap",
    "auto_band_px",
    "edge_band",
    "estimate_foreground",
    "guided_filter",
    "refine_edge",
    "trimap",
]  # the band's vocabulary is re-exported: callers matte through this module
