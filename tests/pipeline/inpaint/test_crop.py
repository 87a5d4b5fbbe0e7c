"""Crop-to-mask geometry and paste-back (pure numpy, no model)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import EmptyMask, InvalidInput
from pipeline.inpaint.crop import (
    CropOptions,
    CropPlan,
    cut_image,
    cut_mask,
    paste,
    plan_crop,
    selected_box,
    work_size,
)


def disc(width: int, height: int, cx: float, cy: float, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    return ((xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2).astype(np.float32)


def test_selected_box_counts_every_nonzero_pixel() -> None:
    mask = np.zeros((20, 30), np.float32)
    assert selected_box(mask) is None
    mask[5, 7] = 1e-6  # a faint feather tail still counts: the paste may change it
    mask[12, 21] = 1.0
    assert selected_box(mask) == (7, 5, 22, 13)


SIZES = [(4000, 3000, 512, (512, 384)), (64, 64, 512, (512, 512)), (1000, 10, 1024, (1024, 8)), (3, 2, 32, (32, 24))]


@pytest.mark.parametrize(("w", "h", "native", "expected"), SIZES)
def test_work_size_keeps_aspect_in_multiples_of_8(w: int, h: int, native: int, expected: tuple[int, int]) -> None:
    size = work_size(w, h, native)
    assert size == expected
    assert all(s % 8 == 0 and s >= 8 for s in size)


def test_small_mask_on_a_large_photo_costs_a_native_square() -> None:
    # 4000 x 3000 photo, a disc covering 3 % of it.
    radius = np.sqrt(0.03 * 4000 * 3000 / np.pi)
    mask = disc(4000, 3000, 2500, 1200, radius)
    assert abs(mask.mean() - 0.03) < 0.001
    plan = plan_crop(mask, native_px=512)
    assert plan.mode == "crop"
    assert plan.work_size == (512, 512)
    x0, y0, x1, y1 = selected_box(mask)  # type: ignore[misc]
    assert plan.x0 <= x0 and plan.y0 <= y0 and plan.x1 >= x1 and plan.y1 >= y1
    region_w, region_h = plan.region_size
    assert region_w == region_h  # square: it fits inside the photo
    margin = (region_w - (x1 - x0)) / 2
    assert margin >= 0.25 * (x1 - x0) - 1  # the context margin is there
    assert region_w * region_h < 0.2 * 4000 * 3000


def test_crop_near_a_corner_is_clamped_and_still_covers_the_selection() -> None:
    mask = np.zeros((600, 800), np.float32)
    mask[0:40, 770:800] = 1.0
    plan = plan_crop(mask, native_px=64, options=CropOptions(context_px=50))
    assert plan.mode == "crop"
    assert 0 <= plan.x0 < plan.x1 == 800 and plan.y0 == 0 < plan.y1 <= 600
    assert plan.region_size == (140, 140)  # 40 + 2 * 50, shifted inside the image
    assert plan.work_size == (64, 64)


def test_auto_uses_the_full_image_when_small_or_when_the_mask_is_large() -> None:
    small = disc(64, 48, 10, 10, 4)
    assert plan_crop(small, native_px=512).mode == "full"  # the image fits the native size
    big = disc(2000, 1500, 1000, 750, 600)
    plan = plan_crop(big, native_px=512)
    assert plan.mode == "full" and (plan.x0, plan.y0, plan.x1, plan.y1) == (0, 0, 2000, 1500)
    assert plan.work_size == (512, 384)
    full = np.ones((300, 400), np.float32)
    assert plan_crop(full, native_px=64).mode == "full"


def test_forced_modes() -> None:
    small = disc(64, 48, 10, 10, 4)
    crop = plan_crop(small, native_px=512, options=CropOptions(mode="crop", context_px=4, context_fraction=0))
    assert crop.mode == "crop" and crop.region_size == (17, 17) and crop.work_size == (512, 512)
    big = disc(2000, 1500, 100, 100, 10)
    assert plan_crop(big, native_px=512, options=CropOptions(mode="full")).mode == "full"


def test_empty_mask_and_bad_options_are_refused() -> None:
    with pytest.raises(EmptyMask, match="nothing selected"):
        plan_crop(np.zeros((10, 10), np.float32), native_px=64)
    with pytest.raises(InvalidInput, match="crop mode"):
        CropOptions(mode="middle")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="context"):
        CropOptions(context_px=-1)
    with pytest.raises(InvalidInput, match="full_area_fraction"):
        CropOptions(full_area_fraction=0)


@pytest.mark.parametrize(("work_w", "work_h"), [(64, 48), (800, 600)])
def test_cut_mask_covers_every_selected_pixel(work_w: int, work_h: int) -> None:
    rng = np.random.default_rng(0)
    mask = np.zeros((300, 400), np.float32)
    points = rng.integers(0, (300, 400), size=(5, 2))
    mask[points[:, 0], points[:, 1]] = 0.01  # isolated faint pixels, smaller than a work pixel
    plan = CropPlan("full", 0, 0, 400, 300, work_w, work_h)
    work = np.asarray(cut_mask(mask, plan))
    assert work.shape == (work_h, work_w)
    assert set(np.unique(work)) <= {0, 255}
    for y, x in points:  # the work pixel whose footprint holds the point (1 px tolerance for rounding)
        cy, cx = int(y * work_h / 300), int(x * work_w / 400)
        assert work[max(cy - 1, 0) : cy + 2, max(cx - 1, 0) : cx + 2].max() == 255
    assert (work == 255).sum() <= 5 * max(1, (work_w // 400 + 1) * (work_h // 300 + 1))
    grown = np.asarray(cut_mask(mask, plan, grow_px=2))
    assert (grown >= work).all() and (grown == 255).sum() > (work == 255).sum()


def test_cut_image_resizes_the_region() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[10:30, 50:70] = (255, 0, 0)
    plan = CropPlan("crop", 50, 10, 70, 30, 64, 64)
    cut = np.asarray(cut_image(image, plan))
    assert cut.shape == (64, 64, 3)
    assert (cut[..., 0] > 250).all() and (cut[..., 1] < 5).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    soft=st.booleans(),
    height=st.integers(8, 60),
    width=st.integers(8, 60),
)
def test_paste_keeps_unselected_pixels_byte_identical(seed: int, soft: bool, height: int, width: int) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = (rng.random((height, width)) < 0.2).astype(np.float32)
    if soft:
        mask *= rng.random((height, width)).astype(np.float32)
    if not mask.any():
        mask[0, 0] = 1.0
    plan = plan_crop(mask, native_px=32, options=CropOptions(mode="crop", context_px=2))
    result = rng.integers(0, 256, (plan.work_h, plan.work_w, 3), dtype=np.uint8)
    out = paste(image, result, mask, plan)
    assert out.shape == image.shape and out.dtype == np.uint8
    keep = mask == 0
    assert np.array_equal(out[keep], image[keep])
    assert not np.shares_memory(out, image)


def test_paste_takes_the_result_exactly_where_the_mask_is_one() -> None:
    image = np.full((48, 64, 3), 10, np.uint8)
    mask = np.zeros((48, 64), np.float32)
    mask[10:20, 10:30] = 1.0
    mask[30:40, 10:30] = 0.5
    plan = CropPlan("full", 0, 0, 64, 48, 64, 48)  # no resizing
    result = np.full((48, 64, 3), 200, np.uint8)
    out = paste(image, result, mask, plan)
    assert (out[10:20, 10:30] == 200).all()
    assert (out[30:40, 10:30] == 105).all()  # half way
    assert (out[0:10] == 10).all()
    with pytest.raises(InvalidInput, match="work size"):
        paste(image, result[:8], mask, plan)
