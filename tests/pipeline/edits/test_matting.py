"""Edge mattes: the trimap, the classical closed-form matter, and the checks on what they refuse."""

from __future__ import annotations

import numpy as np
import pytest
from soft_disc import grown, soft_disc

from pipeline.edits.closed_form import ClassicMatter
from pipeline.edits.matting import UNKNOWN, auto_band_px, refine_edge, trimap
from pipeline.errors import EmptyMask, InvalidInput


def test_the_trimap_is_unknown_in_a_band_around_the_edge_and_known_elsewhere() -> None:
    _, alpha = soft_disc()
    hard = (alpha >= 0.5).astype(np.float32)
    tri = trimap(hard, 4)
    assert set(np.unique(tri)) == {0, UNKNOWN, 255}
    assert tri[48, 48] == 255 and tri[0, 0] == 0 and tri[48, 48 + 28] == UNKNOWN
    assert np.all(hard[tri == 255] == 1) and np.all(hard[tri == 0] == 0)


@pytest.mark.parametrize("offset_px", [0, 2, -2])
def test_the_classical_matte_is_closer_to_the_true_alpha_than_the_mask_it_started_from(offset_px: int) -> None:
    image, alpha = soft_disc()
    hard = grown((alpha >= 0.5).astype(np.float32), offset_px) if offset_px else (alpha >= 0.5).astype(np.float32)
    matte = refine_edge(image, hard, band_px=6)
    assert matte.dtype == np.float32 and matte.shape == hard.shape
    assert np.abs(matte - alpha).sum() < 0.7 * np.abs(hard - alpha).sum()


def test_pixels_beyond_the_band_keep_the_mask_value() -> None:
    image, alpha = soft_disc()
    hard = (alpha >= 0.5).astype(np.float32)
    matte = refine_edge(image, hard, band_px=3)
    outside = trimap(hard, 3) != UNKNOWN
    assert np.array_equal(matte[outside], hard[outside])


def test_a_large_window_is_solved_smaller_and_known_pixels_stay_exact() -> None:
    image, alpha = soft_disc(size=96)
    hard = (alpha >= 0.5).astype(np.float32)
    small = refine_edge(image, hard, band_px=4, matter=ClassicMatter(max_solve_pixels=1500))
    full = refine_edge(image, hard, band_px=4)
    band = trimap(hard, 4) == UNKNOWN
    assert np.array_equal(small[~band], hard[~band])
    assert np.abs(small - full)[band].mean() < 0.15  # a coarser solve of the same matte


def test_the_automatic_band_scales_with_the_photo() -> None:
    assert auto_band_px((600, 800)) == 8
    assert auto_band_px((3000, 4000)) == 40
    assert auto_band_px((60, 80)) == 3


def test_an_empty_or_full_mask_is_one_clear_error() -> None:
    image, _ = soft_disc()
    with pytest.raises(EmptyMask, match="selects nothing"):
        refine_edge(image, np.zeros(image.shape[:2], np.float32))
    with pytest.raises(InvalidInput, match="whole photo"):
        refine_edge(image, np.ones(image.shape[:2], np.float32))
    with pytest.raises(InvalidInput, match="band"):
        refine_edge(image, np.pad(np.ones((10, 10), np.float32), 43), band_px=0)
