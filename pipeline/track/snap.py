"""Snap a predicted mask to the subject's edges: a colour model and a graph cut around the prediction.

The prediction (the previous mask carried by the motion) is a soft prior; the cut weighs it
against how much each pixel's colour looks like the subject or its surroundings, with a
contrast-sensitive smoothness term, so the boundary settles on the frame's own edges. The cut runs
on the prediction's box plus a margin only: cost grows with the subject, not with the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.select.classic.colour import colour_bins, histogram, likelihood_costs
from pipeline.select.classic.graph import min_cut, pair_weights
from pipeline.types import Image, Mask


@dataclass(frozen=True)
class SnapTuning:
    """Weights of the cut: ``colour`` (colour-model costs), ``prior`` (the motion prediction),
    ``smoothness`` (edge-aware Potts term), and ``margin_px`` of frame around the prediction's box."""

    colour: float = 1.0
    prior: float = 1.0
    smoothness: float = 5.0
    margin_px: int = 12
    prior_blur_px: float = 1.5


@dataclass(frozen=True, eq=False)
class ColourModel:
    """Smoothed colour histograms of the subject (``fg``) and of what surrounds it (``bg``)."""

    fg: np.ndarray
    bg: np.ndarray

    def blend(self, other: ColourModel, share: float) -> ColourModel:
        """``share`` of ``other`` mixed into this model (a slow update that resists drift)."""
        return ColourModel((1 - share) * self.fg + share * other.fg, (1 - share) * self.bg + share * other.bg)


def box_around(mask: np.ndarray, margin_px: int) -> tuple[slice, slice] | None:
    """The rows and columns of ``mask > 0.5``'s box grown by ``margin_px`` (clipped), or None when empty."""
    rows = np.flatnonzero((mask > 0.5).any(axis=1))
    cols = np.flatnonzero((mask > 0.5).any(axis=0))
    if rows.size == 0:
        return None
    height, width = mask.shape
    return (
        slice(max(0, rows[0] - margin_px), min(height, rows[-1] + margin_px + 1)),
        slice(max(0, cols[0] - margin_px), min(width, cols[-1] + margin_px + 1)),
    )


def colour_model(frame: Image, mask: Mask, *, ring_px: int = 24) -> ColourModel:
    """Histograms of the subject (``mask > 0.5``) and of a ring of ``ring_px`` around it."""
    inside = mask > 0.5
    box = box_around(mask, ring_px)
    bins = colour_bins(frame if box is None else frame[box])
    fg = inside if box is None else inside[box]
    return ColourModel(histogram(bins, fg.astype(np.float32)), histogram(bins, (~fg).astype(np.float32)))


def snap(frame: Image, prior: Mask, model: ColourModel, tuning: SnapTuning, against: np.ndarray | None = None) -> Mask:
    """The binary ``(H, W)`` float32 mask the cut settles on near ``prior`` (all zeros when ``prior`` is).

    ``against``: an optional ``(H, W)`` extra cost of labelling each pixel subject (evidence from
    elsewhere, such as motion that is not the subject's)."""
    out = np.zeros(prior.shape, np.float32)
    box = box_around(prior, tuning.margin_px)
    if box is None:
        return out
    crop = frame[box]
    soft = prior[box]
    if tuning.prior_blur_px > 0:
        soft = np.asarray(cv2.GaussianBlur(soft, (0, 0), tuning.prior_blur_px), np.float32)
    soft = np.clip(soft, 0.02, 0.98)
    cost_fg, cost_bg = likelihood_costs(colour_bins(crop), model.fg, model.bg)
    cost_fg = tuning.colour * cost_fg - tuning.prior * np.log(soft)
    cost_bg = tuning.colour * cost_bg - tuning.prior * np.log1p(-soft)
    if against is not None:
        cost_fg = cost_fg + against[box]
    weights = pair_weights(cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32))
    out[box] = min_cut(cost_fg, cost_bg, weights, tuning.smoothness)
    return out
