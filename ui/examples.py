"""The example gallery: thumbnails of ``examples/catalog.json`` and each example's suggestion.

Choosing an example loads its photo at full resolution, applies its suggested mask source
(a click runs through the session's selector, so its markers show; colour, luminance and file
sources through ``examples.suggest``) and sets step 4 to the suggested operation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image as PILImage

from pipeline.errors import InvalidInput
from pipeline.io.images import load_image
from pipeline.types import Image, Point

log = logging.getLogger(__name__)
THUMB_PX = 320
OPERATION_LABELS = {"background": "Replace background", "remove": "Remove", "outpaint": "Extend canvas"}


@dataclass(frozen=True)
class Suggestion:
    """What step 4 should be set to for an example."""

    operation_label: str = "Replace background"
    color_hex: str = "#ffffff"
    aspect: str = "Sides only"


def entries() -> tuple:
    """The catalog's examples in gallery order (empty when the examples are not there)."""
    try:
        from examples.catalog import load_catalog

        return tuple(e for e in load_catalog() if e.file.exists())
    except (ImportError, OSError, ValueError) as error:
        log.warning("no example gallery: %s", error)
        return ()


@cache
def gallery_items() -> tuple[tuple[Image, str], ...]:
    """Small thumbnails (JPEG draft decoding keeps this fast even for 12 MP photos) with titles."""
    items = []
    for entry in entries():
        with PILImage.open(entry.file) as picture:
            picture.draft("RGB", (THUMB_PX, THUMB_PX))
            picture = picture.convert("RGB")
            picture.thumbnail((THUMB_PX, THUMB_PX))
            items.append((np.asarray(picture), f"{entry.title} ({entry.size[0]}×{entry.size[1]})"))
    return tuple(items)


def load_example(index: int) -> tuple[object, Image]:
    """The catalog entry at gallery ``index`` and its photo at full resolution."""
    known = entries()
    if not 0 <= index < len(known):
        raise InvalidInput(f"there is no example {index}; pick one of the {len(known)} photos in the gallery")
    return known[index], load_image(known[index].file).rgb


def click_points(entry: object) -> list[Point] | None:
    """The suggested clicks when the suggestion is a click selection, else None."""
    source = entry.mask_source  # type: ignore[attr-defined]
    if source.source != "click":
        return None
    return [Point(x, y, positive) for x, y, positive in source.points]


def suggested_mask(entry: object, image: Image) -> np.ndarray:
    """The mask of a non-click suggestion (colour key, luminance, imported file or labels)."""
    from examples.suggest import suggested_mask as make

    return make(entry, image)  # type: ignore[arg-type]


def suggestion(entry: object) -> Suggestion:
    op = entry.operation  # type: ignore[attr-defined]
    color = "#{:02x}{:02x}{:02x}".format(*op.color) if op.color is not None else "#ffffff"
    return Suggestion(OPERATION_LABELS.get(op.op, "Replace background"), color, op.aspect or "Sides only")
