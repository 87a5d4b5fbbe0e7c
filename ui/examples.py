"""The example gallery: thumbnails of ``examples/catalog.json`` and each example's suggestion.

Choosing an example loads its photo at full resolution, applies its suggested mask source as a
recipe step (``load``) and sets step 4 to the suggested operation.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import numpy as np
from PIL import Image as PILImage

from pipeline.errors import InvalidInput
from pipeline.io.images import load_image
from pipeline.recipe import Refine
from pipeline.types import Image
from ui import notebook
from ui.controls import SIDES_ONLY
from ui.services import Services
from ui.state import Session

log = logging.getLogger(__name__)
THUMB_PX = 320
OPERATION_LABELS = {"background": "Replace background", "remove": "Remove", "outpaint": "Extend canvas"}


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


def load(services: Services, session: Session, index: int) -> tuple[Session, Refine, dict[str, Any]]:
    """Example ``index`` loaded with its suggested mask step (``examples.suggest``); the refine
    and step 4 controls to set. A click suggestion runs through the session's selector, so its
    markers show."""
    from examples.suggest import suggested_steps

    entry, image = load_example(index)
    s = notebook.load(services, image, entry.file.name, session)
    step, refine = suggested_steps(entry, image)
    return notebook.replay_step(services, s, step).with_refine(refine), refine, suggestion(entry)


def suggestion(entry: object) -> dict[str, Any]:
    """Step 4's controls for an example: its operation, background colour and aspect."""
    op = entry.operation  # type: ignore[attr-defined]
    color = "#{:02x}{:02x}{:02x}".format(*op.color) if op.color is not None else "#ffffff"
    return {
        "operation": OPERATION_LABELS.get(op.op, "Replace background"),
        "bg_color": color,
        "aspect": op.aspect or SIDES_ONLY,
    }
