"""Move a mask's edge onto the photo's edge before matting, so the unknown band is centred on it.

A selector's mask is often a few pixels off the photo's edge, mostly all one way (SAM and
graph cuts tend to grow a mask by a few pixels; an eroded mask shrinks it). A band centred on
the mask's edge then puts the true edge near one side of the band, and on hair or leaves the
known region on that side fixes pixels that are really partly transparent. So the matte is
solved twice: a **probe** with a wide band finds where the photo puts the edge; the mask's edge
is moved by the mean distance between the two (``edge_offset_px``), no further than the final
band reaches; the final matte is solved in a band centred on the moved edge.

The offset is ``sum(mask - alpha) / edge length`` over the probe's band: the area the mask
claims beyond what the photo shows, per pixel of edge. It is measured per neighbourhood
(``radius_px``) so a mask too big on one side and too small on the other moves both ways.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.edits.trimap import UNKNOWN, Trimap, trimap
from pipeline.types import Image, Mask


def edge_offset_px(hard: np.ndarray, probe: Trimap, alpha: Mask, probe_px: int, radius_px: int) -> np.ndarray:
    """``(H, W)`` float32: how far inside the mask's edge the photo's edge lies near each pixel (< 0: outside).

    ``hard``: the binary mask (float32); ``probe``: its trimap with ``probe_px`` on each side of the
    edge; ``alpha``: the matte solved in that band; ``radius_px``: the neighbourhood it is averaged over.
    """
    band = (probe == UNKNOWN).astype(np.float32)
    excess = band * (hard - np.clip(alpha, 0.0, 1.0))
    edge = band / (2.0 * probe_px)  # sums to the edge length over the band's width
    size = (2 * radius_px + 1, 2 * radius_px + 1)
    excess_near = cv2.boxFilter(excess, cv2.CV_32F, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    edge_near = cv2.boxFilter(edge, cv2.CV_32F, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    return np.where(edge_near > 0.5, excess_near / np.maximum(edge_near, 1e-6), 0.0).astype(np.float32)


def moved_edge(hard: np.ndarray, offset_px: np.ndarray) -> Mask:
    """``hard`` with its edge moved ``offset_px`` inward (outward where negative): binary float32."""
    inside = hard >= 0.5
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 5)
    beyond = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 5)
    signed = np.where(inside, depth - 0.5, 0.5 - beyond)  # > 0 inside the edge
    return (signed > offset_px).astype(np.float32)


PROBE_SIDE_PX = 256
"""The probe is solved at half size on photos whose shorter side is at least this (a quarter of the work)."""


def follow_photo_edge(
    image: Image, hard: np.ndarray, matter, *, band_px: int, radius_px: int | None
) -> tuple[Mask, Trimap]:
    """The mask moved onto the photo's edge and its trimap with ``band_px`` on each side of the moved edge.

    The probe's band is ``2 * band_px`` on each side; the edge moves less than ``band_px``, so
    pixels farther than ``2 * band_px`` from the mask's edge keep their value. ``radius_px``: the
    neighbourhood the offset is averaged over (None: the whole mask). ``matter``: a
    ``matting.Matter`` (it solves the probe). The mask stays as given where the moved one would
    be empty or full.
    """
    half = min(hard.shape) >= PROBE_SIDE_PX
    if half:
        size = (hard.shape[1] // 2, hard.shape[0] // 2)
        small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_hard = (cv2.resize(hard, size, interpolation=cv2.INTER_AREA) >= 0.5).astype(np.float32)
        if not small_hard.any() or small_hard.all():
            small_image, small_hard, half = image, hard, False
    else:
        small_image, small_hard = image, hard
    probe_px = band_px if half else 2 * band_px
    probe = trimap(small_hard, probe_px)
    alpha = matter.matte(small_image, probe, small_hard)
    reach = max(small_hard.shape) if radius_px is None else max(round(radius_px / (2 if half else 1)), 1)
    offset = edge_offset_px(small_hard, probe, alpha, probe_px, reach) * (2 if half else 1)
    if half:
        offset = cv2.resize(offset, (hard.shape[1], hard.shape[0]), interpolation=cv2.INTER_LINEAR)
    offset = np.clip(offset, 1 - band_px, band_px - 1)
    moved = moved_edge(hard, offset)
    if not moved.any() or moved.all():
        moved = hard
    return moved, trimap(moved, band_px)
