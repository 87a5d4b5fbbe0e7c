"""remove / inpaint: the byte-identical promise, input safety, bad input, engine plumbing."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fakes import PaintBlue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.edits import remove as edit
from pipeline.errors import BackendFailed, EmptyMask, SizeMismatch
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.inpaint.protocol import Prompting


class Broken:
    name = "broken"

    def inpaint(self, request, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
        return np.zeros((3, 3, 3), np.uint8)


class Scribbler:
    """A misbehaving engine that tries to write into its input."""

    name = "scribbler"

    def inpaint(self, request, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
        request.image[...] = 0
        return request.image.copy()


masks_strategy = st.integers(0, 2**31 - 1).map(lambda seed: _random_mask(np.random.default_rng(seed), 40, 56))


def _random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.float32)
    for _ in range(rng.integers(1, 4)):
        y, x = rng.integers(0, h - 4), rng.integers(0, w - 4)
        mask[y : y + rng.integers(2, 20), x : x + rng.integers(2, 20)] = rng.choice([1.0, 0.5, 0.25])
    return mask


@pytest.mark.parametrize("engine_factory", [ClassicInpainter, PaintBlue])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mask=masks_strategy)
def test_promise_for_remove_and_inpaint(engine_factory, mask: np.ndarray, rng: np.random.Generator) -> None:  # noqa: ANN001
    image = (rng.random((40, 56, 3)) * 255).astype(np.uint8)
    before = image.copy()
    for result in (
        edit.remove(image, mask, engine_factory()),
        edit.inpaint(image, mask, engine_factory(), prompting=Prompting("a plant", strength=0.6)),
    ):
        outside = result.mask == 0
        assert np.array_equal(result.image[outside], image[outside])
        assert np.array_equal(image, before)
        assert (result.mask >= mask).all()
    fake = edit.inpaint(image, mask, PaintBlue(), prompting=Prompting("blue"))
    assert (fake.image[mask == 1] == (0, 0, 255)).all()


def test_soft_band_blends(photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[10:20, 10:20] = 0.5
    out = edit.inpaint(photo, mask, PaintBlue(), prompting=Prompting("x")).image
    expected = np.round(0.5 * photo[10:20, 10:20].astype(float) + 0.5 * np.array([0, 0, 255]))
    assert np.abs(out[10:20, 10:20].astype(float) - expected).max() <= 1


def test_remove_grows_small_masks_by_the_setting(photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[40:44, 60:64] = 1.0
    assert edit.remove_grow_px(mask) == edit.REMOVE_GROW_PX
    grown = edit.remove(photo, mask, PaintBlue()).mask
    assert grown.sum() > mask.sum() and grown[40 - 4 : 44 + 4, 62].all()
    assert np.array_equal(edit.remove(photo, mask, PaintBlue(), grow_px=0).mask, mask)
    assert edit.remove(photo, mask, PaintBlue(), grow_px=8).mask.sum() > grown.sum()


def test_remove_grows_large_masks_less(photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[10:90, 10:110] = 1.0
    assert edit.remove_grow_px(mask) == edit.REMOVE_GROW_PX // 2


def test_engine_gets_read_only_inputs(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    before = photo.copy()
    with pytest.raises(ValueError):
        edit.inpaint(photo, disc_mask, Scribbler(), prompting=Prompting("x"))
    assert np.array_equal(photo, before)


def test_empty_mask_runs_no_engine(photo: np.ndarray) -> None:
    engine = PaintBlue()
    with pytest.raises(EmptyMask, match="nothing selected"):
        edit.remove(photo, np.zeros(photo.shape[:2], np.float32), engine)
    with pytest.raises(EmptyMask):
        edit.inpaint(photo, np.zeros(photo.shape[:2], np.float32), engine, prompting=Prompting("x"))
    assert engine.requests == []


def test_size_mismatch(photo: np.ndarray) -> None:
    with pytest.raises(SizeMismatch, match="but the image is"):
        edit.remove(photo, np.ones((10, 10), np.float32), PaintBlue())
    with pytest.raises(SizeMismatch):
        edit.inpaint(photo, np.ones((10, 10), np.float32), PaintBlue(), prompting=Prompting("x"))


def test_full_mask_works(photo: np.ndarray) -> None:
    full = np.ones(photo.shape[:2], np.float32)
    assert edit.remove(photo, full, ClassicInpainter()).image.shape == photo.shape
    assert (edit.inpaint(photo, full, PaintBlue(), prompting=Prompting("x")).image == (0, 0, 255)).all()


def test_bad_engine_output_is_backend_failed(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    with pytest.raises(BackendFailed, match="classic"):
        edit.remove(photo, disc_mask, Broken())


def test_request_fields_reach_the_engine(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    engine = PaintBlue()
    edit.inpaint(
        photo, disc_mask, engine, prompting=Prompting("a cat", "dog", seed=7, steps=12, strength=0.5, guidance=4.0)
    )
    request = engine.requests[0]
    assert (
        request.prompting.prompt,
        request.prompting.negative_prompt,
        request.prompting.seed,
        request.prompting.steps,
    ) == ("a cat", "dog", 7, 12)
    assert (request.prompting.strength, request.prompting.guidance) == (0.5, 4.0)


def test_keep_outside_exact_at_zero_and_one(rng: np.random.Generator) -> None:
    a = (rng.random((20, 20, 3)) * 255).astype(np.uint8)
    b = (rng.random((20, 20, 3)) * 255).astype(np.uint8)
    mask = rng.choice([0.0, 1.0, 0.3], size=(20, 20)).astype(np.float32)
    out = edit.keep_outside(a, b, mask)
    assert np.array_equal(out[mask == 0], a[mask == 0]) and np.array_equal(out[mask == 1], b[mask == 1])


def test_a_mask_over_most_of_the_photo_gives_a_warning_not_a_silent_result() -> None:
    from pipeline.edits.remove import LARGE_SHARE, large_mask_warning
    from pipeline.inpaint.exemplar import ExemplarInpainter

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    mask = np.zeros((40, 50), np.float32)
    mask[:, 10:] = 1.0  # 80%
    result = edit.remove(image, mask, ExemplarInpainter(), grow_px=0)
    assert len(result.warnings) == 1 and "covers 80% of the photo" in result.warnings[0]
    assert np.array_equal(result.image[:, :10], image[:, :10])
    mask[:, : int(50 * (1 - LARGE_SHARE)) + 1] = 0.0
    assert large_mask_warning(mask) is None
    assert edit.remove(image, mask, ExemplarInpainter(), grow_px=0).warnings == ()
