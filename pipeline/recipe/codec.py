"""Recipes to JSON and back, strictly: every field is checked against its step's type.

The JSON form is ``{"stencil_recipe": 2, "steps": [{"step": "color", "color": [255, 255, 255],
...}, ...]}``. A field holding pixels (a stored mask, a label map, a background image) is
``{"png": "<base64>"}``. Reading refuses, with one message naming the step and the field: an
unknown version or step, a missing or extra field, a value of the wrong type or out of range,
more than ``MAX_STEPS`` steps, and files over ``MAX_RECIPE_BYTES``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import struct
import types
import typing
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import cv2
import numpy as np

from pipeline.edits.background import BlurredOriginal, Gradient, ImageBackground, PromptBackground, SolidColor
from pipeline.errors import InvalidInput
from pipeline.recipe.steps import MAX_STEPS, RECIPE_VERSION, STEP_TYPES, Recipe, Step

MAX_RECIPE_BYTES = 8 * 1024 * 1024
"""Recipes larger than this (8 MiB of JSON) are refused before they are parsed."""

MAX_EMBEDDED_PIXELS = 40_000_000
"""An embedded picture may hold at most this many pixels (checked in the PNG header first)."""

FILL_TAGS: dict[str, type] = {
    "color": SolidColor,
    "gradient": Gradient,
    "blur": BlurredOriginal,
    "image": ImageBackground,
    "prompt": PromptBackground,
}


class RecipeError(InvalidInput):
    """A recipe that cannot be read or replayed; the message names the step and the field."""


# ---------------------------------------------------------------- writing


def to_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe as JSON-ready data (see the module docstring)."""
    return {"stencil_recipe": RECIPE_VERSION, "steps": [_step_dict(step) for step in recipe.steps]}


def dumps(recipe: Recipe) -> str:
    """The recipe as JSON text (indented, stable key order)."""
    return json.dumps(to_dict(recipe), indent=1)


def _step_dict(step: Step) -> dict[str, Any]:
    return {"step": type(step).kind, **_fields(step)}  # type: ignore[attr-defined]


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"png": base64.b64encode(encode_png(value)).decode("ascii")}
    if isinstance(value, tuple(FILL_TAGS.values())):
        tag = next(name for name, cls in FILL_TAGS.items() if isinstance(value, cls))
        return {"type": tag, **_fields(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def encode_png(array: np.ndarray) -> bytes:
    """Lossless PNG bytes of an ``(H, W)`` uint8/uint16 or ``(H, W, 3)`` uint8 RGB array."""
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    elif array.dtype not in (np.uint8, np.uint16):
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise RecipeError("a label map with ids outside 0..65535 cannot be stored in a recipe")
        array = array.astype(np.uint16)
    ok, data = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise RecipeError(f"could not encode a {array.shape} {array.dtype} array as PNG")
    return data.tobytes()


# ---------------------------------------------------------------- reading


def loads(text: str | bytes) -> Recipe:
    """Read a recipe from JSON text; raises ``RecipeError`` (see the module docstring)."""
    size = len(text)
    if isinstance(text, str) and size <= MAX_RECIPE_BYTES:
        size = len(text.encode("utf-8", "surrogatepass"))  # the limit is in bytes; a character takes 1 to 4
    if size > MAX_RECIPE_BYTES:
        raise RecipeError(
            f"the recipe is {size / 2**20:.1f} MiB, above the {MAX_RECIPE_BYTES // 2**20} MiB limit; "
            "store large masks and pictures as files"
        )
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise RecipeError(f"the recipe is not valid JSON ({error}); save it again from Stencil") from None
    except RecursionError:
        raise RecipeError("the recipe nests lists or objects too deeply to be a Stencil recipe") from None
    return from_dict(data)


def from_dict(data: object) -> Recipe:
    """Build a ``Recipe`` from data shaped like ``to_dict``'s output."""
    if not isinstance(data, dict) or "stencil_recipe" not in data:
        raise RecipeError("this is not a Stencil recipe: it has no 'stencil_recipe' version field")
    version = data["stencil_recipe"]
    if type(version) is not int or version != RECIPE_VERSION:
        old = type(version) is int and version == 1
        hint = " (version 1 files were records, not replayable; make the recipe again)" if old else ""
        raise RecipeError(f"recipe version {version!r} is not supported; this Stencil reads version 2{hint}")
    extra = sorted(set(data) - {"stencil_recipe", "steps"})
    if extra:
        raise RecipeError(f"the recipe has unknown top-level field(s) {', '.join(extra)}; remove them")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise RecipeError("the recipe's 'steps' must be a list of steps")
    if len(steps) > MAX_STEPS:
        raise RecipeError(f"the recipe has {len(steps)} steps; at most {MAX_STEPS} are allowed")
    built = tuple(_step(index, item) for index, item in enumerate(steps, start=1))
    try:
        return Recipe(built)
    except InvalidInput as error:
        raise RecipeError(f"recipe: {error}") from None


def _step(index: int, item: object) -> Step:
    if not isinstance(item, dict) or not isinstance(item.get("step"), str):
        raise RecipeError(f"step {index} is not an object with a 'step' name")
    kind = item["step"]
    cls = STEP_TYPES.get(kind)
    if cls is None:
        raise RecipeError(f"step {index} ({kind!r}) is not a known step; use one of {', '.join(STEP_TYPES)}")
    fields = {k: v for k, v in item.items() if k != "step"}
    try:
        return _build(cls, fields, "")
    except InvalidInput as error:
        raise RecipeError(f"step {index} ({kind}): {error}") from None


def _build(cls: type, data: object, path: str) -> Any:
    if not isinstance(data, dict):
        raise InvalidInput(f"field '{path.rstrip('.')}' must be an object")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    extra = sorted(set(data) - names)
    if extra:
        raise InvalidInput(f"unknown field '{path}{extra[0]}'; remove it")
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = sorted(required - set(data))
    if missing:
        raise InvalidInput(f"missing field '{path}{missing[0]}'")
    values = {name: _decode(hints[name], value, f"{path}{name}") for name, value in data.items()}
    if not path:  # a step: its own message names the field
        return cls(**values)
    try:
        return cls(**values)
    except InvalidInput as error:
        raise InvalidInput(f"field '{path.rstrip('.')}': {error}") from None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, value: object, path: str) -> Any:  # noqa: C901 - one branch per kind of type
    origin = get_origin(hint)
    if hint is np.ndarray or origin is np.ndarray:
        return _picture(value, path)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        if all(o in FILL_TAGS.values() for o in options):
            return _fill(value, path)
        non_none = [o for o in options if o is not type(None)]
        errors = []
        for option in non_none:
            try:
                return _decode(option, value, path)
            except InvalidInput as error:
                errors.append(str(error))
        raise InvalidInput(errors[0])
    if origin is Literal:
        if value not in get_args(hint):
            allowed = ", ".join(map(str, get_args(hint)))
            raise InvalidInput(f"field '{path}' is {value!r}; use one of {allowed}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise InvalidInput(f"field '{path}' must be a list")
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise InvalidInput(f"field '{path}' must have {len(args)} items")
        return tuple(_decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{path}.")  # type: ignore[arg-type]
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: object, path: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"field '{path}' must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"field '{path}' is {value!r}; it must be a whole number")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"field '{path}' is {value!r}; it must be a number")
        if (isinstance(value, int) and abs(value) > 2**1000) or not math.isfinite(value):
            raise InvalidInput(f"field '{path}' is not a finite number of a usable size")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise InvalidInput(f"field '{path}' must be text")
        if len(value) > 10_000:
            raise InvalidInput(f"field '{path}' is {len(value)} characters long; use at most 10000")
        return value
    raise InvalidInput(f"field '{path}' has a type this reader does not know ({hint})")


def _fill(value: object, path: str) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str) or value["type"] not in FILL_TAGS:
        raise InvalidInput(f"field '{path}' must be an object whose 'type' is one of {', '.join(FILL_TAGS)}")
    fields = {k: v for k, v in value.items() if k != "type"}
    return _build(FILL_TAGS[value["type"]], fields, f"{path}.")


def _picture(value: object, path: str) -> np.ndarray:
    if not isinstance(value, dict) or set(value) != {"png"} or not isinstance(value["png"], str):
        raise InvalidInput(f'field \'{path}\' must be {{"png": "<base64>"}}')
    try:
        data = base64.b64decode(value["png"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"field '{path}' is not valid base64") from None
    return decode_png(data, path)


def decode_png(data: bytes, what: str = "picture") -> np.ndarray:
    """An array from ``encode_png`` bytes: the size is checked in the header before decoding."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise InvalidInput(f"'{what}' is not a PNG picture")
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0 or width * height > MAX_EMBEDDED_PIXELS:
        raise InvalidInput(f"'{what}' is {width}x{height}; an embedded picture may hold at most 40 MP")
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise InvalidInput(f"'{what}' could not be decoded as a gray or RGB PNG")
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB) if array.ndim == 3 else array
