"""Pack a ``Session`` into what the page's components show (display-size pictures and text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from pipeline import masks
from pipeline.errors import PipelineError
from pipeline.masks.compose import overlay
from pipeline.recipe.apply import refine_mask
from pipeline.types import Image, Mask
from ui.display import draw_prompt, mask_thumbnail, mask_to_display, thumbnail, to_image_xy
from ui.matte_view import matte_view
from ui.notebook import centre_of, open_clicks
from ui.state import Session

GalleryItems = list[tuple[Image, str]]


@dataclass(frozen=True)
class View:
    """The part of the photo the click view shows: ``x0, y0`` (image px) and ``scale`` (view px per image px)."""

    x0: int
    y0: int
    width: int
    height: int
    scale: float

    def to_image(self, index: Sequence[float]) -> tuple[float, float]:
        """A click at view pixel ``(x, y)`` (Gradio's ``SelectData.index``) in image pixels."""
        x, y = to_image_xy(index, self.scale)
        return self.x0 + x, self.y0 + y


def click_region(session: Session) -> View:
    """The region of the photo shown at ``session.zoom`` around ``centre_of(session)`` (whole photo at 1x)."""
    assert session.photo is not None
    width, height = session.photo.size
    fit = session.photo.scale
    zoom = max(1.0, session.zoom)
    if zoom == 1.0 or fit >= 1.0:
        return View(0, 0, width, height, fit)
    scale = min(1.0, fit * zoom)
    region_w, region_h = min(width, round(width * fit / scale)), min(height, round(height * fit / scale))
    cx, cy = centre_of(session) or (width / 2, height / 2)
    x0 = int(np.clip(round(cx - region_w / 2), 0, width - region_w))
    y0 = int(np.clip(round(cy - region_h / 2), 0, height - region_h))
    return View(x0, y0, region_w, region_h, scale)


def click_view(session: Session) -> Image | None:
    """The photo (or its zoomed region) with the mask tinted and the click markers drawn."""
    if session.photo is None:
        return None
    view = click_region(session)
    if view.x0 == 0 and view.y0 == 0 and view.scale == session.photo.scale:
        shown, small = session.photo.display, session.display_mask
    else:
        box = (slice(view.y0, view.y0 + view.height), slice(view.x0, view.x0 + view.width))
        size = (max(1, round(view.width * view.scale)), max(1, round(view.height * view.scale)))
        shown = cv2.resize(session.photo.image[box], size, interpolation=cv2.INTER_AREA)
        small = None if session.mask is None else mask_to_display(session.mask[box], shown.shape)
    if small is not None:
        shown = overlay(shown, small)
    current = open_clicks(session)
    points = [] if current is None else [_shifted(p, view) for p in current.points]
    box = None if current is None or current.box is None else _shifted_box(current.box, view)
    corner = None if session.corner is None else (session.corner[0] - view.x0, session.corner[1] - view.y0)
    return draw_prompt(shown, points, box, corner, view.scale)


def _shifted(point, view: View):  # noqa: ANN001, ANN202 - Point in, Point out
    from pipeline.types import Point

    return Point(point.x - view.x0, point.y - view.y0, point.positive)


def _shifted_box(box, view: View):  # noqa: ANN001, ANN202 - Box in, Box out
    from pipeline.types import Box

    return Box(box.x0 - view.x0, box.y0 - view.y0, box.x1 - view.x0, box.y1 - view.y0)


def refine_view(session: Session) -> tuple[Image | None, str, Image | None]:
    """The refined mask over the photo, its area / bounding box, and the edge matte view, all fast.

    Refinement runs on the display-size mask and photo with radii scaled, so it keeps up with a
    slider. The matte view (the alpha beside the cutout on a checkerboard) shows while the edge
    matte is on; a mask with no edge to matte is previewed without it and the text says why.
    """
    if session.photo is None:
        return None, "No photo yet: upload one in step 1 or pick an example.", None
    photo = session.photo
    small = session.display_mask
    if small is None:
        small = np.zeros(photo.display.shape[:2], np.float32)
    note = ""
    try:
        refined = refine_mask(session.refine, small, photo.display, scale=photo.scale)
    except PipelineError as error:  # no edge to matte (empty or full mask): preview the rest
        refined = refine_mask(replace(session.refine, matte_px=0), small, photo.display, scale=photo.scale)
        note = f" Edge matte off: {error}"
    matte = matte_view(photo.display, refined) if session.refine.matte_px and not note else None
    return overlay(photo.display, refined, opacity=0.6), describe(refined, photo.scale) + note, matte


def describe(mask: Mask, scale: float = 1.0) -> str:
    """Area and bounding box of ``mask`` in image pixels (``scale``: mask px per image px)."""
    box = masks.bounding_box(mask)
    if box is None:
        return "Selection: empty. Click the product, paint, or pick a colour in step 2."
    area = round(masks.area_px(mask) / (scale * scale))
    total = mask.size / (scale * scale)
    x0, y0, x1, y1 = (round(v / scale) for v in (box.x0, box.y0, box.x1, box.y1))
    approx = "≈ " if scale != 1.0 else ""
    return (
        f"Selection: {approx}{area:,} px ({100 * area / total:.1f}% of the photo); "
        f"box x {x0}–{x1}, y {y0}–{y1} ({x1 - x0}×{y1 - y0} px)"
    )


def candidate_items(session: Session) -> GalleryItems:
    """One thumbnail per candidate mask, best first, captioned with its score."""
    current = open_clicks(session)
    if session.photo is None or not session.candidates or current is None:
        return []
    base = thumbnail(session.photo.display)
    items = []
    for index, (small, score) in enumerate(session.candidates):
        marker = " (in use)" if index == current.candidate else ""
        shown = overlay(base, mask_thumbnail(small, base.shape), opacity=0.6)
        items.append((shown, f"{index + 1}: score {score:.2f}{marker}"))
    return items


def history_items(session: Session) -> GalleryItems:
    return [(cell.thumbnail, cell.caption) for cell in session.history]


def mask_views(session: Session) -> tuple[Image | None, GalleryItems, Image | None, str, Image | None]:
    """Everything that shows the mask: click view, candidates, refine preview, area text, matte view."""
    preview, info, matte = refine_view(session)
    return click_view(session), candidate_items(session), preview, info, matte


def sketch_value(session: Session, with_mask: bool) -> dict[str, object] | None:
    """The sketch editor's value: the photo as background and one mask layer (red, half opaque)."""
    if session.photo is None:
        return None
    display = session.photo.display
    if not with_mask or session.mask is None:
        return {"background": display, "layers": [], "composite": None}
    layer = np.zeros((*display.shape[:2], 4), dtype=np.uint8)
    layer[mask_to_display(session.mask, display.shape) >= 0.5] = (255, 59, 48, 128)
    return {"background": display, "layers": [layer], "composite": None}
