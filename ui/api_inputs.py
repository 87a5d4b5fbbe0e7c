"""What the API's text fields carry: clicks and boxes as JSON, read into the pipeline's types with an
error that shows the expected form."""

from __future__ import annotations

import json

from pipeline.errors import InvalidInput
from pipeline.types import Box, Point


def parse_points(points_json: str) -> list[Point]:
    """``'[[x, y, 1], [x, y, 0]]'`` (1 = object, 0 = background; image pixels) -> points."""
    try:
        data = json.loads(points_json) if points_json and points_json.strip() else []
        return [Point(float(p[0]), float(p[1]), bool(p[2]) if len(p) > 2 else True) for p in data]
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise InvalidInput(
            f"points {points_json!r} are not a JSON list like [[x, y, 1], [x, y, 0]] (1 = object, 0 = background)"
        ) from error


def parse_box(box_json: str) -> Box | None:
    """``'[x0, y0, x1, y1]'`` (image pixels) -> a box; empty text -> none."""
    if not box_json or not box_json.strip():
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in json.loads(box_json))
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"box {box_json!r} is not a JSON list [x0, y0, x1, y1] in image pixels") from error
    return Box(x0, y0, x1, y1)
