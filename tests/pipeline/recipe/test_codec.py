"""pipeline.recipe.codec: the JSON form of a recipe, written and read back strictly."""

from __future__ import annotations

import base64
import dataclasses
import json
import struct
import time
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.edits.background import BlurredOriginal, Gradient, ImageBackground, PromptBackground, Shadow, SolidColor
from pipeline.edits.outpaint import Padding
from pipeline.errors import InvalidInput, PipelineError
from pipeline.inpaint.protocol import Prompting
from pipeline.recipe import (
    MAX_RECIPE_BYTES,
    AlphaChannel,
    Clicks,
    ColorRange,
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
    Subject,
    TextPrompt,
    codec,
    dumps,
    from_dict,
    loads,
    to_dict,
)
from pipeline.recipe.steps import MAX_STEPS, STEP_TYPES
from pipeline.types import Box, Point

FILL_TYPES = (SolidColor, Gradient, BlurredOriginal, ImageBackground, PromptBackground)


def same(a: Any, b: Any) -> bool:
    """Deep equality: arrays by ``np.array_equal`` (and shape), dataclasses field by field."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def every_step() -> Recipe:
    """A recipe holding every kind of step, every fill type, both label maps and both canvas forms."""
    rng = np.random.default_rng(7)
    levels = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    ids = rng.integers(0, 3000, (10, 12)).astype(np.uint16)
    colours = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    picture = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    return Recipe(
        (
            Clicks(
                size=(12, 10),
                points=(Point(3.0, 4.0), Point(7.5, 2.25, positive=False)),
                box=Box(1.0, 1.0, 9.0, 8.0),
                candidate=1,
                combine="add",
            ),
            Clicks(size=(12, 10), box=Box(0.0, 0.0, 5.0, 5.0)),
            ColorRange(color=(10, 20, 30), tolerance=5.5, softness=2.0, combine="subtract"),
            LuminanceRange(low=0.1, high=0.9, softness=0.0, combine="intersect"),
            AlphaChannel(threshold=0.5, combine="add"),
            AlphaChannel(),
            StoredMask(levels=levels, origin="sketch"),
            LabelClasses(classes=(3, 7, 2999), labels=ids, combine="add"),
            LabelClasses(classes=((255, 0, 0), (0, 0, 0)), labels=colours),
            LabelClasses(classes=(1,)),
            Subject(engine="classic", combine="subtract"),
            Subject(),
            TextPrompt(text="red cup", instances=(0, 2), threshold=0.3, combine="add"),
            Refine(fill_holes=True, min_speck_px=4, grow_px=-3, matte_px=2, invert=True, feather_px=1.5),
            Refine(matte_px=6, matte_engine="classic"),
            Remove(grow_px=2, engine="classic", margin_px=10, prompting=Prompting(seed=5, steps=8, guidance=2.0)),
            Remove(),
            Inpaint(prompting=Prompting(prompt="a wooden table", negative_prompt="text", seed=3, steps=12)),
            ReplaceBackground(fill=SolidColor((1, 2, 3))),
            ReplaceBackground(fill=Gradient((1, 2, 3), (250, 251, 252), angle_deg=45.0), shadow=Shadow()),
            ReplaceBackground(
                fill=BlurredOriginal(3.0),
                shadow=Shadow(kind="contact", angle_deg=90.0, distance_px=0.0, softness_px=4.0, opacity=1.0),
            ),
            ReplaceBackground(fill=ImageBackground(picture, fit="fit", pad_rgb=(9, 8, 7)), margin_px=0),
            ReplaceBackground(fill=PromptBackground(Prompting(prompt="a beach", seed=0)), engine="diffusion"),
            ExtendCanvas(padding=Padding(left=1, right=2, top=3, bottom=4), overlap_px=0),
            ExtendCanvas(aspect=(16, 9), prompting=Prompting(prompt="more sky", strength=0.5), engine="classic"),
            Output(format="jpeg", quality=80, canvas=(300, 200), subject_share=0.5, fill=(0, 0, 0), crop_margin_px=3),
        )
    )


# ---------------------------------------------------------------- round trips


def test_the_sample_recipe_holds_every_step_and_fill_type() -> None:
    steps = every_step().steps
    assert {type(step) for step in steps} == set(STEP_TYPES.values())
    fills = {type(step.fill) for step in steps if isinstance(step, ReplaceBackground)}
    assert fills == set(FILL_TYPES)


def test_round_trip_rebuilds_equal_steps() -> None:
    recipe = every_step()
    back = loads(dumps(recipe))
    assert len(back.steps) == len(recipe.steps)
    for index, (before, after) in enumerate(zip(recipe.steps, back.steps, strict=True), start=1):
        assert same(before, after), f"step {index} ({type(before).kind}) changed: {before!r} -> {after!r}"


def test_the_comparison_sees_a_changed_pixel_or_field() -> None:
    levels = np.zeros((3, 3), np.uint8)
    changed = levels.copy()
    changed[1, 1] = 1
    assert same(StoredMask(levels=levels), StoredMask(levels=levels.copy()))
    assert not same(StoredMask(levels=levels), StoredMask(levels=changed))
    assert not same(StoredMask(levels=levels), StoredMask(levels=levels, origin="sketch"))
    assert not same(Refine(grow_px=1), Refine(grow_px=2))


def test_round_trip_keeps_the_embedded_pictures_exactly() -> None:
    recipe = every_step()
    back = loads(dumps(recipe))
    stored = next(s for s in back.steps if isinstance(s, StoredMask))
    assert stored.levels.dtype == np.uint8 and stored.levels.shape == (10, 12)
    id_map, colour_map = (s.labels for s in back.steps if isinstance(s, LabelClasses) and s.labels is not None)
    assert id_map.shape == (10, 12) and np.issubdtype(id_map.dtype, np.integer)
    assert colour_map.shape == (10, 12, 3) and colour_map.dtype == np.uint8
    original = next(
        s for s in recipe.steps if isinstance(s, LabelClasses) and s.labels is not None and s.labels.ndim == 3
    )
    assert np.array_equal(colour_map, original.labels)  # RGB order survives the BGR inside cv2
    image = next(
        s.fill.image for s in back.steps if isinstance(s, ReplaceBackground) and isinstance(s.fill, ImageBackground)
    )
    assert image.shape == (5, 7, 3) and image.dtype == np.uint8


def test_dumps_is_stable_after_one_round_trip() -> None:
    recipe = every_step()
    once = dumps(loads(dumps(recipe)))
    twice = dumps(loads(dumps(loads(dumps(recipe)))))
    assert once == twice
    assert json.loads(once)["stencil_recipe"] == 2


def test_int_valued_floats_are_written_as_floats_after_one_round_trip() -> None:
    recipe = Recipe((ColorRange(color=(1, 2, 3), tolerance=12),))  # an int where a float is typed
    assert '"tolerance": 12' in dumps(recipe)
    back = loads(dumps(recipe))
    assert back.steps[0].tolerance == 12.0 and isinstance(back.steps[0].tolerance, float)
    assert dumps(back) == dumps(loads(dumps(back)))


def test_to_dict_and_from_dict_mirror_dumps_and_loads() -> None:
    recipe = every_step()
    data = to_dict(recipe)
    assert data["stencil_recipe"] == 2
    assert [step["step"] for step in data["steps"]] == [type(s).kind for s in recipe.steps]
    assert json.loads(dumps(recipe)) == data
    assert all(same(a, b) for a, b in zip(from_dict(data).steps, recipe.steps, strict=True))


def test_loads_reads_bytes_and_an_empty_recipe() -> None:
    assert loads(dumps(Recipe()).encode("utf-8")) == Recipe()
    assert loads('{"stencil_recipe": 2, "steps": []}').steps == ()


def test_a_label_map_with_ids_above_16_bits_cannot_be_written() -> None:
    recipe = Recipe((LabelClasses(classes=(1,), labels=np.full((4, 4), 70_000, np.int32)),))
    with pytest.raises(RecipeError, match="65535"):
        dumps(recipe)


@settings(max_examples=60, deadline=None)
@given(
    fill_holes=st.booleans(),
    min_speck_px=st.integers(0, 100_000_000),
    grow_px=st.integers(-1000, 1000),
    matte_px=st.integers(0, 64),
    invert=st.booleans(),
    feather_px=st.floats(0.0, 256.0, allow_nan=False),
)
def test_random_refine_round_trips(
    fill_holes: bool, min_speck_px: int, grow_px: int, matte_px: int, invert: bool, feather_px: float
) -> None:
    step = Refine(
        fill_holes=fill_holes,
        min_speck_px=min_speck_px,
        grow_px=grow_px,
        matte_px=matte_px,
        invert=invert,
        feather_px=feather_px,
    )
    back = loads(dumps(Recipe((step,))))
    assert back.steps == (step,)


@settings(max_examples=60, deadline=None)
@given(
    color=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    tolerance=st.floats(0.0, 400.0),
    softness=st.floats(0.0, 400.0),
    combine=st.sampled_from(["replace", "add", "subtract", "intersect"]),
)
def test_random_color_range_round_trips(
    color: tuple[int, int, int], tolerance: float, softness: float, combine: str
) -> None:
    step = ColorRange(color=color, tolerance=tolerance, softness=softness, combine=combine)  # type: ignore[arg-type]
    assert loads(dumps(Recipe((step,)))).steps == (step,)


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.text(max_size=40),
    negative=st.text(max_size=40),
    seed=st.none() | st.integers(0, 2**63 - 1),
    steps=st.integers(1, 150),
    strength=st.floats(0.0, 1.0, exclude_min=True),
    guidance=st.floats(0.0, 50.0),
)
def test_random_prompting_round_trips(
    prompt: str, negative: str, seed: int | None, steps: int, strength: float, guidance: float
) -> None:
    prompting = Prompting(
        prompt=prompt, negative_prompt=negative, seed=seed, steps=steps, strength=strength, guidance=guidance
    )
    recipe = Recipe((Inpaint(prompting=prompting), ExtendCanvas(aspect=(4, 5), prompting=prompting)))
    back = loads(dumps(recipe))
    assert back.steps == recipe.steps
    assert back.steps[0].prompting == prompting


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.builds(Point, st.floats(0, 500, allow_nan=False), st.floats(0, 500, allow_nan=False), st.booleans()),
        min_size=1,
        max_size=64,
    ),
    candidate=st.integers(0, 15),
)
def test_random_clicks_round_trip(points: list[Point], candidate: int) -> None:
    step = Clicks(size=(501, 501), points=tuple(points), candidate=candidate)
    assert loads(dumps(Recipe((step,)))).steps == (step,)


# ---------------------------------------------------------------- refusals


def _recipe(*steps: object, **top: object) -> str:
    return json.dumps({"stencil_recipe": 2, "steps": list(steps), **top})


def _png_b64(array: np.ndarray) -> dict[str, str]:
    return {"png": base64.b64encode(codec.encode_png(array)).decode("ascii")}


def _png_header(width: int, height: int) -> bytes:
    """The signature and a valid IHDR chunk of a PNG claiming ``width`` x ``height`` (no pixel data)."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


COLOR = {"step": "color", "color": [1, 2, 3]}

BAD_RECIPES = {
    "not json": ("{stencil_recipe: 2", ["not valid JSON"]),
    "not utf-8": (b"\xff\xfe\x00", ["not valid JSON"]),
    "a list": ("[1, 2]", ["not a Stencil recipe", "stencil_recipe"]),
    "null": ("null", ["not a Stencil recipe"]),
    "version 1": ('{"stencil_recipe": 1, "steps": []}', ["version 1", "version 2", "make the recipe again"]),
    "version 99": ('{"stencil_recipe": 99, "steps": []}', ["version 99", "version 2"]),
    "version 2.0": ('{"stencil_recipe": 2.0, "steps": []}', ["version 2.0"]),
    "version true": ('{"stencil_recipe": true, "steps": []}', ["version True"]),
    "version text": ('{"stencil_recipe": "2", "steps": []}', ["version '2'"]),
    "no version": ('{"steps": []}', ["stencil_recipe"]),
    "extra top-level key": (_recipe(edit="remove"), ["unknown top-level", "edit"]),
    "steps not a list": ('{"stencil_recipe": 2, "steps": {}}', ["'steps' must be a list"]),
    "no steps": ('{"stencil_recipe": 2}', ["'steps' must be a list"]),
    "step not an object": (_recipe(COLOR, "refine"), ["step 2", "not an object"]),
    "step without a name": (_recipe({"grow_px": 1}), ["step 1", "'step'"]),
    "unknown step": (_recipe(COLOR, {"step": "sharpen"}), ["step 2", "'sharpen'", "not a known step"]),
    "missing field": (_recipe({"step": "luminance", "low": 0.1}), ["step 1 (luminance)", "missing field 'high'"]),
    "missing color": (_recipe({"step": "color"}), ["step 1 (color)", "'color'"]),
    "extra field": (_recipe(COLOR, {"step": "refine", "blur": 2}), ["step 2 (refine)", "unknown field 'blur'"]),
    "string for int": (_recipe({"step": "refine", "grow_px": "3"}), ["step 1 (refine)", "'grow_px'", "whole number"]),
    "float for int": (_recipe({"step": "refine", "grow_px": 3.0}), ["step 1 (refine)", "'grow_px'", "whole number"]),
    "bool for int": (_recipe({"step": "output", "quality": True}), ["step 1 (output)", "'quality'", "whole number"]),
    "int for bool": (_recipe({"step": "refine", "invert": 1}), ["step 1 (refine)", "'invert'", "true or false"]),
    "string for float": (_recipe({"step": "luminance", "low": "0", "high": 1}), ["step 1 (luminance)", "'low'"]),
    "bool for float": (_recipe({"step": "refine", "feather_px": False}), ["step 1 (refine)", "'feather_px'"]),
    "NaN float": (
        '{"stencil_recipe": 2, "steps": [{"step": "refine", "feather_px": NaN}]}',
        ["'feather_px'", "finite"],
    ),
    "infinite angle": (
        _recipe(
            {
                "step": "background",
                "fill": {"type": "gradient", "start": [0, 0, 0], "end": [1, 1, 1], "angle_deg": 1e999},
            }
        ),
        ["step 1 (background)", "'fill.angle_deg'", "finite"],
    ),
    "grow_px 5000": (_recipe({"step": "refine", "grow_px": 5000}), ["step 1 (refine)", "grow_px", "5000"]),
    "tolerance -1": (_recipe(COLOR, {**COLOR, "tolerance": -1}), ["step 2 (color)", "tolerance", "-1"]),
    "quality 0": (_recipe({"step": "output", "quality": 0}), ["step 1 (output)", "quality", "0"]),
    "bad literal": (_recipe({"step": "remove", "engine": "magic"}), ["step 1 (remove)", "'engine'", "magic"]),
    "bad combine": (_recipe({**COLOR, "combine": "xor"}), ["step 1 (color)", "'combine'", "xor"]),
    "short tuple": (_recipe({"step": "color", "color": [1, 2]}), ["step 1 (color)", "'color'", "3 items"]),
    "fill.rgb not a list": (
        _recipe({"step": "background", "fill": {"type": "color", "rgb": "red"}}),
        ["step 1 (background)", "'fill.rgb'", "list"],
    ),
    "fill.rgb item a string": (
        _recipe({"step": "background", "fill": {"type": "color", "rgb": [1, "2", 3]}}),
        ["step 1 (background)", "'fill.rgb[1]'", "whole number"],
    ),
    "fill.rgb out of range": (
        _recipe({"step": "background", "fill": {"type": "color", "rgb": [300, 0, 0]}}),
        ["step 1 (background)", "'fill'", "300"],
    ),
    "fill.rgb missing": (
        _recipe({"step": "background", "fill": {"type": "color"}}),
        ["step 1 (background)", "missing field 'fill.rgb'"],
    ),
    "fill extra field": (
        _recipe({"step": "background", "fill": {"type": "color", "rgb": [0, 0, 0], "alpha": 1}}),
        ["step 1 (background)", "unknown field 'fill.alpha'"],
    ),
    "fill unknown type": (
        _recipe({"step": "background", "fill": {"type": "plaid"}}),
        ["step 1 (background)", "'fill'", "'type'"],
    ),
    "fill type a list": (
        _recipe({"step": "background", "fill": {"type": [], "rgb": [0, 0, 0]}}),
        ["step 1 (background)", "'fill'", "'type'"],
    ),
    "shadow bad kind": (
        _recipe({"step": "background", "fill": {"type": "blur", "radius_px": 2}, "shadow": {"kind": "long"}}),
        ["step 1 (background)", "'shadow.kind'", "long"],
    ),
    "nested prompting": (
        _recipe({"step": "inpaint", "prompting": {"steps": 0}}),
        ["step 1 (inpaint)", "'prompting'", "steps is 0"],
    ),
    "nested point": (
        _recipe({"step": "clicks", "size": [4, 4], "points": [{"x": 1, "y": "2"}]}),
        ["step 1 (clicks)", "'points[0].y'"],
    ),
    "bad base64": (
        _recipe({"step": "mask", "levels": {"png": "not base64!"}}),
        ["step 1 (mask)", "'levels'", "base64"],
    ),
    "picture not an object": (_recipe({"step": "mask", "levels": [[0, 1]]}), ["step 1 (mask)", "'levels'", "png"]),
    "not a PNG": (
        _recipe({"step": "mask", "levels": {"png": base64.b64encode(b"GIF89a" + bytes(40)).decode()}}),
        ["step 1 (mask)", "'levels'", "not a PNG"],
    ),
    "colour PNG for levels": (
        _recipe({"step": "mask", "levels": _png_b64(np.zeros((4, 4, 3), np.uint8))}),
        ["step 1 (mask)", "levels", "(H, W) uint8"],
    ),
    "16-bit PNG for levels": (
        _recipe({"step": "mask", "levels": _png_b64(np.zeros((4, 4), np.uint16))}),
        ["step 1 (mask)", "levels", "uint16"],
    ),
    "grey PNG for a background image": (
        _recipe({"step": "background", "fill": {"type": "image", "image": _png_b64(np.zeros((4, 4), np.uint8))}}),
        ["step 1 (background)", "'fill'", "(H, W, 3)"],
    ),
    "label class out of range": (
        _recipe({"step": "labels", "classes": [-1]}),
        ["step 1 (labels)", "classes", "-1"],
    ),
    "label colour out of range": (
        _recipe({"step": "labels", "classes": [[300, 0, 0]]}),
        ["step 1 (labels)", "classes", "300"],
    ),
    "output not last": (_recipe({"step": "output"}, COLOR), ["step 1 (output)", "last"]),
    "empty prompt background": (
        _recipe({"step": "background", "fill": {"type": "prompt", "prompting": {"prompt": " "}}}),
        ["step 1 (background)", "'fill'", "prompt"],
    ),
}


@pytest.mark.parametrize("text, fragments", BAD_RECIPES.values(), ids=BAD_RECIPES.keys())
def test_bad_recipes_are_refused_with_a_message_naming_step_and_field(text: str, fragments: list[str]) -> None:
    with pytest.raises(RecipeError) as caught:
        loads(text)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(caught.value, InvalidInput) and isinstance(caught.value, PipelineError)


def test_the_error_names_the_failing_step_among_good_ones() -> None:
    good = json.loads(dumps(every_step()))["steps"]
    good[4] = {**good[4], "threshold": 2.0}  # step 5 is an AlphaChannel
    with pytest.raises(RecipeError, match=r"^step 5 \(alpha\): threshold is 2\.0"):
        from_dict({"stencil_recipe": 2, "steps": good})


def test_a_png_claiming_10_gigapixels_is_refused_from_its_header(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the picture was decoded")

    monkeypatch.setattr(codec.cv2, "imdecode", no_decoding)
    text = _recipe({"step": "mask", "levels": {"png": base64.b64encode(_png_header(100_000, 100_000)).decode()}})
    started = time.perf_counter()
    with pytest.raises(RecipeError, match=r"step 1 \(mask\): 'levels' is 100000x100000") as caught:
        loads(text)
    assert time.perf_counter() - started < 0.5
    assert "40 MP" in str(caught.value)


def test_a_png_at_the_pixel_cap_gets_past_the_header_check() -> None:
    # 8000 x 5000 = 40 MP, exactly the cap: the header passes; the missing pixel data fails to decode.
    with pytest.raises(InvalidInput, match="could not be decoded"):
        codec.decode_png(_png_header(8000, 5000) + b"IDAT", "levels")
    with pytest.raises(InvalidInput, match="at most 40 MP"):
        codec.decode_png(_png_header(8000, 5001), "levels")


def test_ten_thousand_steps_are_refused() -> None:
    with pytest.raises(RecipeError, match="10000 steps; at most 1000"):
        loads(_recipe(*[{"step": "refine"}] * 10_000))
    assert len(loads(_recipe(*[{"step": "refine"}] * MAX_STEPS)).steps) == MAX_STEPS


def test_a_10_mb_recipe_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    big = _recipe({"step": "mask", "levels": {"png": "A" * (10 * 2**20)}})
    wide = json.dumps({"stencil_recipe": 2, "steps": [], "note": "é" * (5 * 2**20)}, ensure_ascii=False)
    assert len(wide) < MAX_RECIPE_BYTES < len(wide.encode("utf-8"))

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the recipe was parsed")

    monkeypatch.setattr(codec.json, "loads", no_parsing)
    for text in (big, big.encode("utf-8"), wide):
        started = time.perf_counter()
        with pytest.raises(RecipeError, match="MiB, above the 8 MiB limit"):
            loads(text)
        assert time.perf_counter() - started < 0.5


def test_a_recipe_exactly_at_the_size_limit_is_read() -> None:
    text = dumps(Recipe((Refine(grow_px=2),)))
    padded = text + " " * (MAX_RECIPE_BYTES - len(text))
    assert loads(padded).steps == (Refine(grow_px=2),)
    with pytest.raises(RecipeError, match="limit"):
        loads(padded + " ")


def test_deeply_nested_json_is_refused_as_a_recipe_error() -> None:
    with pytest.raises(RecipeError, match="too deeply"):
        loads("[" * 100_000 + "]" * 100_000)


def test_a_number_too_large_for_a_float_is_refused() -> None:
    text = '{"stencil_recipe": 2, "steps": [{"step": "refine", "feather_px": 1' + "0" * 400 + "}]}"
    with pytest.raises(RecipeError, match=r"step 1 \(refine\): field 'feather_px'"):
        loads(text)


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:4]):  # the first few items of a list stand for all
            found += _paths(item, (*prefix, index))
    return found


SAMPLE = to_dict(every_step())
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(_paths(SAMPLE)), value=JSON_VALUES)
def test_any_value_anywhere_is_read_or_refused_as_a_recipe_error(path: tuple[object, ...], value: object) -> None:
    data = json.loads(json.dumps(SAMPLE))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        recipe = from_dict(data)
    except RecipeError as error:
        assert str(error)
    else:
        assert dumps(loads(dumps(recipe))) == dumps(recipe)
