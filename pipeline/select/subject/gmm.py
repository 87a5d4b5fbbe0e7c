"""Gaussian mixture colour models, as GrabCut fits them: k-means clusters, one full Gaussian each.

Small and vectorised: a model is fitted on at most ``MAX_SAMPLES`` pixels (a fixed subsample,
so the same photo always gives the same model) and scores every pixel of a working-size photo
in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_SAMPLES = 6000
RIDGE = 4.0  # added to each covariance's diagonal (colour units squared): keeps flat clusters invertible


@dataclass(frozen=True)
class ColourModel:
    """``k`` Gaussians over RGB: ``weights`` ``(k,)``, ``means`` ``(k, 3)``, ``whitens`` ``(k, 3, 3)``
    (a matrix ``W`` with ``W W^T`` the inverse covariance), ``log_norms`` ``(k,)``."""

    weights: np.ndarray
    means: np.ndarray
    whitens: np.ndarray
    log_norms: np.ndarray


def fit(pixels: np.ndarray, components: int) -> ColourModel:
    """Fit ``components`` Gaussians to ``pixels`` (``(n, 3)`` float32 colours, n >= 1)."""
    if len(pixels) > MAX_SAMPLES:
        pixels = pixels[np.linspace(0, len(pixels) - 1, MAX_SAMPLES).astype(np.int64)]
    k = max(min(components, len(pixels)), 1)
    if k > 1:
        criteria = (cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 10, 1.0)
        cv2.setRNGSeed(0)
        _, labels, _ = cv2.kmeans(pixels, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
        labels = labels.ravel()
    else:
        labels = np.zeros(len(pixels), np.int32)
    weights, means, whitens, log_norms = [], [], [], []
    for index in range(k):
        members = pixels[labels == index]
        if len(members) == 0:
            continue
        mean = members.mean(axis=0)
        centred = members - mean
        cov = centred.T @ centred / len(members) + RIDGE * np.eye(3, dtype=np.float32)
        weights.append(len(members) / len(pixels))
        means.append(mean)
        whitens.append(np.linalg.cholesky(np.linalg.inv(cov)).astype(np.float32))
        log_norms.append(-0.5 * np.log(np.linalg.det(cov)))
    return ColourModel(np.array(weights), np.array(means, np.float32), np.array(whitens), np.array(log_norms))


def log_likelihood(model: ColourModel, pixels: np.ndarray) -> np.ndarray:
    """``log p(colour)`` (up to a constant shared by every model) of ``(n, 3)`` float32 ``pixels``."""
    best = np.full(len(pixels), -np.inf, np.float64)
    total = np.zeros(len(pixels), np.float64)
    terms = []
    for weight, mean, whiten, log_norm in zip(model.weights, model.means, model.whitens, model.log_norms, strict=True):
        white = (pixels - mean) @ whiten
        mahalanobis = np.square(white).sum(axis=1)
        term = np.log(weight) + log_norm - 0.5 * mahalanobis
        terms.append(term)
        best = np.maximum(best, term)
    for term in terms:
        total += np.exp(term - best)
    return (best + np.log(total)).astype(np.float32)
