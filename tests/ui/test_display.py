"""The editors' display helpers: fast mask downscaling, and the tinted overlay the page shows."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.masks.compose import DEFAULT_TINT, overlay
from ui.display import mask_to_display


def test_mask_to_display_matches_one_step_area_average() -> None:
    mask = np.zeros((3000, 4000), np.float32)
    cv2.circle(mask, (2100, 1400), 900, 1.0, -1)
    small = mask_to_display(mask, (1152, 1536, 3))
    exact = cv2.resize(mask, (1536, 1152), interpolation=cv2.INTER_AREA)
    assert small.shape == (1152, 1536) and small.dtype == np.float32
    assert small.min() >= 0.0 and small.max() <= 1.0
    assert np.abs(small - exact).max() < 0.25  # outline pixels only
    assert abs(float(small.mean()) - float(mask.mean())) < 1e-3
    kernel = np.ones((3, 3), np.uint8)  # one display pixel away from the outline, nothing differs
    inside = cv2.erode((exact == 1.0).astype(np.uint8), kernel).astype(bool)
    outside = cv2.erode((exact == 0.0).astype(np.uint8), kernel).astype(bool)
    assert np.all(small[inside] == 1.0) and np.all(small[outside] == 0.0)


def test_mask_to_display_odd_size_and_same_size() -> None:
    mask = np.ones((701, 1003), np.float32)
    small = mask_to_display(mask, (233, 334))
    assert small.shape == (233, 334) and np.allclose(small, 1.0)
    assert mask_to_display(mask, (701, 1003)) is mask


def test_overlay_tints_only_the_mask_and_outlines_it() -> None:
    rng = np.random.default_rng(0)
    display = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 160), np.float32)
    mask[40:80, 50:110] = 1.0
    mask[40:80, 49] = 0.5  # a soft edge column
    out = overlay(display, mask, opacity=0.5)
    assert out.dtype == np.uint8 and out.shape == display.shape
    far = np.ones((120, 160), bool)
    far[35:85, 44:115] = False  # away from the mask and its outline
    assert np.array_equal(out[far], display[far])
    inner = (slice(45, 75), slice(55, 105))
    expected = display[inner] * 0.5 + np.array(DEFAULT_TINT, np.float32) * 0.5
    assert np.abs(out[inner].astype(np.float32) - expected).max() <= 1.0
    assert np.all(overlay(display, np.zeros_like(mask)) == display)
