"""Overlays, compositing, cutouts and previews (``pipeline.masks.compose``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pipeline import masks
from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.masks import compose

FAST = settings(max_examples=30, deadline=None)

shapes = st.tuples(st.integers(1, 20), st.integers(1, 20))
triples = shapes.flatmap(
    lambda s: st.tuples(
        arrays(np.uint8, (*s, 3)),
        arrays(np.uint8, (*s, 3)),
        arrays(np.float32, s, elements=st.floats(0.0, 1.0, width=32)),
    )
)


@FAST
@given(triples)
def test_composite_is_exact_for_all_ones_and_all_zeros(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    fg, bg, _ = case
    ones = np.ones(fg.shape[:2], np.float32)
    assert np.array_equal(compose.composite(fg, bg, ones), fg)
    assert np.array_equal(compose.composite(fg, bg, np.zeros_like(ones)), bg)


@FAST
@given(triples)
def test_composite_blends_linearly(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    fg, bg, mask = case
    saved = (fg.copy(), bg.copy(), mask.copy())
    out = compose.composite(fg, bg, mask)
    exact = fg * mask[..., None].astype(np.float64) + bg * (1.0 - mask[..., None].astype(np.float64))
    assert out.dtype == np.uint8 and out.shape == fg.shape
    assert np.abs(out - exact).max() <= 0.51
    assert all(np.array_equal(a, b) for a, b in zip(saved, (fg, bg, mask), strict=True))
    exact_pixels = (mask == 0) | (mask == 1)
    assert np.array_equal(out[exact_pixels], np.where((mask == 1)[..., None], fg, bg)[exact_pixels])


def test_cutout_puts_the_mask_in_the_alpha_channel_and_hides_nothing(photo: np.ndarray) -> None:
    mask = masks.feather(masks.from_color(photo, tuple(int(v) for v in photo[48, 64]), tolerance=40), 6)
    saved = mask.copy()
    rgba = compose.cutout(photo, mask)
    assert rgba.shape == (*photo.shape[:2], 4) and rgba.dtype == np.uint8
    alpha = rgba[..., 3]
    assert np.array_equal(alpha, np.rint(mask * np.float32(255)).astype(np.uint8))
    visible = alpha > 0
    assert 0 < np.count_nonzero(visible) < visible.size
    assert np.array_equal(rgba[..., :3][visible], photo[visible])
    assert not rgba[..., :3][~visible].any()  # invisible pixels are stored as black
    assert np.array_equal(mask, saved)


@FAST
@given(triples)
def test_cutout_rounds_like_rint_and_blacks_out_only_transparent_pixels(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    image, _, mask = case
    rgba = compose.cutout(image, mask)
    alpha = np.rint(mask * np.float32(255)).astype(np.uint8)
    assert np.array_equal(rgba[..., 3], alpha)
    assert np.array_equal(rgba[..., :3], np.where((alpha > 0)[..., None], image, 0))


def _full_frame_overlay(
    image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int], opacity: float, px: int
) -> np.ndarray:
    """The overlay computed over the whole frame, the plain way: what the bounding-box version must equal."""
    weight = mask * np.float32(opacity)
    solid = np.empty_like(image)
    solid[:] = color
    out = cv2.blendLinear(solid, image, weight, np.float32(1.0) - weight)
    inside = (mask >= 0.5).astype(np.uint8)
    band = (inside - cv2.erode(inside, np.ones((3, 3), np.uint8), iterations=px)).astype(bool)
    out[band] = compose.OUTLINE_RGB
    return out


@FAST
@given(triples, st.integers(1, 3), st.floats(0.0, 1.0))
def test_overlay_equals_the_full_frame_computation(
    case: tuple[np.ndarray, np.ndarray, np.ndarray], px: int, opacity: float
) -> None:
    image, _, mask = case
    mask = mask * (mask > 0.3)  # some exact zeros, so the bounding box is often smaller than the frame
    saved = (image.copy(), mask.copy())
    out = compose.overlay(image, mask, color=(10, 200, 30), opacity=opacity, outline_px=px)
    assert np.array_equal(out, _full_frame_overlay(image, mask, (10, 200, 30), opacity, px))
    assert np.array_equal(saved[0], image) and np.array_equal(saved[1], mask)


def test_overlay_tints_the_selection_and_outlines_it(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    out = compose.overlay(photo, disc_mask, color=(0, 0, 255), opacity=0.5, outline_px=2)
    outside = disc_mask == 0
    assert np.array_equal(out[outside], photo[outside])
    centre = out[48, 64].astype(int)
    assert centre[2] > photo[48, 64, 2] + 80 and abs(centre[2] - (int(photo[48, 64, 2]) + 255) / 2) <= 1
    edge = (disc_mask > 0) & (cv2.erode(disc_mask, np.ones((3, 3), np.uint8), iterations=2) == 0)
    assert np.all(out[edge] == compose.OUTLINE_RGB)
    red = compose.overlay(photo, disc_mask, outline_px=2, outline_color=(255, 0, 0))
    assert np.all(red[edge] == (255, 0, 0))
    plain = compose.overlay(photo, disc_mask, opacity=0.0, outline=False)
    assert np.array_equal(plain, photo)
    assert np.array_equal(compose.overlay(photo, np.zeros_like(disc_mask)), photo)


def test_overlay_line_scales_with_the_picture() -> None:
    image = np.zeros((1000, 1500, 3), np.uint8)
    mask = np.zeros((1000, 1500), np.float32)
    mask[200:800, 300:1200] = 1.0
    out = compose.overlay(image, mask, opacity=0.0)
    assert np.all(out[200:203, 600] == 255) and np.all(out[203:797, 600] == 0)  # 1500 / 500 = 3 px
    assert np.all(compose.overlay(image[:100, :100], mask[:100, :100] + 1, opacity=0.0) == 0)


def test_overlay_draws_no_outline_along_the_frame() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    out = compose.overlay(image, np.ones((10, 10), np.float32), opacity=0.0)
    assert out.max() == 0
    corner = np.zeros((10, 10), np.float32)
    corner[:4, :4] = 1.0
    lined = compose.overlay(image, corner, opacity=0.0, outline_px=1)
    assert lined[3, 0].tolist() == [255, 255, 255] and lined[0, 0].max() == 0  # inner edge only


def test_fit_within_downscales_the_long_side_only_when_needed() -> None:
    image = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    assert compose.fit_within(image, 500) is image
    small = compose.fit_within(image, 100)
    assert small.shape == (60, 100, 3) and small.dtype == np.uint8
    assert abs(float(small.mean()) - float(image.mean())) < 1.0  # area averaging keeps the mean
    mask = np.ones((400, 90), np.float32)
    fitted = compose.fit_within(mask, 200)
    assert fitted.shape == (200, 45) and fitted.dtype == np.float32 and fitted.max() <= 1.0
    assert compose.fit_within(np.zeros((50, 40, 1), np.uint8), 10).shape == (10, 8, 1)
    with pytest.raises(InvalidInput, match="max_side"):
        compose.fit_within(image, 0)


def test_preview_feathers_at_full_size_then_overlays_at_display_size(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    shown = compose.preview(photo, disc_mask, feather_px=8, max_side=64)
    assert shown.shape == (48, 64, 3) and shown.dtype == np.uint8
    expected = compose.overlay(compose.fit_within(photo, 64), compose.fit_within(masks.feather(disc_mask, 8), 64))
    assert np.array_equal(shown, expected)  # a factor of exactly 2: pure area averaging
    odd = compose.preview(photo, disc_mask, feather_px=1, max_side=50)  # factor 2.56: area, then bilinear
    reference = compose.overlay(compose.fit_within(photo, 50), compose.fit_within(masks.feather(disc_mask, 1), 50))
    assert odd.shape == reference.shape == (38, 50, 3)
    assert np.abs(odd.astype(int) - reference).mean() < 2.0
    assert compose.preview(photo, disc_mask, feather_px=0).shape == photo.shape


def test_encode_png_round_trips_rgb_and_rgba(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    data = compose.encode_png(photo)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
    assert np.array_equal(decoded, photo)
    rgba = compose.cutout(photo, disc_mask)
    back = cv2.imdecode(np.frombuffer(compose.encode_png(rgba), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(back, cv2.COLOR_BGRA2RGBA), rgba)


def test_bad_input_raises_helpful_errors(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    with pytest.raises(SizeMismatch, match="128x96"):
        compose.composite(photo, photo[:50], disc_mask)
    with pytest.raises(SizeMismatch, match="mask is 64x96"):
        compose.overlay(photo, np.ascontiguousarray(disc_mask[:, :64]))
    with pytest.raises(InvalidInput, match="float32"):
        compose.cutout(photo, disc_mask.astype(np.float64))
    with pytest.raises(InvalidInput, match="uint8"):
        compose.composite(photo.astype(np.float32), photo, disc_mask)
    with pytest.raises(InvalidInput, match="colour"):
        compose.overlay(photo, disc_mask, color=(0, 0, 256))
    with pytest.raises(InvalidInput, match="outline colour"):
        compose.overlay(photo, disc_mask, outline_color=(0, 0))
    with pytest.raises(InvalidInput, match="outline_px"):
        compose.overlay(photo, disc_mask, outline_px=-1)
    with pytest.raises(InvalidInput, match="opacity"):
        compose.overlay(photo, disc_mask, opacity=1.5)
    with pytest.raises(InvalidInput, match=">= 0"):
        compose.preview(photo, disc_mask, feather_px=-2)
    with pytest.raises(InvalidInput, match="uint8"):
        compose.encode_png(disc_mask)
