"""The exemplar engine: copies real texture into a hole (PatchMatch), never touches the rest."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from pipeline.edits.remove import remove
from pipeline.errors import Cancelled, InvalidInput
from pipeline.inpaint.exemplar import JOIN_RIM_PX, ExemplarInpainter, rim_correction
from pipeline.inpaint.protocol import Inpainter, InpaintRequest


def _bricks(h: int, w: int) -> np.ndarray:
    """A periodic texture with sharp edges: light bricks and dark mortar lines, offset each row."""
    ys, xs = np.mgrid[0:h, 0:w]
    row = ys // 12
    mortar = (ys % 12 < 2) | ((xs + 9 * (row % 2)) % 18 < 2)
    out = np.where(mortar[..., None], np.uint8(60), np.array([200, 120, 90], np.uint8))
    return out.astype(np.uint8)


def _gradient_rms(image: np.ndarray, where: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    gx, gy = cv2.Sobel(grey, cv2.CV_64F, 1, 0), cv2.Sobel(grey, cv2.CV_64F, 0, 1)
    return float(np.sqrt(np.mean((gx * gx + gy * gy)[where])))


def _holed(h: int = 96, w: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    truth = _bricks(h, w)
    mask = np.zeros((h, w), np.float32)
    mask[30:66, 40:80] = 1.0
    damaged = truth.copy()
    damaged[mask > 0] = (40, 200, 60)
    return truth, damaged, mask


def test_is_an_inpainter() -> None:
    assert isinstance(ExemplarInpainter(), Inpainter)
    assert ExemplarInpainter().name == "exemplar"


def test_rebuilds_texture_where_a_smooth_fill_smears() -> None:
    truth, damaged, mask = _holed()
    before = damaged.copy()
    out = ExemplarInpainter().inpaint(InpaintRequest(damaged, mask))
    hole = mask > 0
    inner = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    telea = cv2.inpaint(damaged, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    ratio = _gradient_rms(out, inner) / _gradient_rms(truth, inner)
    assert ratio > 0.7, ratio
    assert _gradient_rms(telea, inner) / _gradient_rms(truth, inner) < 0.6  # the smear the engine replaces
    # Copied, not invented: nearly every filled pixel is one of the texture's two colours.
    filled = out[hole].astype(np.int16)
    near = np.minimum(np.abs(filled - [200, 120, 90]).max(axis=1), np.abs(filled - 60).max(axis=1))
    assert np.mean(near <= 30) > 0.8
    assert np.array_equal(out[~hole], damaged[~hole])
    assert np.array_equal(damaged, before)  # the input is not modified


def test_remove_keeps_every_pixel_outside_the_mask_and_repeats_exactly() -> None:
    _, damaged, mask = _holed()
    mask[10:14, 100:110] = 0.5  # a soft second hole
    first = remove(damaged, mask, ExemplarInpainter(), grow_px=0)
    second = remove(damaged, mask, ExemplarInpainter(), grow_px=0)
    assert np.array_equal(first.image[mask == 0], damaged[mask == 0])
    assert np.array_equal(first.image, second.image)
    assert first.engine == "exemplar"


def test_large_crops_work_at_a_smaller_size_and_keep_full_size_grain() -> None:
    truth = _bricks(400, 520)
    mask = np.zeros((400, 520), np.float32)
    mask[120:300, 160:380] = 1.0
    damaged = truth.copy()
    damaged[mask > 0] = 0
    out = ExemplarInpainter(work_side_px=128).inpaint(InpaintRequest(damaged, mask))
    inner = cv2.erode((mask > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert _gradient_rms(out, inner) / _gradient_rms(truth, inner) > 0.7
    assert np.array_equal(out[mask == 0], damaged[mask == 0])


def test_a_hole_without_any_whole_known_patch_still_gets_a_fill() -> None:
    image = np.full((12, 12, 3), 90, np.uint8)
    mask = np.zeros((12, 12), np.float32)
    mask[2:10, 2:10] = 1.0  # no 7 x 7 patch outside it
    out = ExemplarInpainter().inpaint(InpaintRequest(image, mask))
    assert np.all(np.abs(out.astype(int) - 90) <= 1)


def _spotlit(seed: int, h: int = 128, w: int = 160) -> np.ndarray:
    """Fine grey grain under a spotlight: the shading changes fast around the middle."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 70 + 110 * np.exp(-((ys - h / 2) ** 2 + (xs - w / 2) ** 2) / (2 * 30**2))
    grain = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 25, (h, w)).astype(np.float32), (0, 0), 1.0)
    return np.repeat(np.clip(light + grain, 0, 255)[..., None], 3, axis=2).astype(np.uint8)


def _rim_error(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean shading error (grey, blurred by 3 px) over the hole's outer 3 px."""
    blur = lambda a: cv2.GaussianBlur(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 3.0)  # noqa: E731
    rim = hole & (cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3) <= 3)
    return float(np.mean(np.abs(blur(out) - blur(truth))[rim]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_copy_meets_the_photos_shading_at_the_holes_edge(seed: int) -> None:
    truth = _spotlit(seed)
    mask = np.zeros(truth.shape[:2], np.float32)
    mask[40:88, 50:110] = 1.0
    damaged = truth.copy()
    damaged[mask > 0] = (40, 200, 60)
    hole = mask > 0
    joined = ExemplarInpainter().inpaint(InpaintRequest(damaged, mask))
    unjoined = ExemplarInpainter(join_px=0).inpaint(InpaintRequest(damaged, mask))
    assert _rim_error(joined, truth, hole) < 0.92 * _rim_error(unjoined, truth, hole)
    # The join moves the shading only: the copied grain inside keeps its contrast.
    inner = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert _gradient_rms(joined, inner) > 0.9 * _gradient_rms(unjoined, inner)
    assert np.array_equal(joined[~hole], damaged[~hole])


def test_rim_correction_is_the_mismatch_on_the_rim_and_fades_inside() -> None:
    hole = np.zeros((80, 90), bool)
    hole[10:70, 10:80] = True
    mismatch = np.zeros((80, 90, 3), np.float32)
    mismatch[:, :45] = 12.0  # the copy is 12 grey levels too dark on the left, right on the right
    correction = rim_correction(mismatch, hole, 4.0)
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    rim = hole & (depth <= JOIN_RIM_PX)
    assert np.allclose(correction[rim], mismatch[rim], atol=0.5)
    deep = hole & (depth > JOIN_RIM_PX + 16)  # four reaches in: exp(-4) of the rim's value at most
    assert np.abs(correction[deep]).max() < 12.0 * np.exp(-4.0) + 1e-3
    assert not rim_correction(mismatch, np.zeros_like(hole), 4.0).any()


def test_cancel_stops_before_filling() -> None:
    _, damaged, mask = _holed()
    flag = threading.Event()
    flag.set()
    with pytest.raises(Cancelled):
        ExemplarInpainter().inpaint(InpaintRequest(damaged, mask), cancel=flag)


@pytest.mark.parametrize(
    "settings",
    [
        {"patch_px": 6},
        {"patch_px": 21},
        {"work_side_px": 64},
        {"margin": -1},
        {"em_iterations": 0},
        {"guide_weight": -1},
        {"vote_sharpness": -0.5},
        {"detail_gain": 5},
        {"smooth_weight": 2},
        {"reuse_grey": -1},
        {"join_px": -1},
        {"join_px": 1000},
    ],
)
def test_rejects_bad_settings(settings: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        ExemplarInpainter(**settings)  # type: ignore[arg-type]
