"""Colour models for the classical selector: smoothed 3-D colour histograms.

A histogram with ``BINS`` bins per RGB channel is cheap to rebuild on every click (one
``bincount``) and, once smoothed across neighbouring bins, behaves like a GMM with many
components. Costs are negative log-likelihoods, so they add to the graph-cut energy.
"""

from __future__ import annotations

import numpy as np

BINS = 16
SMOOTH_BINS = 0.8  # Gaussian sigma across bins
FLOOR = 1e-4  # probability floor, keeps costs bounded for unseen colours


def colour_bins(image: np.ndarray) -> np.ndarray:
    """Histogram bin of each pixel of an ``(H, W, 3)`` uint8 image: ``(H, W)`` int32 in [0, BINS**3)."""
    q = (image.astype(np.int32) * BINS) >> 8
    return (q[..., 0] * BINS + q[..., 1]) * BINS + q[..., 2]


def histogram(bins: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Smoothed, normalised colour histogram ``(BINS**3,)`` of ``bins`` weighted by ``weight`` (same shape)."""
    from scipy.ndimage import gaussian_filter

    counts = np.bincount(bins.ravel(), weights=weight.ravel().astype(np.float64), minlength=BINS**3)
    cube = gaussian_filter(counts.reshape(BINS, BINS, BINS), SMOOTH_BINS, mode="constant")
    total = cube.sum()
    if total <= 0:
        return np.full(BINS**3, 1.0 / BINS**3)
    return cube.ravel() / total


def likelihood_costs(bins: np.ndarray, fg_hist: np.ndarray, bg_hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel costs ``(cost_fg, cost_bg)`` from the posterior of two histograms (equal priors).

    Costs are ``-log`` of the posterior probability, each in ``[0, -log(FLOOR)]``.
    """
    pf = fg_hist[bins]
    pb = bg_hist[bins]
    total = pf + pb + 2 * FLOOR / BINS**3
    post = np.clip((pf + FLOOR / BINS**3) / total, FLOOR, 1 - FLOOR)
    return (-np.log(post)).astype(np.float32), (-np.log1p(-post)).astype(np.float32)
