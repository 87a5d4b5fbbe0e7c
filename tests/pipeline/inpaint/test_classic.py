"""The classical engine: fills holes from their surroundings, fast, without touching the rest."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline.errors import Cancelled, InvalidInput
from pipeline.inpaint.classic import ClassicInpainter, smooth_fill
from pipeline.inpaint.protocol import Inpainter, InpaintRequest


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(error, 1e-12))


def _gradient(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([xs / w * 200 + 20, ys / h * 200 + 20, (xs + ys) / (w + h) * 100 + 50], axis=-1).astype(np.uint8)


def test_is_an_inpainter() -> None:
    assert isinstance(ClassicInpainter(), Inpainter)
    assert ClassicInpainter().name == "classic"


@pytest.mark.parametrize("size", [(64, 80), (600, 900)])
def test_fills_a_smooth_background_closely_and_keeps_the_rest(size: tuple[int, int]) -> None:
    h, w = size
    truth = _gradient(h, w)
    mask = np.zeros((h, w), np.float32)
    mask[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = 1.0
    damaged = truth.copy()
    damaged[mask > 0] = (255, 0, 255)
    before = damaged.copy()
    out = ClassicInpainter().inpaint(InpaintRequest(damaged, mask))
    hole = mask > 0
    assert out.shape == truth.shape and out.dtype == np.uint8
    assert np.array_equal(out[~hole], damaged[~hole])
    assert _psnr(out[hole], truth[hole]) > 25.0  # a smooth gradient is interpolated closely
    assert np.array_equal(damaged, before)


def test_coarse_path_beats_plain_telea_on_texture(rng: np.random.Generator) -> None:
    import cv2

    h, w = 700, 900
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    truth = np.stack([128 + 60 * np.sin(xs / 40), 128 + 60 * np.cos(ys / 55), 128 + 40 * np.sin((xs + ys) / 70)], -1)
    truth = np.clip(truth + rng.normal(0, 6, truth.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((h, w), np.float32)
    cv2.circle(mask, (450, 350), 160, 1.0, -1)
    damaged = truth.copy()
    damaged[mask > 0] = 0
    hole = mask > 0
    ours = ClassicInpainter().inpaint(InpaintRequest(damaged, mask))
    telea = cv2.inpaint(damaged, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    assert _psnr(ours[hole], truth[hole]) >= _psnr(telea[hole], truth[hole]) - 0.5


def test_several_holes_and_soft_masks(photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[5:15, 5:15] = 0.4
    mask[60:90, 90:120] = 1.0
    out = ClassicInpainter().inpaint(InpaintRequest(photo, mask))
    assert np.array_equal(out[mask == 0], photo[mask == 0])
    assert np.abs(out[mask > 0].astype(int) - 220).mean() < 30  # filled from the light backdrop


def test_full_mask_gives_an_image() -> None:
    image = np.full((20, 30, 3), 40, np.uint8)
    out = ClassicInpainter().inpaint(InpaintRequest(image, np.ones((20, 30), np.float32)))
    assert out.shape == image.shape and out.dtype == np.uint8


def test_empty_mask_returns_a_copy(photo: np.ndarray) -> None:
    out = ClassicInpainter().inpaint(InpaintRequest(photo, np.zeros(photo.shape[:2], np.float32)))
    assert np.array_equal(out, photo) and out is not photo


def test_progress_and_cancel(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    calls: list[tuple[int, int]] = []
    ClassicInpainter().inpaint(InpaintRequest(photo, disc_mask), progress=lambda s, t: calls.append((s, t)))
    assert calls and calls[-1][0] == calls[-1][1]
    flag = threading.Event()
    flag.set()
    with pytest.raises(Cancelled):
        ClassicInpainter().inpaint(InpaintRequest(photo, disc_mask), cancel=flag)


def test_rejects_bad_settings() -> None:
    with pytest.raises(InvalidInput):
        ClassicInpainter(coarse_side_px=10)
    with pytest.raises(InvalidInput):
        ClassicInpainter(radius_px=0)


def test_smooth_fill_keeps_known_and_interpolates() -> None:
    values = np.zeros((32, 32), np.float32)
    values[:, :8] = 10.0
    values[:, -8:] = 30.0
    known = np.zeros((32, 32), np.float32)
    known[:, :8] = 1.0
    known[:, -8:] = 1.0
    out = smooth_fill(values, known)
    assert np.array_equal(out[:, :8], values[:, :8]) and np.array_equal(out[:, -8:], values[:, -8:])
    middle = out[:, 8:-8]
    assert middle.min() >= 10.0 and middle.max() <= 30.0
    assert middle[:, 0].mean() < middle[:, -1].mean()  # closer to the side it is near
