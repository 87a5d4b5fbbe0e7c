"""Extend canvas: padding and aspect ratios, the new area filled, the original kept exact."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fakes import PaintBlue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.edits import outpaint
from pipeline.errors import InvalidInput
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.inpaint.protocol import Prompting


def _inner(result: np.ndarray, padding: outpaint.Padding, shape: tuple[int, ...]) -> np.ndarray:
    return result[padding.top : padding.top + shape[0], padding.left : padding.left + shape[1]]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sides=st.tuples(*[st.integers(0, 60)] * 4).filter(any), overlap=st.sampled_from([0, 4, 16]),
       engine=st.sampled_from(["classic", "fake"]))  # fmt: skip
def test_original_kept_where_mask_is_zero(photo: np.ndarray, sides, overlap: int, engine: str) -> None:  # noqa: ANN001
    padding = outpaint.Padding(*sides)
    before = photo.copy()
    inpainter = ClassicInpainter() if engine == "classic" else PaintBlue()
    result = outpaint.extend_canvas(photo, padding, inpainter, overlap_px=overlap, prompting=Prompting("more"))
    h, w = photo.shape[:2]
    assert result.image.shape == (h + padding.top + padding.bottom, w + padding.left + padding.right, 3)
    inner_mask = _inner(result.mask, padding, photo.shape)
    keep = inner_mask == 0
    assert np.array_equal(_inner(result.image, padding, photo.shape)[keep], photo[keep])
    assert np.array_equal(photo, before)
    new = np.ones(result.mask.shape, bool)
    new[padding.top : padding.top + h, padding.left : padding.left + w] = False
    assert (result.mask[new] == 1.0).all()
    if engine == "fake":
        assert (result.image[new] == (0, 0, 255)).all()


def test_overlap_only_next_to_extended_sides(photo: np.ndarray) -> None:
    canvas, mask = outpaint.prepare_canvas(photo, outpaint.Padding(left=20), overlap_px=8)
    inner = mask[:, 20:]
    assert (inner[:, :3] > 0).all() and (inner[:, 10:] == 0).all()
    assert np.array_equal(canvas[:, 20:], photo)


def test_classic_extension_continues_the_edge() -> None:
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, :, 0] = 200  # red everywhere
    result = outpaint.extend_canvas(image, outpaint.Padding(right=50, bottom=30), ClassicInpainter())
    assert np.abs(result.image[..., 0].astype(int) - 200).max() <= 1


@pytest.mark.parametrize(("aspect", "expected"), [((1, 1), (128, 128)), ((16, 9), (171, 96)), ((4, 5), (128, 160))])
def test_aspect_padding(photo: np.ndarray, aspect: tuple[int, int], expected: tuple[int, int]) -> None:
    padding = outpaint.padding_for_aspect((128, 96), aspect)
    result = outpaint.extend_canvas(photo, padding, ClassicInpainter())
    assert (result.image.shape[1], result.image.shape[0]) == expected


def test_bad_input(photo: np.ndarray) -> None:
    with pytest.raises(InvalidInput):
        outpaint.Padding()
    with pytest.raises(InvalidInput):
        outpaint.Padding(left=-1)
    with pytest.raises(InvalidInput, match="W:H"):
        outpaint.parse_aspect("wide")
    assert outpaint.parse_aspect("16:9") == (16, 9)
    with pytest.raises(InvalidInput, match="already"):
        outpaint.padding_for_aspect((100, 100), (1, 1))
    with pytest.raises(InvalidInput):
        outpaint.extend_canvas(photo, outpaint.Padding(left=10_000), ClassicInpainter())
