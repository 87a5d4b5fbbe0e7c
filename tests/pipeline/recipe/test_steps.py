"""pipeline.recipe.steps: every step validates itself when it is built; a Recipe orders them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.edits.background import Shadow, SolidColor
from pipeline.edits.outpaint import Padding
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import DEFAULT_PROMPTING, Prompting
from pipeline.recipe import (
    RECIPE_VERSION,
    AlphaChannel,
    Clicks,
    ColorRange,
    ExtendCanvas,
    Inpaint,
    LabelClasses,
    LuminanceRange,
    Output,
    Recipe,
    Refine,
    Remove,
    ReplaceBackground,
    StoredMask,
)
from pipeline.recipe.steps import MAX_STEPS, STEP_TYPES
from pipeline.types import Box, Point

LEVELS = np.zeros((4, 6), np.uint8)

INVALID: dict[str, tuple[Callable[[], object], str]] = {
    # clicks
    "clicks without point or box": (lambda: Clicks(size=(10, 10)), "no point and no box"),
    "clicks size zero": (lambda: Clicks(size=(0, 10), points=(Point(1, 1),)), "size"),
    "clicks size float": (lambda: Clicks(size=(10.0, 10), points=(Point(1, 1),)), "size"),  # type: ignore[arg-type]
    "clicks size bool": (lambda: Clicks(size=(True, 10), points=(Point(0, 0),)), "size"),
    "clicks size list": (lambda: Clicks(size=[10, 10], points=(Point(1, 1),)), "size"),  # type: ignore[arg-type]
    "clicks size of three": (lambda: Clicks(size=(1, 2, 3), points=(Point(0, 0),)), "size"),  # type: ignore[arg-type]
    "clicks 101 points": (lambda: Clicks(size=(99, 99), points=(Point(1, 1),) * 101), "at most 100"),
    "clicks raw tuples": (lambda: Clicks(size=(9, 9), points=((1, 2),)), "points"),  # type: ignore[arg-type]
    "clicks box as tuple": (lambda: Clicks(size=(9, 9), box=(0, 0, 4, 4)), "box"),  # type: ignore[arg-type]
    "clicks candidate 16": (lambda: Clicks(size=(9, 9), points=(Point(1, 1),), candidate=16), "candidate"),
    "clicks candidate -1": (lambda: Clicks(size=(9, 9), points=(Point(1, 1),), candidate=-1), "candidate"),
    "clicks combine": (lambda: Clicks(size=(9, 9), points=(Point(1, 1),), combine="xor"), "combine"),  # type: ignore[arg-type]
    # colour and luminance
    "color channel 256": (lambda: ColorRange(color=(0, 0, 256)), "color"),
    "color of two": (lambda: ColorRange(color=(0, 0)), "color"),  # type: ignore[arg-type]
    "color float channel": (lambda: ColorRange(color=(0, 0, 1.5)), "color"),  # type: ignore[arg-type]
    "color bool channel": (lambda: ColorRange(color=(0, True, 0)), "color"),
    "color as text": (lambda: ColorRange(color="red"), "color"),  # type: ignore[arg-type]
    "tolerance -1": (lambda: ColorRange(color=(1, 2, 3), tolerance=-1), "tolerance"),
    "tolerance nan": (lambda: ColorRange(color=(1, 2, 3), tolerance=float("nan")), "tolerance"),
    "softness 401": (lambda: ColorRange(color=(1, 2, 3), softness=401), "softness"),
    "luminance low > high": (lambda: LuminanceRange(low=0.8, high=0.2), "low > high"),
    "luminance high 1.5": (lambda: LuminanceRange(low=0.0, high=1.5), "high"),
    "luminance softness bool": (lambda: LuminanceRange(low=0.0, high=1.0, softness=True), "softness"),
    "alpha threshold 2": (lambda: AlphaChannel(threshold=2.0), "threshold"),
    "alpha combine": (lambda: AlphaChannel(combine="or"), "combine"),  # type: ignore[arg-type]
    # stored masks and label maps
    "stored float levels": (lambda: StoredMask(levels=LEVELS.astype(np.float32)), "uint8"),
    "stored colour levels": (lambda: StoredMask(levels=np.zeros((4, 4, 3), np.uint8)), "(H, W)"),
    "stored empty levels": (lambda: StoredMask(levels=np.zeros((0, 4), np.uint8)), "non-empty"),
    "stored list levels": (lambda: StoredMask(levels=[[0, 1]]), "levels"),  # type: ignore[arg-type]
    "stored origin": (lambda: StoredMask(levels=LEVELS, origin="camera"), "origin"),  # type: ignore[arg-type]
    "labels no class": (lambda: LabelClasses(classes=()), "at least one class"),
    "labels 257 classes": (lambda: LabelClasses(classes=tuple(range(257))), "at most 256"),
    "labels negative id": (lambda: LabelClasses(classes=(-1,)), "classes"),
    "labels text class": (lambda: LabelClasses(classes=("cat",)), "classes"),  # type: ignore[arg-type]
    "labels colour 300": (lambda: LabelClasses(classes=((300, 0, 0),)), "classes"),
    "labels mixed": (lambda: LabelClasses(classes=(1, (1, 2, 3))), "not a mix"),
    "labels float map": (lambda: LabelClasses(classes=(1,), labels=np.zeros((4, 4), np.float32)), "integer map"),
    "labels bool map": (lambda: LabelClasses(classes=(1,), labels=np.zeros((4, 4), bool)), "integer map"),
    "labels ids on colour map": (lambda: LabelClasses(classes=(1,), labels=np.zeros((4, 4, 3), np.uint8)), "colour"),
    "labels colours on id map": (
        lambda: LabelClasses(classes=((1, 2, 3),), labels=np.zeros((4, 4), np.uint8)),
        "holds ids",
    ),
    # refine
    "refine grow 5000": (lambda: Refine(grow_px=5000), "grow_px"),
    "refine grow -1001": (lambda: Refine(grow_px=-1001), "grow_px"),
    "refine grow float": (lambda: Refine(grow_px=2.5), "grow_px"),  # type: ignore[arg-type]
    "refine feather 501": (lambda: Refine(feather_px=501), "feather_px"),
    "refine feather -1": (lambda: Refine(feather_px=-1), "feather_px"),
    "refine feather inf": (lambda: Refine(feather_px=float("inf")), "feather_px"),
    "refine feather nan": (lambda: Refine(feather_px=float("nan")), "feather_px"),
    "refine feather huge int": (lambda: Refine(feather_px=10**400), "feather_px"),
    "refine matte 65": (lambda: Refine(matte_px=65), "matte_px"),
    "refine speck -1": (lambda: Refine(min_speck_px=-1), "min_speck_px"),
    "refine invert int": (lambda: Refine(invert=1), "invert"),  # type: ignore[arg-type]
    "refine fill_holes text": (lambda: Refine(fill_holes="yes"), "fill_holes"),  # type: ignore[arg-type]
    # edits
    "remove grow -1": (lambda: Remove(grow_px=-1), "grow_px"),
    "remove engine": (lambda: Remove(engine="gpu"), "engine"),  # type: ignore[arg-type]
    "remove margin 5000": (lambda: Remove(margin_px=5000), "margin_px"),
    "remove prompting none": (lambda: Remove(prompting=None), "prompting"),  # type: ignore[arg-type]
    "inpaint prompting text": (lambda: Inpaint(prompting="a cat"), "prompting"),  # type: ignore[arg-type]
    "inpaint margin bool": (lambda: Inpaint(margin_px=True), "margin_px"),
    "background fill tuple": (lambda: ReplaceBackground(fill=(255, 255, 255)), "fill"),  # type: ignore[arg-type]
    "background shadow bool": (
        lambda: ReplaceBackground(fill=SolidColor((0, 0, 0)), shadow=True),  # type: ignore[arg-type]
        "shadow",
    ),
    "background engine": (lambda: ReplaceBackground(fill=SolidColor((0, 0, 0)), engine="x"), "engine"),  # type: ignore[arg-type]
    "extend neither": (lambda: ExtendCanvas(), "either padding"),
    "extend both": (lambda: ExtendCanvas(padding=Padding(left=4), aspect=(1, 1)), "not both"),
    "extend aspect zero": (lambda: ExtendCanvas(aspect=(0, 1)), "aspect"),
    "extend aspect of one": (lambda: ExtendCanvas(aspect=(1,)), "aspect"),  # type: ignore[arg-type]
    "extend aspect int": (lambda: ExtendCanvas(aspect=16), "aspect"),  # type: ignore[arg-type]
    "extend padding tuple": (lambda: ExtendCanvas(padding=(1, 2, 3, 4)), "padding"),  # type: ignore[arg-type]
    "extend overlap 257": (lambda: ExtendCanvas(aspect=(1, 1), overlap_px=257), "overlap_px"),
    "extend prompting dict": (lambda: ExtendCanvas(aspect=(1, 1), prompting={}), "prompting"),  # type: ignore[arg-type]
    # output
    "output format": (lambda: Output(format="gif"), "format"),  # type: ignore[arg-type]
    "output quality 0": (lambda: Output(quality=0), "quality"),
    "output quality 101": (lambda: Output(quality=101), "quality"),
    "output canvas zero": (lambda: Output(canvas=(0, 100)), "canvas"),
    "output canvas huge": (lambda: Output(canvas=(9000, 100)), "8192"),
    "output share 0": (lambda: Output(subject_share=0.0), "subject_share"),
    "output share 1.5": (lambda: Output(subject_share=1.5), "subject_share"),
    "output fill 256": (lambda: Output(fill=(0, 0, 256)), "fill"),
    "output fill text": (lambda: Output(fill="white"), "fill"),  # type: ignore[arg-type]
    "output margin -1": (lambda: Output(crop_margin_px=-1), "crop_margin_px"),
}


@pytest.mark.parametrize("build, fragment", INVALID.values(), ids=INVALID.keys())
def test_invalid_steps_are_refused_on_construction(build: Callable[[], object], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()
    assert fragment in str(caught.value)


VALID: dict[str, Callable[[], object]] = {
    "clicks box only": lambda: Clicks(size=(10, 10), box=Box(0, 0, 5, 5)),
    "clicks numpy size": lambda: Clicks(size=(np.int64(10), 10), points=(Point(1, 1),)),
    "clicks 64 points": lambda: Clicks(size=(9, 9), points=(Point(1, 1),) * 64, candidate=15),
    "color edges": lambda: ColorRange(color=(0, 255, 0), tolerance=0, softness=400),
    "luminance point": lambda: LuminanceRange(low=0.5, high=0.5, softness=0),
    "alpha soft": lambda: AlphaChannel(),
    "alpha threshold 0": lambda: AlphaChannel(threshold=0),
    "stored": lambda: StoredMask(levels=LEVELS, origin="result", combine="intersect"),
    "labels id map": lambda: LabelClasses(classes=(0, 65535), labels=np.zeros((3, 4), np.int32)),
    "labels colour map": lambda: LabelClasses(classes=((1, 2, 3),), labels=np.zeros((3, 4, 3), np.uint8)),
    "labels from the photo": lambda: LabelClasses(classes=((1, 2, 3), (4, 5, 6))),
    "refine limits": lambda: Refine(grow_px=-1000, feather_px=256, matte_px=64),
    "remove zero grow": lambda: Remove(grow_px=0, margin_px=0),
    "inpaint": lambda: Inpaint(prompting=Prompting(prompt="x", seed=1), engine="diffusion"),
    "background shadow": lambda: ReplaceBackground(fill=SolidColor((0, 0, 0)), shadow=Shadow(kind="contact")),
    "extend padding": lambda: ExtendCanvas(padding=Padding(top=1)),
    "extend aspect": lambda: ExtendCanvas(aspect=(9999, 1)),
    "output canvas": lambda: Output(canvas=(8192, 1), subject_share=1.0, quality=1),
}


@pytest.mark.parametrize("build", VALID.values(), ids=VALID.keys())
def test_valid_steps_are_built(build: Callable[[], object]) -> None:
    step = build()
    assert type(step) in STEP_TYPES.values()
    assert Recipe((step,)).steps == (step,)


def test_steps_are_frozen() -> None:
    step = Refine(grow_px=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.grow_px = 4  # type: ignore[misc]
    assert step.grow_px == 3


def test_defaults_come_from_the_one_prompting() -> None:
    assert Inpaint().prompting is DEFAULT_PROMPTING
    assert ExtendCanvas(aspect=(1, 1)).prompting is DEFAULT_PROMPTING
    assert Inpaint().prompting == Prompting()


def test_step_kinds_are_unique_names() -> None:
    assert len(STEP_TYPES) == 14
    assert all(cls.kind == name for name, cls in STEP_TYPES.items())
    assert RECIPE_VERSION == 2


def test_photo_specific_steps_know_their_size() -> None:
    assert Clicks(size=(30, 20), points=(Point(1, 1),)).size == (30, 20)
    assert StoredMask(levels=np.zeros((20, 30), np.uint8)).size == (30, 20)
    assert LabelClasses(classes=(1,), labels=np.zeros((20, 30), np.uint16)).size == (30, 20)
    assert LabelClasses(classes=((1, 1, 1),), labels=np.zeros((20, 30, 3), np.uint8)).size == (30, 20)
    assert LabelClasses(classes=(1,)).size is None


def test_refine_identity() -> None:
    assert Refine().is_identity
    assert not Refine(feather_px=0.5).is_identity
    assert not Refine(invert=True).is_identity


# ---------------------------------------------------------------- recipes


def test_output_may_only_come_last() -> None:
    with pytest.raises(InvalidInput, match=r"step 1 \(output\) must be the last step"):
        Recipe((Output(), Refine()))
    with pytest.raises(InvalidInput, match=r"step 2 \(output\) must be the last step"):
        Recipe((Refine(), Output(), Output()))
    assert Recipe((Refine(), Output(quality=50))).output == Output(quality=50)


def test_a_recipe_without_output_uses_the_default_output() -> None:
    assert Recipe().output == Output()
    assert Recipe((Refine(),)).output == Output()


def test_then_appends_and_leaves_the_recipe_unchanged() -> None:
    start = Recipe((ColorRange(color=(1, 2, 3)),))
    longer = start.then(Refine(grow_px=2), Remove())
    assert start.steps == (ColorRange(color=(1, 2, 3)),)
    assert longer.steps == (ColorRange(color=(1, 2, 3)), Refine(grow_px=2), Remove())
    assert longer.then().steps == longer.steps
    finished = longer.then(Output())
    assert finished.output == Output()
    with pytest.raises(InvalidInput, match="must be the last step"):
        finished.then(Refine())


def test_a_recipe_refuses_what_is_not_a_step() -> None:
    with pytest.raises(InvalidInput, match="step 2 is not a recipe step"):
        Recipe((Refine(), "refine"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="tuple"):
        Recipe([Refine()])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=f"at most {MAX_STEPS}"):
        Recipe((Refine(),) * (MAX_STEPS + 1))
    assert len(Recipe((Refine(),) * MAX_STEPS).steps) == MAX_STEPS


def test_recipes_compare_by_their_steps() -> None:
    assert Recipe((Refine(grow_px=1),)) == Recipe((Refine(grow_px=1),))
    assert Recipe((Refine(grow_px=1),)) != Recipe((Refine(grow_px=2),))


@settings(max_examples=80, deadline=None)
@given(grow_px=st.integers(-3000, 3000), feather_px=st.floats(-10, 1000, allow_nan=False))
def test_refine_accepts_exactly_its_ranges(grow_px: int, feather_px: float) -> None:
    ok = -1000 <= grow_px <= 1000 and 0 <= feather_px <= 256
    if ok:
        assert Refine(grow_px=grow_px, feather_px=feather_px).grow_px == grow_px
    else:
        with pytest.raises(InvalidInput):
            Refine(grow_px=grow_px, feather_px=feather_px)


@settings(max_examples=60, deadline=None)
@given(low=st.floats(-0.5, 1.5, allow_nan=False), high=st.floats(-0.5, 1.5, allow_nan=False))
def test_luminance_range_accepts_exactly_ordered_unit_levels(low: float, high: float) -> None:
    if 0 <= low <= high <= 1:
        assert LuminanceRange(low=low, high=high).high == high
    else:
        with pytest.raises(InvalidInput):
            LuminanceRange(low=low, high=high)
