"""Reading the page's raw inputs: a re-sent display copy, the sketch layer, a picked colour, class lists.

Each turns what a Gradio component gives into image pixels or values a recipe step takes, and
raises ``InvalidInput`` (saying what to do) for what it cannot read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.colors import parse_color
from pipeline.errors import InvalidInput
from ui.state import Session

SAME_PICTURE_LEVELS = 4.0
"""Mean absolute difference (0-255 levels) under which an upload is the display copy coming back
(the photo box stores it as lossy WebP, so it is close to the copy, not equal)."""


def is_shown_copy(rgb: np.ndarray, session: Session) -> bool:
    """Whether ``rgb`` (H, W, 3) is the display copy this session already shows in the photo box."""
    shown = session.photo.display if session.photo is not None else None
    if shown is None or shown.shape != rgb.shape:
        return False
    return float(np.abs(shown.astype(np.int16) - rgb).mean()) < SAME_PICTURE_LEVELS


def painted_mask(value: dict[str, Any] | None) -> np.ndarray:
    """The sketch editor's first layer as a display-size {0, 1} float32 mask (painted = 1)."""
    layers = (value or {}).get("layers") or []
    if not layers or layers[0] is None:
        raise InvalidInput("nothing painted yet: paint over the product with the brush, then apply")
    layer = np.asarray(layers[0])
    painted = layer[..., 3] > 0 if layer.ndim == 3 and layer.shape[2] == 4 else layer.max(axis=-1) > 0
    return painted.astype(np.float32)


def median_colour(image: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    """The median colour of the 5x5 pixels around image pixel ``(x, y)`` (clipped to the photo)."""
    cx, cy = int(np.clip(x, 0, image.shape[1] - 1)), int(np.clip(y, 0, image.shape[0] - 1))
    patch = image[max(0, cy - 2) : cy + 3, max(0, cx - 2) : cx + 3].reshape(-1, 3)
    r, g, b = (int(c) for c in np.median(patch, axis=0))
    return r, g, b


def parse_classes(text: str) -> list[int | tuple[int, int, int]]:
    """``"1, 3 7"`` -> [1, 3, 7]; ``"#ff0000"`` -> [(255, 0, 0)]; raises ``InvalidInput`` otherwise."""
    parts = [p for p in (text or "").replace(",", " ").split() if p]
    if not parts:
        raise InvalidInput(f"classes {text!r} are not class numbers; type them like '1, 3' or '#ff0000'")
    return [int(p) if p.isdigit() else parse_color(p) for p in parts]
