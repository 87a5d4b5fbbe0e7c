"""Control images: the ADE20K palette checks, and the cut that follows the photo's crop exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.inpaint import ade20k
from pipeline.inpaint.control import Control, check_controls, class_legend, model_input, seg_colors, work_picture
from pipeline.inpaint.crop import CropOptions, cut_image, cut_mask, plan_crop
from pipeline.inpaint.protocol import InpaintRequest


def coordinate_picture(height: int, width: int) -> np.ndarray:
    """Each pixel encodes where it is: red = x mod 256, green = y mod 256, blue = x // 256 * 16 + y // 256."""
    yy, xx = np.mgrid[0:height, 0:width]
    return np.stack([xx % 256, yy % 256, (xx // 256) * 16 + yy // 256], axis=-1).astype(np.uint8)


def test_palette_has_150_classes_and_unknown_is_black() -> None:
    colors = ade20k.palette()
    assert colors.shape == (151, 3) and colors.dtype == np.uint8
    assert tuple(colors[0]) == (0, 0, 0) and ade20k.names()[0] == "unknown"
    assert ade20k.names()[1] == "wall" and tuple(colors[1]) == (120, 120, 120)
    assert ade20k.names()[150] == "flag"
    legend = class_legend()
    assert len(legend) == 151 and legend[16] == (16, "table", "#ff0652")


def test_label_ids_become_palette_colours() -> None:
    ids = np.array([[0, 1], [16, 150]], np.uint16)
    colors = seg_colors(ids)
    assert colors.dtype == np.uint8 and colors.shape == (2, 2, 3)
    assert [tuple(c) for c in colors.reshape(-1, 3)] == [(0, 0, 0), (120, 120, 120), (255, 6, 82), (92, 0, 255)]


def test_colours_outside_the_palette_are_named_or_mapped_to_unknown_when_asked() -> None:
    colors = seg_colors(np.full((4, 4), 5, np.uint8)).copy()
    colors[0, 0] = (1, 2, 3)
    colors[1, :2] = (250, 250, 250)
    with pytest.raises(
        InvalidInput, match=r"2 colour\(s\) outside the ADE20K palette: #fafafa \(2 px\), #010203 \(1 px\)"
    ):
        seg_colors(colors)
    with pytest.raises(InvalidInput, match="outside the ADE20K palette"):
        Control(kind="seg", picture=colors)
    mapped = seg_colors(colors, unknown="unknown")
    assert tuple(mapped[0, 0]) == (0, 0, 0) and tuple(mapped[1, 0]) == (0, 0, 0)
    assert np.array_equal(mapped[2:], colors[2:])
    assert Control(kind="seg", picture=colors, unknown="unknown").kind == "seg"


def test_label_ids_outside_ade20k_are_named() -> None:
    ids = np.full((3, 3), 2, np.int32)
    ids[0, 0], ids[1, 1] = 151, -4
    with pytest.raises(InvalidInput, match=r"2 id\(s\) outside ADE20K's 0..150: -4 \(1 px\), 151 \(1 px\)"):
        Control(kind="seg", picture=ids)
    assert tuple(seg_colors(ids, unknown="unknown")[0, 0]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "depth"}, "not one of seg, canny, mask, image"),
        ({"kind": "canny", "scale": 2.5}, "conditioning scale is 2.5; use 0 to 2"),
        ({"kind": "canny", "scale": -0.1}, "conditioning scale"),
        ({"kind": "canny", "scale": float("nan")}, "conditioning scale"),
        ({"kind": "canny", "start": 0.6, "end": 0.5}, "start must be before end"),
        ({"kind": "canny", "end": 1.5}, "fraction of the steps"),
        ({"kind": "canny", "low": 200, "high": 100}, "low one must be below"),
        ({"kind": "mask", "picture": np.zeros((2, 2, 3), np.uint8)}, "takes no picture"),
        ({"kind": "image"}, "needs a control image"),
        ({"kind": "image", "picture": np.zeros((2, 2), np.uint8)}, "must be RGB"),
        ({"kind": "seg"}, "needs a label map"),
    ],
)
def test_bad_controls_are_one_clear_error(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Control(**fields)  # type: ignore[arg-type]


def test_a_control_image_of_another_size_is_refused(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    other = Control(kind="image", picture=np.zeros((50, 60, 3), np.uint8))
    with pytest.raises(SizeMismatch, match="control image is 60x50 but the photo is 128x96"):
        InpaintRequest(photo, disc_mask, controls=(other,))
    with pytest.raises(InvalidInput, match="given twice"):
        check_controls((Control(kind="canny"), Control(kind="canny", scale=0.5)), photo)


@pytest.mark.parametrize("mode", ["crop", "full"])
def test_the_control_image_is_cut_exactly_as_the_photo(mode: str) -> None:
    height, width = 700, 900
    picture = coordinate_picture(height, width)
    mask = np.zeros((height, width), np.float32)
    mask[300:360, 500:580] = 1.0
    plan = plan_crop(mask, native_px=64, options=CropOptions(mode=mode))  # type: ignore[arg-type]
    assert (plan.mode == "crop") == (mode == "crop")
    seen = work_picture(Control(kind="image", picture=picture), picture, mask, plan)
    assert seen.shape == (plan.work_h, plan.work_w, 3)
    # The same cut as the photo's: here the "photo" is the coordinate picture itself.
    assert np.array_equal(seen, np.asarray(cut_image(picture, plan)))
    # And the cut covers the plan's region: its corners encode the region's corner coordinates.
    region = picture[plan.y0 : plan.y1, plan.x0 : plan.x1]
    assert tuple(region[0, 0]) == (plan.x0 % 256, plan.y0 % 256, (plan.x0 // 256) * 16 + plan.y0 // 256)


def test_a_seg_map_is_cut_by_nearest_neighbour_and_stays_in_the_palette() -> None:
    height, width = 400, 600
    ids = (np.arange(width)[None, :] // 7 % 150 + 1).repeat(height, axis=0).astype(np.uint8)
    mask = np.zeros((height, width), np.float32)
    mask[180:220, 250:330] = 1.0
    plan = plan_crop(mask, native_px=64, options=CropOptions(mode="crop"))
    seen = work_picture(Control(kind="seg", picture=ids), np.zeros((height, width, 3), np.uint8), mask, plan)
    palette = {tuple(c) for c in ade20k.palette().tolist()}
    assert {tuple(c) for c in seen.reshape(-1, 3).tolist()} <= palette
    # Nearest neighbour: the first work column shows the region's first column.
    assert tuple(seen[0, 0]) == tuple(ade20k.palette()[ids[plan.y0, plan.x0]])


def test_canny_is_found_on_the_cut_photo_and_mask_marks_the_models_mask(
    photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    plan = plan_crop(disc_mask, native_px=64, options=CropOptions(mode="full"))
    edges = work_picture(Control(kind="canny", low=50, high=150), photo, disc_mask, plan)
    assert edges.shape == (plan.work_h, plan.work_w, 3) and set(np.unique(edges)) <= {0, 255}
    assert edges.any()  # the disc's outline
    marked = work_picture(Control(kind="mask"), photo, disc_mask, plan, grow_px=2)
    work_mask = np.asarray(cut_mask(disc_mask, plan, grow_px=2))
    assert np.all(marked[work_mask > 127] == 0)
    values = model_input(Control(kind="mask"), marked, work_mask)
    assert values.dtype == np.float32 and np.all(values[work_mask > 127] == -1.0)
    assert values.max() <= 1.0 and np.all(values[work_mask <= 127] >= 0.0)
