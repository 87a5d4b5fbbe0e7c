"""Centring the matte's band on the photo's edge: the probe's offset, the moved edge, and the gain."""

from __future__ import annotations

import numpy as np
import pytest
from soft_disc import grown, soft_disc

from pipeline.edits.closed_form import ClassicMatter
from pipeline.edits.edge_follow import follow_photo_edge, moved_edge
from pipeline.edits.matting import UNKNOWN, refine_edge, trimap


def radius_of(mask: np.ndarray) -> float:
    return float(np.sqrt(mask.sum() / np.pi))


def test_moving_the_edge_by_a_constant_is_an_erosion_or_a_dilation() -> None:
    _, alpha = soft_disc()
    hard = (alpha >= 0.5).astype(np.float32)
    inward = moved_edge(hard, np.full(hard.shape, 3.0, np.float32))
    outward = moved_edge(hard, np.full(hard.shape, -3.0, np.float32))
    assert radius_of(inward) == pytest.approx(radius_of(hard) - 3, abs=0.5)
    assert radius_of(outward) == pytest.approx(radius_of(hard) + 3, abs=0.5)
    assert np.array_equal(moved_edge(hard, np.zeros(hard.shape, np.float32)), hard)
    assert np.array_equal(moved_edge(hard, np.full(hard.shape, 0.4, np.float32)), hard)  # under half a pixel


@pytest.mark.parametrize(("offset_px", "size"), [(3, 96), (-3, 96), (3, 300)])  # 300: the probe at half size
def test_a_mask_three_pixels_off_is_moved_back_onto_the_photos_edge(offset_px: int, size: int) -> None:
    image, alpha = soft_disc(size=size, radius=size * 0.3)
    truth = (alpha >= 0.5).astype(np.float32)
    hard = grown(truth, offset_px)
    moved, known = follow_photo_edge(image, hard, ClassicMatter(), band_px=6, radius_px=None)
    assert abs(radius_of(moved) - radius_of(truth)) < 1.0 < abs(radius_of(hard) - radius_of(truth))
    assert np.array_equal(known, trimap(moved, 6))


def test_following_the_edge_beats_a_band_centred_on_a_grown_mask() -> None:
    image, alpha = soft_disc()
    hard = grown((alpha >= 0.5).astype(np.float32), 3)
    followed = refine_edge(image, hard, band_px=6)
    centred = refine_edge(image, hard, band_px=6, matter=ClassicMatter(follows_edge=False))
    assert np.abs(followed - alpha).sum() < 0.8 * np.abs(centred - alpha).sum()


def test_pixels_beyond_twice_the_band_keep_the_mask_value() -> None:
    image, alpha = soft_disc()
    hard = grown((alpha >= 0.5).astype(np.float32), 3)
    matte = refine_edge(image, hard, band_px=4)
    far = trimap(hard, 8) != UNKNOWN
    assert np.array_equal(matte[far], hard[far])
