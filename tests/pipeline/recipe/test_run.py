"""pipeline.recipe.run: replaying a recipe on a photo with the real classical backends."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pipeline import masks
from pipeline.edits.background import BlurredOriginal, Gradient, Shadow, SolidColor
from pipeline.edits.outpaint import Padding
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.models import Chosen
from pipeline.recipe import (
    AlphaChannel,
    Clicks,
    ColorRange,
    Engines,
    ExtendCanvas,
    Inpaint,
    LabelClasses,
    LuminanceRange,
    Output,
    Recipe,
    RecipeError,
    Refine,
    Remove,
    ReplaceBackground,
    StoredMask,
    dumps,
    loads,
    refine_mask,
    run,
)
from pipeline.recipe.mask_sources import clicks_mask, select_clicks
from pipeline.select.classic import ClassicSelector
from pipeline.types import Point

SIZE = (128, 96)  # the ``photo`` fixture's (width, height)
DISC_CLICKS = (Point(64, 48), Point(75, 40), Point(5, 5, positive=False))


@pytest.fixture
def engines() -> Engines:
    """The real classical selector and inpainter, as the "auto" choices."""
    return Engines(segmenter=Chosen(ClassicSelector(), "test"), inpainter=Chosen(ClassicInpainter(), "test"))


@pytest.fixture
def disc_levels(disc_mask: np.ndarray) -> np.ndarray:
    return (disc_mask * 255).astype(np.uint8)


def block(x0: int, y0: int, x1: int, y1: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    """uint8 levels, 255 on columns x0:x1 and rows y0:y1 of a (width, height) ``size`` photo."""
    levels = np.zeros((size[1], size[0]), np.uint8)
    levels[y0:y1, x0:x1] = 255
    return levels


def box_of(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        slice(max(0, rows[0] - margin), min(height, rows[-1] + 1 + margin)),
        slice(max(0, cols[0] - margin), min(width, cols[-1] + 1 + margin)),
    )


# ---------------------------------------------------------------- determinism


def test_the_same_recipe_on_the_same_photo_gives_the_same_pixels(photo: np.ndarray, engines: Engines) -> None:
    recipe = Recipe(
        (
            Clicks(size=SIZE, points=DISC_CLICKS),
            Refine(grow_px=2, feather_px=3.0),
            Remove(),
            ColorRange(color=(220, 220, 220), tolerance=8.0, softness=4.0),
            Refine(fill_holes=True, min_speck_px=20),
            ReplaceBackground(fill=BlurredOriginal(6.0), shadow=Shadow()),
            Output(canvas=(90, 90)),
        )
    )
    original = photo.copy()
    photo.flags.writeable = False  # a replay that writes into its input fails here
    first = run(recipe, photo, engines)
    second = run(recipe, photo, engines)
    replayed = run(loads(dumps(recipe)), photo, engines)
    for other in (second, replayed):
        assert np.array_equal(first.image, other.image)
        assert np.array_equal(first.mask, other.mask)
        assert np.array_equal(first.cutout, other.cutout)
        assert np.array_equal(first.crop, other.crop)
    assert np.array_equal(photo, original)
    assert first.image.shape == (90, 90, 3) and first.image.dtype == np.uint8
    assert first.mask.shape == photo.shape[:2] and first.mask.dtype == np.float32
    assert first.cutout.shape == (*photo.shape[:2], 4)


# ---------------------------------------------------------------- edits keep what they must


@pytest.mark.parametrize("edit", [Remove(grow_px=0), Remove(grow_px=0, engine="classic"), Inpaint(engine="classic")])
def test_remove_and_inpaint_keep_every_pixel_outside_the_mask(
    photo: np.ndarray, disc_levels: np.ndarray, disc_mask: np.ndarray, engines: Engines, edit: Remove | Inpaint
) -> None:
    result = run(Recipe((StoredMask(levels=disc_levels), edit)), photo, engines)
    assert result.engine == ("exemplar" if isinstance(edit, Remove) else "classic")  # removal copies texture
    assert np.array_equal(result.mask, disc_mask)
    outside = disc_mask == 0
    assert np.array_equal(result.image[outside], photo[outside])
    inside = disc_mask == 1
    assert result.image[inside][:, 0].mean() > photo[inside][:, 0].mean() + 40  # the red disc became backdrop


def test_remove_grows_the_mask_and_keeps_everything_outside_the_grown_one(
    photo: np.ndarray, disc_levels: np.ndarray, disc_mask: np.ndarray, engines: Engines
) -> None:
    result = run(Recipe((StoredMask(levels=disc_levels), Remove())), photo, engines)
    assert np.all(result.mask >= disc_mask) and result.mask.sum() > disc_mask.sum()
    outside = result.mask == 0
    assert np.array_equal(result.image[outside], photo[outside])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    x0=st.integers(0, 100), y0=st.integers(0, 70), width=st.integers(1, 27), height=st.integers(1, 25),
    feather=st.sampled_from([0.0, 2.0, 5.5]),
)  # fmt: skip
def test_removal_never_touches_pixels_outside_its_mask(
    photo: np.ndarray, engines: Engines, x0: int, y0: int, width: int, height: int, feather: float
) -> None:
    levels = block(x0, y0, x0 + width, y0 + height)
    result = run(Recipe((StoredMask(levels=levels), Refine(feather_px=feather), Remove(grow_px=0))), photo, engines)
    assert np.all(result.mask >= levels / 255.0)
    outside = result.mask == 0
    assert np.array_equal(result.image[outside], photo[outside])


@pytest.mark.parametrize(
    "refine",
    [Refine(), Refine(feather_px=6.0), Refine(grow_px=-2, feather_px=4.0), Refine(grow_px=3, feather_px=12.5)],
    ids=["plain", "feather", "shrink+feather", "grow+feather"],
)
@pytest.mark.parametrize(
    "fill, shadow",
    [(SolidColor((0, 0, 255)), None), (Gradient((0, 0, 0), (0, 255, 0)), Shadow()), (BlurredOriginal(4.0), None)],
    ids=["solid", "gradient+shadow", "blur"],
)
def test_background_replacement_keeps_the_refined_subject_byte_identical(
    photo: np.ndarray,
    disc_levels: np.ndarray,
    disc_mask: np.ndarray,
    engines: Engines,
    refine: Refine,
    fill: SolidColor | Gradient | BlurredOriginal,
    shadow: Shadow | None,
) -> None:
    recipe = Recipe((StoredMask(levels=disc_levels), refine, ReplaceBackground(fill=fill, shadow=shadow)))
    result = run(recipe, photo, engines)
    refined = refine_mask(refine, disc_mask, photo)
    kept = refined == 1
    assert kept.sum() > 1000
    assert np.array_equal(result.image[kept], photo[kept])
    assert np.array_equal(result.mask[kept], refined[kept])
    if isinstance(fill, SolidColor):
        assert np.all(result.image[result.mask == 0] == fill.rgb)
    if refine.feather_px:
        assert np.all(result.mask >= refined - 1e-6)
        soft = (result.mask > 0) & (result.mask < 1)
        assert soft.sum() > 100 and not soft[kept].any()


def test_feather_softens_outward_only(disc_mask: np.ndarray) -> None:
    feathered = refine_mask(Refine(feather_px=8.0), disc_mask)
    assert np.array_equal(feathered[disc_mask == 1], np.ones(int(disc_mask.sum()), np.float32))
    assert feathered.max() == 1.0 and ((feathered > 0) & (disc_mask == 0)).sum() > 500


@settings(max_examples=60, deadline=None)
@given(
    mask=hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 24), st.integers(1, 24)),
        elements=st.sampled_from([0.0, 0.0, 1.0, 1.0, 0.25, 0.5, 0.75]) | st.floats(0, 1, width=32),
    ),
    feather=st.floats(0.0, 40.0),
    invert=st.booleans(),
)
def test_refine_feather_never_lowers_a_mask_value(mask: np.ndarray, feather: float, invert: bool) -> None:
    out = refine_mask(Refine(feather_px=feather, invert=invert), mask)
    before = masks.invert(mask) if invert else mask
    assert out.shape == mask.shape and out.dtype == np.float32
    assert np.all(out >= before)
    assert np.all(out[before == 1] == 1)
    assert np.all((out >= 0) & (out <= 1))


def test_refine_scale_multiplies_radii(disc_mask: np.ndarray) -> None:
    assert np.array_equal(refine_mask(Refine(grow_px=2), disc_mask, scale=2.0), masks.grow(disc_mask, 4))
    assert np.array_equal(refine_mask(Refine(grow_px=-3), disc_mask, scale=0.5), masks.shrink(disc_mask, 2))
    assert np.array_equal(refine_mask(Refine(feather_px=0.9), disc_mask, scale=0.5), disc_mask)


# ---------------------------------------------------------------- mask steps


MODES = {
    "replace": lambda a, b: b,
    "add": lambda a, b: a | b,
    "subtract": lambda a, b: a & ~b,
    "intersect": lambda a, b: a & b,
}


@pytest.mark.parametrize("mode", MODES)
def test_combine_modes_over_two_mask_steps(photo: np.ndarray, engines: Engines, mode: str) -> None:
    first, second = block(10, 10, 70, 60), block(50, 30, 110, 90)
    recipe = Recipe((StoredMask(levels=first), StoredMask(levels=second, combine=mode)))  # type: ignore[arg-type]
    result = run(recipe, photo, engines)
    expected = MODES[mode](first > 0, second > 0)
    assert result.mask.dtype == np.float32
    assert np.array_equal(result.mask, expected.astype(np.float32))
    assert result.engine == "none" and np.array_equal(result.image, photo)


@pytest.mark.parametrize("mode, selects", [("replace", True), ("add", True), ("subtract", False), ("intersect", False)])
def test_a_first_mask_step_combines_with_nothing(photo: np.ndarray, engines: Engines, mode: str, selects: bool) -> None:
    levels = block(10, 10, 40, 40)
    result = run(Recipe((StoredMask(levels=levels, combine=mode),)), photo, engines)  # type: ignore[arg-type]
    assert np.array_equal(result.mask, (levels > 0).astype(np.float32) if selects else np.zeros_like(result.mask))


def test_soft_masks_combine_as_fuzzy_sets(photo: np.ndarray, engines: Engines) -> None:
    recipe = Recipe(
        (
            LuminanceRange(low=0.0, high=0.5, softness=0.2),
            ColorRange(color=(220, 220, 220), tolerance=6.0, softness=10.0, combine="add"),
        )
    )
    luma = masks.from_luminance(photo, 0.0, 0.5, softness=0.2)
    colour = masks.from_color(photo, (220, 220, 220), tolerance=6.0, softness=10.0)
    result = run(recipe, photo, engines)
    assert np.array_equal(result.mask, np.maximum(luma, colour))
    assert ((result.mask > 0) & (result.mask < 1)).any()


def test_an_edit_starts_a_new_empty_mask(photo: np.ndarray, engines: Engines) -> None:
    first, second = block(10, 10, 40, 40), block(80, 50, 110, 80)
    recipe = Recipe(
        (
            StoredMask(levels=first),
            Remove(grow_px=0),
            StoredMask(levels=second, combine="add"),  # adds to nothing, not to ``first``
            Inpaint(engine="classic"),
        )
    )
    result = run(recipe, photo, engines)
    assert np.array_equal(result.mask, (second > 0).astype(np.float32))
    assert np.array_equal(result.image[10:40, 40:80], photo[10:40, 40:80])
    intersect = recipe.steps[:2] + (StoredMask(levels=first, combine="intersect"), Inpaint(engine="classic"))
    with pytest.raises(RecipeError, match=r"step 4 \(inpaint\): nothing selected"):
        run(Recipe(intersect), photo, engines)


def test_an_edit_without_a_mask_is_an_error_naming_the_step(photo: np.ndarray, engines: Engines) -> None:
    with pytest.raises(RecipeError, match=r"step 2 \(remove\): nothing selected"):
        run(Recipe((Refine(grow_px=3), Remove())), photo, engines)


def test_a_refine_after_an_edit_refines_the_new_empty_mask(photo: np.ndarray, engines: Engines) -> None:
    recipe = Recipe(
        (
            StoredMask(levels=block(10, 10, 40, 40)),
            Remove(grow_px=0),
            Refine(invert=True),  # of nothing: everything
            ReplaceBackground(fill=SolidColor((0, 0, 0))),
        )
    )
    result = run(recipe, photo, engines)
    removed = run(Recipe(recipe.steps[:2]), photo, engines).image
    assert np.all(result.mask == 1)
    assert np.array_equal(result.image, removed)


@pytest.mark.parametrize(
    "step, name",
    [
        (Clicks(size=(64, 48), points=(Point(10, 10),)), "clicks"),
        (StoredMask(levels=np.zeros((48, 64), np.uint8)), "mask"),
        (LabelClasses(classes=(1,), labels=np.zeros((48, 64), np.uint8)), "labels"),
    ],
    ids=["clicks", "stored", "labels"],
)
def test_a_photo_specific_step_on_another_size_names_the_step(
    photo: np.ndarray, engines: Engines, step: object, name: str
) -> None:
    with pytest.raises(RecipeError, match=rf"step 2 \({name}\): .*64x48.*128x96"):
        run(Recipe((ColorRange(color=(1, 2, 3)), step)), photo, engines)  # type: ignore[arg-type]


def test_a_stored_mask_does_not_fit_the_photo_after_the_canvas_grows(
    photo: np.ndarray, disc_levels: np.ndarray, engines: Engines
) -> None:
    recipe = Recipe((ExtendCanvas(padding=Padding(left=8)), StoredMask(levels=disc_levels)))
    with pytest.raises(RecipeError, match=r"step 2 \(mask\): .*128x96.*136x96"):
        run(recipe, photo, engines)


def test_alpha_channel_without_alpha_is_a_clear_error(photo: np.ndarray, engines: Engines) -> None:
    with pytest.raises(RecipeError, match=r"step 1 \(alpha\): this photo has no transparency"):
        run(Recipe((AlphaChannel(),)), photo, engines)


def test_alpha_channel_reads_the_photos_alpha(photo: np.ndarray, disc_mask: np.ndarray, engines: Engines) -> None:
    alpha = (disc_mask * 200).astype(np.uint8)
    soft = run(Recipe((AlphaChannel(),)), photo, engines, alpha=alpha)
    hard = run(Recipe((AlphaChannel(threshold=0.5),)), photo, engines, alpha=alpha)
    assert np.allclose(soft.mask, disc_mask * 200 / 255, atol=1e-6)
    assert np.array_equal(hard.mask, disc_mask)
    with pytest.raises(RecipeError, match=r"step 1 \(alpha\): .*64x48"):
        run(Recipe((AlphaChannel(),)), photo, engines, alpha=np.zeros((48, 64), np.uint8))


def test_label_classes_without_a_map_is_a_clear_error(photo: np.ndarray, engines: Engines) -> None:
    with pytest.raises(RecipeError, match=r"step 1 \(labels\): .*label map.*--labels"):
        run(Recipe((LabelClasses(classes=(1,)),)), photo, engines)


def test_label_classes_select_from_an_embedded_or_a_passed_map(photo: np.ndarray, engines: Engines) -> None:
    ids = np.zeros((96, 128), np.uint16)
    ids[:, 64:] = 7
    ids[:20] = 3
    passed = run(Recipe((LabelClasses(classes=(7, 3)),)), photo, engines, labels=ids)
    assert np.array_equal(passed.mask, np.isin(ids, (7, 3)).astype(np.float32))
    colours = np.zeros((96, 128, 3), np.uint8)
    colours[ids == 7] = (255, 0, 0)
    embedded = run(Recipe((LabelClasses(classes=((255, 0, 0),), labels=colours),)), photo, engines)
    assert np.array_equal(embedded.mask, (ids == 7).astype(np.float32))


# ---------------------------------------------------------------- clicks


def test_clicks_replay_click_by_click(photo: np.ndarray, disc_mask: np.ndarray, engines: Engines) -> None:
    selector = ClassicSelector()
    prepared = selector.prepare(photo)
    three = Clicks(size=SIZE, points=DISC_CLICKS)
    two = Clicks(size=SIZE, points=DISC_CLICKS[:2])
    scratch = clicks_mask(select_clicks(selector, prepared, three))
    chained = clicks_mask(select_clicks(selector, prepared, three, after=select_clicks(selector, prepared, two)))
    assert np.array_equal(chained, scratch)
    selection = None
    for count in range(1, 4):  # what the page does, one click at a time
        selection = selector.select(prepared, list(DISC_CLICKS[:count]), None, selection)
    assert selection is not None and np.array_equal(selection.best.mask, scratch)
    assert masks.iou(scratch, disc_mask) > 0.9
    replayed = run(Recipe((three,)), photo, engines)
    assert np.array_equal(replayed.mask, scratch)
    in_two_steps = run(Recipe((two, three)), photo, engines)
    assert np.array_equal(in_two_steps.mask, scratch)


def test_a_chain_that_is_not_a_prefix_is_not_reused(photo: np.ndarray) -> None:
    selector = ClassicSelector()
    prepared = selector.prepare(photo)
    three = Clicks(size=SIZE, points=DISC_CLICKS)
    other = select_clicks(selector, prepared, Clicks(size=SIZE, points=(Point(5, 90, positive=False),)))
    assert np.array_equal(
        clicks_mask(select_clicks(selector, prepared, three, after=other)),
        clicks_mask(select_clicks(selector, prepared, three)),
    )


def test_a_click_outside_the_photo_is_an_error_naming_the_step(photo: np.ndarray, engines: Engines) -> None:
    with pytest.raises(RecipeError, match=r"step 2 \(clicks\): click at \(500, 10\) is outside the 128x96 photo"):
        run(Recipe((Refine(), Clicks(size=SIZE, points=(Point(500, 10),)))), photo, engines)


def test_a_missing_candidate_is_an_error_naming_the_step(photo: np.ndarray, engines: Engines) -> None:
    with pytest.raises(RecipeError, match=r"step 1 \(clicks\): candidate 15 does not exist"):
        run(Recipe((Clicks(size=SIZE, points=(Point(64, 48),), candidate=15),)), photo, engines)


# ---------------------------------------------------------------- output


@pytest.fixture
def product() -> np.ndarray:
    """A 120x80 photo: a dark blue 40x20 box (columns 30:70, rows 20:40) on light grey."""
    image = np.full((80, 120, 3), 200, np.uint8)
    image[20:40, 30:70] = (20, 40, 160)
    return image


@pytest.mark.parametrize("canvas", [(200, 150), (300, 100), (150, 150), (64, 512)])
def test_output_canvas_centres_the_subject_at_its_share(
    product: np.ndarray, engines: Engines, canvas: tuple[int, int]
) -> None:
    recipe = Recipe(
        (
            ColorRange(color=(20, 40, 160), tolerance=5.0),
            ReplaceBackground(fill=SolidColor((255, 255, 255))),
            Output(canvas=canvas, subject_share=0.85),
        )
    )
    result = run(recipe, product, engines)
    width, height = canvas
    assert result.image.shape == (height, width, 3)
    box = masks.bounding_box(result.mask)
    assert box is not None and (box.x0, box.y0, box.x1, box.y1) == (30, 20, 70, 40)
    scale = 0.85 * min(width / box.width, height / box.height)
    dark = result.image.min(axis=2) < 128
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    seen_w, seen_h = cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]
    assert abs(seen_w - box.width * scale) <= 2 and abs(seen_h - box.height * scale) <= 2
    assert max(seen_w / width, seen_h / height) == pytest.approx(0.85, abs=2.5 / min(canvas))
    assert abs((cols[0] + cols[-1] + 1) / 2 - width / 2) <= 1.5
    assert abs((rows[0] + rows[-1] + 1) / 2 - height / 2) <= 1.5
    assert np.all(result.image[0, :] == 255) or np.all(result.image[:, 0] == 255)  # the frame's fill


def test_output_without_canvas_keeps_the_result_size(product: np.ndarray, engines: Engines) -> None:
    recipe = Recipe((ColorRange(color=(20, 40, 160), tolerance=5.0), Refine(invert=True), Remove(grow_px=0), Output()))
    result = run(recipe, product, engines)
    assert result.image.shape == product.shape
    assert np.array_equal(result.image[20:40, 30:70], product[20:40, 30:70])


def test_output_canvas_fits_the_whole_image_after_a_removal(product: np.ndarray, engines: Engines) -> None:
    recipe = Recipe(
        (
            ColorRange(color=(20, 40, 160), tolerance=5.0),
            Remove(grow_px=0),
            Output(canvas=(100, 100), subject_share=0.5, fill=(0, 0, 0)),
        )
    )
    result = run(recipe, product, engines)
    lit = (result.image > 0).any(axis=2)
    rows, cols = np.flatnonzero(lit.any(axis=1)), np.flatnonzero(lit.any(axis=0))
    assert abs((cols[-1] + 1 - cols[0]) - 50) <= 1  # 120 px wide at 0.5 * 100 / 120
    assert abs((rows[-1] + 1 - rows[0]) - round(80 * 50 / 120)) <= 1


@pytest.mark.parametrize("margin, block_at", [(5, (40, 30, 60, 50)), (16, (2, 3, 20, 30)), (0, (100, 70, 128, 96))])
def test_run_crop_is_the_mask_box_plus_margin(
    photo: np.ndarray, engines: Engines, margin: int, block_at: tuple[int, int, int, int]
) -> None:
    levels = block(*block_at)
    result = run(Recipe((StoredMask(levels=levels), Output(crop_margin_px=margin))), photo, engines)
    x0, y0, x1, y1 = block_at
    expected = photo[max(0, y0 - margin) : min(96, y1 + margin), max(0, x0 - margin) : min(128, x1 + margin)]
    assert np.array_equal(result.crop, expected)


def test_run_crop_follows_the_grown_mask_of_a_removal(
    photo: np.ndarray, disc_levels: np.ndarray, engines: Engines
) -> None:
    result = run(Recipe((StoredMask(levels=disc_levels), Remove(grow_px=4), Output(crop_margin_px=3))), photo, engines)
    rows, cols = box_of(result.mask, 3)
    assert np.array_equal(result.crop, result.image[rows, cols])
    assert result.crop.shape[:2] == (min(96, 61 + 2 * 4 + 2 * 3), 61 + 2 * 4 + 2 * 3)


def test_run_crop_of_nothing_is_the_whole_image(photo: np.ndarray, engines: Engines) -> None:
    result = run(Recipe((Output(crop_margin_px=4),)), photo, engines)
    assert np.array_equal(result.crop, photo) and not result.mask.any()


def test_cutout_is_the_photo_with_the_mask_as_alpha(
    photo: np.ndarray, disc_levels: np.ndarray, engines: Engines
) -> None:
    levels = disc_levels // 255 * 200
    result = run(Recipe((StoredMask(levels=levels),)), photo, engines)
    assert np.array_equal(result.cutout[..., 3], levels)
    shown = levels > 0
    assert np.array_equal(result.cutout[..., :3][shown], photo[shown])
    assert not result.cutout[~shown].any()


def test_timings_have_one_entry_per_step(photo: np.ndarray, disc_levels: np.ndarray, engines: Engines) -> None:
    recipe = Recipe(
        (
            StoredMask(levels=disc_levels),
            ColorRange(color=(1, 2, 3), combine="add"),
            Refine(grow_px=1),
            Remove(grow_px=0),
            ExtendCanvas(padding=Padding(right=8), engine="classic"),
            Output(),
        )
    )
    result = run(recipe, photo, engines)
    assert [name for name, _ in result.timings] == ["mask", "color", "refine", "remove", "outpaint", "output"]
    assert all(isinstance(seconds, float) and seconds >= 0 for _, seconds in result.timings)
    assert run(Recipe(), photo, engines).timings == ()


# ---------------------------------------------------------------- extend canvas


def test_extend_canvas_with_padding_keeps_the_photo_past_the_overlap(photo: np.ndarray, engines: Engines) -> None:
    recipe = Recipe((ExtendCanvas(padding=Padding(left=10, top=6), overlap_px=4),))
    result = run(recipe, photo, engines)
    assert result.image.shape == (102, 138, 3)
    assert np.array_equal(result.image[6 + 4 :, 10 + 4 :], photo[4:, 4:])
    assert result.mask.shape == (102, 138) and np.all(result.mask[:6] == 1) and np.all(result.mask[:, :10] == 1)
    assert result.engine == "classic" and result.cutout.shape == (102, 138, 4)


def test_extend_canvas_to_an_aspect(photo: np.ndarray, engines: Engines) -> None:
    square = run(Recipe((ExtendCanvas(aspect=(1, 1), overlap_px=0),)), photo, engines)
    assert square.image.shape == (128, 128, 3)
    assert np.array_equal(square.image[16:112], photo)
    with pytest.raises(RecipeError, match=r"step 1 \(outpaint\): .*already has aspect 4:3"):
        run(Recipe((ExtendCanvas(aspect=(4, 3)),)), photo, engines)


def test_output_frames_a_one_pixel_subject_without_enlarging_the_whole_photo(
    photo: np.ndarray, engines: Engines
) -> None:
    # 0.85 * 2000 / 1 px: the whole photo enlarged would be 217600 x 163200 pixels.
    levels = block(60, 40, 61, 41)
    result = run(Recipe((StoredMask(levels=levels), Output(canvas=(2000, 2000)))), photo, engines)
    assert result.image.shape == (2000, 2000, 3)
    assert np.array_equal(result.image[1000, 1000], photo[40, 60])
    assert not (result.image == 255).all(axis=2).any()  # the enlarged photo covers the canvas: no white fill


def test_an_enlarged_frame_samples_like_a_full_resize(photo: np.ndarray) -> None:
    from pipeline.recipe.output import frame

    subject = np.zeros((96, 128), np.float32)
    subject[30:34, 50:54] = 1
    framed = frame(photo, subject, Output(canvas=(100, 80), subject_share=0.85))
    scale = 0.85 * min(100 / 4, 80 / 4)  # 17: the full resize would be 2176 x 1632
    full = cv2.resize(photo, (round(128 * scale), round(96 * scale)), interpolation=cv2.INTER_CUBIC)
    left, top = round(50 - scale * 52), round(40 - scale * 32)
    expected = full[-top : -top + 80, -left : -left + 100]
    assert np.abs(framed.astype(int) - expected.astype(int)).max() <= 1
