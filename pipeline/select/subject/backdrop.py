"""How rare a colour is on the backdrop, and which holes in a subject are the backdrop seen through.

The border strip is a sample of the backdrop. A Gaussian mixture fitted to it in Lab (``gmm``)
scores every pixel; a pixel's **rarity** is the share of the strip's own pixels that score
higher, so rarity is spread evenly over [0, 1] on the backdrop itself and near 1 on a colour
the border never shows. Being a rank, it needs no scale: the same thresholds hold on a white
sweep, on marble and on coloured paper. Two uses:

- a pale product on a pale backdrop (a pink jar on white marble) is a few Lab units from it,
  which a coarse histogram smears over but a fitted mixture separates (``rare_colour``);
- a hole in the cut whose colours are as common as the backdrop's (median rarity low) is the
  backdrop seen through a handle or a loop, so it stays a hole; a hole of a rarer colour is part
  of the product (a label, a cap's face) and is filled (``fill_holes``). Here the sample is all
  of the backdrop the cut found, not just the border, so each of its colours counts by its area
  (on a backdrop with a gradient, the border alone over-weights the top and bottom rows).

Limits: a label exactly the backdrop's colour is taken for a hole, and a strong lighting
gradient across the backdrop makes its brightest and darkest parts rare.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from pipeline.select.subject import gmm

RARE = 0.9
"""Rarity above which a colour counts toward ``rare_colour``: rarer than nine in ten backdrop pixels."""
COMPONENTS = 5


def rarity(lab: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """``(h, w)`` float32 in [0, 1]: the share of ``backdrop`` pixels whose colour is more likely than each pixel's.

    ``lab``: ``(h, w, 3)`` float32 Lab photo; ``backdrop``: ``(h, w)`` bool, the sample of the
    backdrop (at least one pixel).
    """
    h, w = backdrop.shape
    pixels = lab.reshape(-1, 3)
    sample = backdrop.ravel()
    model = gmm.fit(pixels[sample], COMPONENTS)
    scores = gmm.log_likelihood(model, pixels)
    reference = np.sort(scores[sample])
    above = len(reference) - np.searchsorted(reference, scores, side="right")
    return (above / len(reference)).reshape(h, w).astype(np.float32)


def rare_colour(rarity_map: np.ndarray) -> np.ndarray:
    """``(h, w)`` float32 in [0, 1]: 0 up to rarity ``RARE``, rising to 1 for a colour the backdrop never shows."""
    return np.clip((rarity_map - RARE) / (1.0 - RARE), 0.0, 1.0).astype(np.float32)


def fill_holes(
    subject: np.ndarray, share: float, lab: np.ndarray | None = None, see_through: float = 0.0
) -> np.ndarray:
    """``subject`` with its holes (background the border cannot reach) up to ``share`` of its area filled.

    With ``lab`` (the photo in Lab, ``(h, w, 3)`` float32), a hole whose median rarity on the
    rest of the backdrop is below ``see_through`` is the backdrop seen through the subject (a
    mug's handle) and stays open; ``see_through=0`` fills every hole.
    """
    if share <= 0:
        return subject
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~subject).astype(np.uint8), connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    fill = np.zeros(count, bool)
    fill[1:] = stats[1:, cv2.CC_STAT_AREA] <= share * subject.sum()
    fill[edge] = False
    fill[0] = False
    if lab is not None and see_through > 0 and fill.any():
        holes = np.flatnonzero(fill)
        outside = ~(subject | fill[labels])
        if not outside.any():
            return subject | fill[labels]
        medians = np.asarray(ndimage.median(rarity(lab, outside), labels, holes))
        fill[holes[medians < see_through]] = False
    return subject | fill[labels]
