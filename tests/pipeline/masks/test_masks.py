"""Mask engine: sources, refinement and metrics (``pipeline.masks``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from pipeline import masks
from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.masks.feather import BORDER, pyramid_levels
from pipeline.masks.morphology import disc
from pipeline.types import Box, check_image, check_mask, check_same_size

FAST = settings(max_examples=25, deadline=None)

sides = st.integers(min_value=1, max_value=24)
soft_masks = st.tuples(sides, sides).flatmap(
    lambda shape: arrays(np.float32, shape, elements=st.floats(0.0, 1.0, width=32))
)
binary_masks = st.tuples(sides, sides).flatmap(
    lambda shape: arrays(np.bool_, shape).map(lambda b: b.astype(np.float32))
)
any_masks = st.one_of(soft_masks, binary_masks)
radii = st.one_of(st.integers(0, 7), st.floats(0.0, 7.0))


def true_gaussian(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """The reference: scipy's Gaussian in float64, sigma = radius / 2, mirrored border."""
    assert BORDER == 2  # cv2.BORDER_REFLECT is scipy's "reflect"
    return ndimage.gaussian_filter(mask.astype(np.float64), radius_px / 2.0, mode="reflect", truncate=4.0)


def disc_footprint(radius: float) -> np.ndarray:
    reach = int(math.floor(radius))
    yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    return xx**2 + yy**2 <= radius**2


# ------------------------------------------------------------------ invert, threshold, combine


@FAST
@given(any_masks)
def test_invert_twice_is_identity(mask: np.ndarray) -> None:
    twice = masks.invert(masks.invert(mask))
    assert twice.dtype == np.float32 and twice.shape == mask.shape
    np.testing.assert_allclose(twice, mask, rtol=0, atol=2.0**-24)


@FAST
@given(binary_masks)
def test_invert_is_exact_on_binary_masks(mask: np.ndarray) -> None:
    assert np.array_equal(masks.invert(masks.invert(mask)), mask)
    assert np.array_equal(masks.invert(mask), 1 - mask)


@FAST
@given(soft_masks, st.floats(0.0, 1.0))
def test_threshold_is_binary_at_level(mask: np.ndarray, level: float) -> None:
    out = masks.threshold(mask, level)
    assert out.dtype == np.float32
    assert np.array_equal(out, (mask >= level).astype(np.float32))


@FAST
@given(binary_masks.flatmap(lambda a: st.tuples(st.just(a), arrays(np.bool_, a.shape))))
def test_combine_is_set_algebra_on_binary_masks(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b_bool = pair
    b = b_bool.astype(np.float32)
    a_bool = a > 0.5
    assert np.array_equal(masks.combine(a, b, "add") > 0.5, a_bool | b_bool)
    assert np.array_equal(masks.combine(a, b, "subtract") > 0.5, a_bool & ~b_bool)
    assert np.array_equal(masks.combine(a, b, "intersect") > 0.5, a_bool & b_bool)
    assert np.array_equal(masks.combine(a, b, "replace"), b)


def test_combine_on_soft_masks_is_fuzzy_max_min() -> None:
    a = np.array([[0.2, 0.7]], dtype=np.float32)
    b = np.array([[0.5, 0.4]], dtype=np.float32)
    np.testing.assert_allclose(masks.combine(a, b, "add"), [[0.5, 0.7]])
    np.testing.assert_allclose(masks.combine(a, b, "intersect"), [[0.2, 0.4]])
    np.testing.assert_allclose(masks.combine(a, b, "subtract"), [[0.2, 0.6]], atol=1e-7)


# ------------------------------------------------------------------ grow and shrink


@FAST
@given(any_masks, radii)
def test_shrink_below_mask_below_grow(mask: np.ndarray, radius: float) -> None:
    before = mask.copy()
    grown, shrunk = masks.grow(mask, radius), masks.shrink(mask, radius)
    assert np.array_equal(mask, before)  # inputs untouched
    for out in (grown, shrunk):
        assert out.dtype == np.float32 and out.shape == mask.shape
    assert np.all(shrunk <= mask) and np.all(mask <= grown)


@FAST
@given(binary_masks, radii)
def test_binary_grow_and_shrink_use_the_exact_euclidean_disc(mask: np.ndarray, radius: float) -> None:
    footprint = disc_footprint(radius)
    selected = mask > 0.5
    expected_grow = ndimage.binary_dilation(selected, structure=footprint)
    expected_shrink = ndimage.binary_erosion(selected, structure=footprint, border_value=1)
    assert np.array_equal(masks.grow(mask, radius) > 0.5, expected_grow)
    assert np.array_equal(masks.shrink(mask, radius) > 0.5, expected_shrink)


@FAST
@given(soft_masks, radii)
def test_soft_grow_and_shrink_are_grey_dilation_and_erosion(mask: np.ndarray, radius: float) -> None:
    footprint = disc_footprint(radius)
    dilated = ndimage.grey_dilation(mask, footprint=footprint, mode="nearest")
    eroded = ndimage.grey_erosion(mask, footprint=footprint, mode="nearest")
    np.testing.assert_array_equal(masks.grow(mask, radius), dilated)
    np.testing.assert_array_equal(masks.shrink(mask, radius), eroded)


def test_disc_is_round_with_the_exact_radius() -> None:
    kernel = disc(16)
    assert kernel.shape == (33, 33)
    assert kernel[16, 0] == 1 and kernel[0, 16] == 1  # (16, 0) is on the circle
    assert kernel[0, 0] == 0 and kernel[16 - 11, 16 - 11] == 1 and kernel[16 - 12, 16 - 12] == 0  # 11^2*2 <= 256


def test_grow_of_a_point_by_a_large_radius_is_a_disc() -> None:
    mask = np.zeros((201, 201), np.float32)
    mask[100, 100] = 1
    grown = masks.grow(mask, 64)
    assert masks.area_px(grown) == int(disc(64).sum())
    assert masks.bounding_box(grown) == Box(36, 36, 165, 165)
    assert np.array_equal(masks.shrink(grown, 64), mask)


def test_shrink_does_not_eat_from_the_frame() -> None:
    mask = np.ones((20, 30), np.float32)
    mask[:, 25:] = 0
    shrunk = masks.shrink(mask, 3)
    assert shrunk[:, :22].min() == 1 and shrunk[:, 22:].max() == 0


# ------------------------------------------------------------------ feather


@FAST
@given(any_masks, st.floats(0.0, 40.0))
def test_feather_keeps_shape_dtype_and_range(mask: np.ndarray, radius: float) -> None:
    before = mask.copy()
    out = masks.feather(mask, radius)
    assert np.array_equal(mask, before)
    assert out.shape == mask.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def _patterns(shape: tuple[int, int]) -> dict[str, np.ndarray]:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(7)
    return {
        "disc": ((xx - w * 0.45) ** 2 + (yy - h * 0.55) ** 2 < (0.3 * min(h, w)) ** 2).astype(np.float32),
        "corner": ((xx < w // 3) & (yy < h // 2)).astype(np.float32),
        "stripes": ((xx % 9) < 4).astype(np.float32),
        "speckle": (rng.random((h, w)) > 0.97).astype(np.float32),
        "soft": rng.random((h, w)).astype(np.float32),
    }


@pytest.mark.parametrize("shape", [(256, 320), (251, 193)])
@pytest.mark.parametrize("radius", [4, 16, 40, 64])
def test_feather_is_close_to_a_true_gaussian(shape: tuple[int, int], radius: int) -> None:
    for name, mask in _patterns(shape).items():
        error = np.abs(masks.feather(mask, radius) - true_gaussian(mask, radius)).max()
        assert error < 3 / 255, f"{name}: {error * 255:.2f}/255"


def test_large_feathers_take_the_pyramid_path() -> None:
    assert pyramid_levels(2.0, (4096, 4096)) == 0
    assert pyramid_levels(32.0, (4096, 4096)) == 3
    assert pyramid_levels(32.0, (20, 4096)) == 1  # never below 8 samples on the short side


def test_feather_is_smooth_and_monotonic_across_a_straight_edge() -> None:
    mask = np.zeros((64, 512), np.float32)
    mask[:, 256:] = 1
    row = masks.feather(mask, 64)[32]
    steps = np.diff(row.astype(np.float64))
    assert steps.min() >= -1e-6  # no ringing
    assert steps.max() < 1.2 / (math.sqrt(2 * math.pi) * 32)  # no bands: slope near the Gaussian's
    assert abs(float(row[255]) + float(row[256]) - 1.0) < 2e-3  # centred on the edge


def test_feather_leaves_far_pixels_alone() -> None:
    mask = np.zeros((300, 300), np.float32)
    mask[100:200, 100:200] = 1
    out = masks.feather(mask, 8)  # sigma 4: 4 sigma = 16 px
    assert out[:80].max() == 0 and out[140:160, 140:160].min() == pytest.approx(1.0, abs=1e-6)
    assert np.array_equal(masks.feather(mask, 0), mask)


# ------------------------------------------------------------------ holes and islands


@FAST
@given(binary_masks)
def test_fill_holes_matches_scipy(mask: np.ndarray) -> None:
    expected = ndimage.binary_fill_holes(mask > 0.5)
    assert np.array_equal(masks.fill_holes(mask) > 0.5, expected)


def test_fill_holes_keeps_soft_edges_and_respects_max_hole() -> None:
    mask = np.zeros((40, 40), np.float32)
    mask[5:35, 5:35] = 1
    mask[10:13, 10:13] = 0  # 9 px hole
    mask[20:30, 20:30] = 0  # 100 px hole
    mask[4, 5:35] = 0.3  # soft fringe outside
    filled = masks.fill_holes(mask)
    assert filled[5:35, 5:35].min() == 1 and filled[4, 10] == pytest.approx(0.3)
    small_only = masks.fill_holes(mask, max_hole_px=50)
    assert small_only[11, 11] == 1 and small_only[25, 25] == 0


@FAST
@given(binary_masks, st.integers(0, 20))
def test_remove_islands_matches_scipy_labels(mask: np.ndarray, min_area: int) -> None:
    labels, count = ndimage.label(mask > 0.5, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes >= min_area
    keep[0] = False
    expected = keep[labels] if min_area > 0 else mask > 0.5
    assert np.array_equal(masks.remove_islands(mask, min_area) > 0.5, expected)


def test_remove_islands_drops_soft_fringe_with_its_island() -> None:
    mask = np.zeros((30, 30), np.float32)
    mask[2:4, 2:4] = 1
    mask[1, 1:5] = 0.2  # fringe of the small island
    mask[10:25, 10:25] = 1
    out = masks.remove_islands(mask, 10)
    assert out[:5, :5].max() == 0 and out[10:25, 10:25].min() == 1


# ------------------------------------------------------------------ measures


@FAST
@given(soft_masks)
def test_bounding_box_and_area_agree_with_numpy(mask: np.ndarray) -> None:
    rows, cols = np.nonzero(mask >= 0.5)
    box = masks.bounding_box(mask)
    assert masks.area_px(mask) == rows.size
    if rows.size == 0:
        assert box is None
    else:
        assert box == Box(cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def test_iou_and_sad() -> None:
    a = np.zeros((10, 10), np.float32)
    b = np.zeros((10, 10), np.float32)
    a[:, :6] = 1
    b[:, 3:] = 1
    assert masks.iou(a, b) == pytest.approx(30 / 100)
    ignore = np.zeros((10, 10), bool)
    ignore[:, 6:] = True
    assert masks.iou(a, b, ignore=ignore) == pytest.approx(30 / 60)
    assert masks.iou(np.zeros_like(a), np.zeros_like(a)) == 1.0
    assert masks.sad(a, b) == pytest.approx(70.0)
    half = np.full((10, 10), 0.5, np.float32)
    assert masks.sad(half, a) == pytest.approx(50.0)
    with pytest.raises(InvalidInput, match="bool"):
        masks.iou(a, b, ignore=ignore.astype(np.uint8))


# ------------------------------------------------------------------ sources


def test_from_alpha_reads_every_alpha_format() -> None:
    alpha8 = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_allclose(masks.from_alpha(alpha8), [[0, 128 / 255, 1]], atol=1e-7)
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[..., 3] = alpha8
    assert np.array_equal(masks.from_alpha(rgba, threshold=0.5), np.array([[0, 1, 1]], np.float32))
    soft = np.array([[0.25, 0.75]], np.float32)
    assert np.array_equal(masks.from_alpha(soft), soft)
    assert np.array_equal(masks.from_alpha(np.array([[0, 65535]], np.uint16)), np.array([[0, 1]], np.float32))


def test_from_gray_thresholds_or_keeps_soft() -> None:
    gray = np.array([[0, 100, 200, 255]], np.uint8)
    assert np.array_equal(masks.from_gray(gray), np.array([[0, 0, 1, 1]], np.float32))
    assert np.array_equal(masks.from_gray(gray, threshold=0.3), np.array([[0, 1, 1, 1]], np.float32))
    np.testing.assert_allclose(masks.from_gray(gray, threshold=None), gray[None, 0] / 255.0, atol=1e-7)
    assert np.array_equal(masks.from_gray(np.array([[True, False]])), np.array([[1, 0]], np.float32))


def test_from_labels_by_id_and_by_colour() -> None:
    ids = np.array([[0, 1, 2], [3, 2, 1]], np.int32)
    assert np.array_equal(masks.from_labels(ids, 2), (ids == 2).astype(np.float32))
    assert np.array_equal(masks.from_labels(ids, [1, 3]), np.isin(ids, [1, 3]).astype(np.float32))
    assert masks.from_labels(ids, [7]).max() == 0
    colours = np.zeros((2, 2, 3), np.uint8)
    colours[0, 0] = (255, 0, 0)
    colours[1, 1] = (0, 0, 255)
    colours[0, 1] = (0, 255, 0)
    assert np.array_equal(masks.from_labels(colours, (255, 0, 0)), np.array([[1, 0], [0, 0]], np.float32))
    both = masks.from_labels(colours, [(255, 0, 0), (0, 0, 255)])
    assert np.array_equal(both, np.array([[1, 0], [0, 1]], np.float32))
    with pytest.raises(InvalidInput, match="colour"):
        masks.from_labels(colours, [3])
    with pytest.raises(InvalidInput, match="whole numbers"):
        masks.from_labels(ids, [(255, 0, 0)])
    with pytest.raises(InvalidInput, match="non-empty"):
        masks.from_labels(ids, [])


def test_from_color_picks_the_backdrop_of_a_studio_shot(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    picked = tuple(int(v) for v in photo[5, 5])
    backdrop = masks.from_color(photo, picked, tolerance=15)
    assert masks.iou(backdrop, 1 - disc_mask) > 0.97
    soft = masks.from_color(photo, picked, tolerance=2, softness=15)
    assert np.all(soft >= masks.from_color(photo, picked, tolerance=2))
    assert np.any((soft > 0.05) & (soft < 0.95))  # the textured backdrop rolls off
    assert soft[disc_mask > 0].max() == 0
    assert masks.from_color(photo, (200, 40, 30), tolerance=5).sum() > 0  # the lit side of the disc


def test_from_luminance_selects_a_range_with_soft_rolloff() -> None:
    ramp = np.repeat(np.linspace(0, 255, 256).astype(np.uint8)[None, :, None], 3, axis=2)  # grey ramp
    hard = masks.from_luminance(ramp, 0.25, 0.5, softness=0)[0]
    luma = np.arange(256) / 255.0
    assert np.array_equal(hard > 0.5, (luma >= 0.25 - 1e-6) & (luma <= 0.5 + 1e-6))
    soft = masks.from_luminance(ramp, 0.25, 0.5, softness=0.1)[0]
    assert np.all(soft >= hard) and soft[int(0.55 * 255)] > 0 and soft[int(0.65 * 255)] == 0
    assert np.all(np.diff(soft[128:]) <= 0) and np.all(np.diff(soft[:64]) >= 0)  # smooth roll-off


# ------------------------------------------------------------------ bad input


def test_bad_input_raises_helpful_errors() -> None:
    mask = np.zeros((8, 8), np.float32)
    with pytest.raises(InvalidInput, match="float32"):
        masks.grow(mask.astype(np.float64), 2)
    with pytest.raises(InvalidInput, match="float32"):
        masks.feather(np.zeros((8, 8, 3), np.float32), 2)
    with pytest.raises(InvalidInput, match=">= 0"):
        masks.feather(mask, -1)
    with pytest.raises(InvalidInput, match=">= 0"):
        masks.shrink(mask, -3)
    with pytest.raises(InvalidInput, match="outside"):
        masks.invert(np.full((4, 4), 1.5, np.float32))
    with pytest.raises(InvalidInput, match="NaN"):
        masks.feather(np.full((4, 4), np.nan, np.float32), 2)
    with pytest.raises(InvalidInput, match="unknown combine mode 'xor'"):
        masks.combine(mask, mask, "xor")  # type: ignore[arg-type]
    with pytest.raises(SizeMismatch, match="8x8.*6x5"):
        masks.combine(mask, np.zeros((5, 6), np.float32), "add")
    with pytest.raises(SizeMismatch):
        masks.iou(mask, np.zeros((5, 6), np.float32))
    with pytest.raises(InvalidInput, match="uint8"):
        masks.from_color(np.zeros((4, 4, 3), np.float32), (0, 0, 0))
    with pytest.raises(InvalidInput, match="0..255"):
        masks.from_color(np.zeros((4, 4, 3), np.uint8), (0, 0, 300))
    with pytest.raises(InvalidInput, match="low > high"):
        masks.from_luminance(np.zeros((4, 4, 3), np.uint8), 0.8, 0.2)
    with pytest.raises(InvalidInput, match="dtype int64"):
        masks.from_gray(np.zeros((4, 4), np.int64))
    with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
        masks.from_gray(np.full((4, 4), 2.0))
    with pytest.raises(InvalidInput, match="min_area_px"):
        masks.remove_islands(mask, -1)


def test_mask_check_reads_the_bits_right() -> None:
    mask = np.zeros((3, 3), np.float32)
    mask[0, 0] = -0.0  # a legal zero
    mask[1, 1] = 1.0
    assert masks.area_px(mask) == 1
    for bad in (np.nextafter(np.float32(1), np.float32(2)), -1e-30, np.inf, -np.inf):
        mask[2, 2] = bad
        with pytest.raises(InvalidInput, match="outside"):
            masks.area_px(mask)


def test_the_one_array_check_says_what_is_wrong_and_what_to_do() -> None:
    good = np.zeros((2, 3), np.float32)
    assert check_mask(good) is good
    with pytest.raises(InvalidInput, match=r"float32.*float64.*from_gray"):
        check_mask(good.astype(np.float64))
    with pytest.raises(InvalidInput, match="alpha is empty"):
        check_mask(np.zeros((0, 3), np.float32), "alpha")
    with pytest.raises(InvalidInput, match=r"from -1 to -1.*clip it"):
        check_mask(good - 1)
    with pytest.raises(InvalidInput, match=r"uint8 RGB.*float32"):
        check_image(good)
    with pytest.raises(SizeMismatch, match=r"^mask is 3x2 but the image is 4x2; .*resize"):
        check_same_size(good, np.zeros((2, 4, 3), np.uint8))
    with pytest.raises(SizeMismatch, match=r"^base is 3x2 but other is 3x1"):
        check_same_size(good, good[:1], "base", "other")
