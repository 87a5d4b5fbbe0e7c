"""Motion between two frames: OpenCV's DIS optical flow, warping a mask along it, and the
similarity transform of the subject's motion fitted robustly to the flow inside its mask."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from pipeline.types import Mask


def dis(preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST) -> Any:
    """A DIS optical-flow solver; one per session (OpenCV's object keeps scratch buffers)."""
    return cv2.DISOpticalFlow_create(preset)  # type: ignore[attr-defined]


def backward_flow(solver: Any, gray_new: np.ndarray, gray_old: np.ndarray) -> np.ndarray:
    """``(H, W, 2)`` float32: for each pixel of the new frame, where it was in the old one (dx, dy)."""
    return np.asarray(solver.calc(gray_new, gray_old, None))


def grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate maps ``(xs, ys)``, each ``(H, W)`` float32."""
    height, width = shape
    return np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))


def warp_mask(mask: Mask, flow: np.ndarray, coords: tuple[np.ndarray, np.ndarray]) -> Mask:
    """``mask`` of the old frame carried to the new one along ``flow`` (from ``backward_flow``)."""
    xs, ys = coords
    return np.asarray(
        cv2.remap(mask, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderValue=0.0), np.float32
    )


IDENTITY = np.array([[1, 0, 0], [0, 1, 0]], np.float64)


def fit_motion(gray_old: np.ndarray, gray_new: np.ndarray, mask_old: Mask) -> tuple[np.ndarray, float]:
    """The 2x3 similarity (rotation, scale, shift) that moves the subject from the old frame to the new.

    Corners inside the subject (its mask shrunk by a few pixels, so that they sit on the subject
    and not on what is behind it) are followed with pyramidal Lucas-Kanade, kept when the
    backward track returns within a pixel, and fitted with RANSAC. Returns the matrix and the
    share of corners that agree with it (low when the subject is hidden or does not move as one
    piece); the identity and 0 when too few corners survive.
    """
    inside = cv2.erode((mask_old > 0.5).astype(np.uint8), np.ones((7, 7), np.uint8))
    corners = cv2.goodFeaturesToTrack(gray_old, maxCorners=300, qualityLevel=0.005, minDistance=4, mask=inside)
    if corners is None or len(corners) < 8:
        return IDENTITY, 0.0
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(gray_old, gray_new, corners, None, winSize=(15, 15), maxLevel=3)  # type: ignore[call-overload]
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(gray_new, gray_old, ahead, None, winSize=(15, 15), maxLevel=3)  # type: ignore[call-overload]
    good = (found[:, 0] == 1) & (found_back[:, 0] == 1) & (np.linalg.norm(back - corners, axis=2)[:, 0] < 1.0)
    if good.sum() < 8:
        return IDENTITY, 0.0
    matrix, inliers = cv2.estimateAffinePartial2D(
        corners[good], ahead[good], method=cv2.RANSAC, ransacReprojThreshold=1.5
    )
    if matrix is None:
        return IDENTITY, 0.0
    return matrix, float(inliers.sum() / len(corners))


def compose(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The 2x3 affine ``after ∘ before`` (apply ``before`` first)."""
    a = np.vstack([after, [0, 0, 1]])
    b = np.vstack([before, [0, 0, 1]])
    return (a @ b)[:2]
