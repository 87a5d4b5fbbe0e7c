"""Pack a ``Session`` into what the page's components show (display-size pictures and text)."""

from __future__ import annotations

import numpy as np

from pipeline.types import Image, Mask
from ui.actions import describe, refine_mask
from ui.display import draw_prompt, mask_thumbnail, mask_to_display, overlay, thumbnail
from ui.state import Session

GalleryItems = list[tuple[Image, str]]


def display_mask(session: Session) -> Mask | None:
    """The current mask at display size (one area-averaged resize; None without a mask)."""
    return session.display_mask


def click_view(session: Session, small: Mask | None = None) -> Image | None:
    """The photo with the current mask tinted and the click markers drawn (display size)."""
    if session.display is None:
        return None
    small = display_mask(session) if small is None else small
    shown = session.display if small is None else overlay(session.display, small)
    return draw_prompt(shown, session.points, session.box, session.corner, session.scale)


def refine_view(session: Session, small: Mask | None = None) -> tuple[Image | None, str]:
    """The refined (feathered...) mask over the photo and its area / bounding box, both fast.

    Refinement runs on the display-size mask with radii scaled, so it keeps up with a slider.
    """
    if session.display is None:
        return None, "No photo yet: upload one in step 1 or pick an example."
    small = display_mask(session) if small is None else small
    if small is None:
        small = np.zeros(session.display.shape[:2], np.float32)
    refined = refine_mask(small, session.refine, session.scale)
    return overlay(session.display, refined, opacity=0.6), describe(refined, session.scale)


def candidate_items(session: Session) -> GalleryItems:
    """One thumbnail per candidate mask, best first, captioned with its score."""
    if session.display is None or not session.candidates:
        return []
    base = thumbnail(session.display)
    items = []
    for index, candidate in enumerate(session.candidates):
        small = mask_thumbnail(candidate.mask, base.shape)
        marker = " (in use)" if index == session.chosen else ""
        items.append((overlay(base, small, opacity=0.6), f"{index + 1}: score {candidate.score:.2f}{marker}"))
    return items


def history_items(session: Session) -> GalleryItems:
    return [(cell.thumbnail, cell.caption) for cell in session.history]


def mask_views(session: Session) -> tuple[Image | None, GalleryItems, Image | None, str]:
    """Everything that shows the mask: click view, candidates, refine preview, area text."""
    small = display_mask(session)
    preview, info = refine_view(session, small)
    return click_view(session, small), candidate_items(session), preview, info


def sketch_value(session: Session, with_mask: bool) -> dict[str, object] | None:
    """The sketch editor's value: the photo as background and one mask layer (red, half opaque)."""
    if session.display is None:
        return None
    if not with_mask or session.mask is None:
        return {"background": session.display, "layers": [], "composite": None}
    height, width = session.display.shape[:2]
    layer = np.zeros((height, width, 4), dtype=np.uint8)
    layer[mask_to_display(session.mask, session.display.shape) >= 0.5] = (255, 59, 48, 128)
    return {"background": session.display, "layers": [layer], "composite": None}
