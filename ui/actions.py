"""Session-level mask operations shared by the page handlers and the API endpoints.

Each function takes a ``Session`` (and data in image pixels), calls the pipeline and returns a new
``Session``; nothing is mutated and nothing here knows about Gradio.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from pipeline import masks
from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.select.protocol import Prepared, check_prompt
from pipeline.types import Box, Image, Mask, Point, check_image
from ui.display import fit_display
from ui.services import Services, run_on_gpu
from ui.state import COMBINE_MODES, ClickMode, CombineMode, Session, Source, Step, new_session

log = logging.getLogger(__name__)


def need_image(session: Session) -> Image:
    if session.image is None:
        raise InvalidInput("no photo yet: upload or paste a photo in step 1, or pick an example")
    return session.image


def load(services: Services, image: Image, name: str, previous: Session) -> Session:
    """A new session for ``image`` (history kept); the embedding starts in the background now."""
    check_image(image)
    height, width = image.shape[:2]
    if height * width > services.settings.max_pixels or max(height, width) > services.settings.max_side:
        raise InvalidInput(
            f"the photo is {width}x{height}, above the limit of {services.settings.max_pixels} pixels "
            f"or {services.settings.max_side} px a side; downscale it and upload again"
        )
    display, scale = fit_display(image)
    return new_session(image, display, scale, name, services.start_prepare(image), previous.history)


def apply_source(
    session: Session, source: Source, source_mask: Mask, mode: CombineMode, params: dict[str, Any]
) -> Session:
    """Combine ``source_mask`` into the current mask with ``mode`` (see ``ui.state`` on series)."""
    if mode not in COMBINE_MODES:
        raise InvalidInput(f"combine mode {mode!r} is not one of {', '.join(COMBINE_MODES)}")
    image = need_image(session)
    if source_mask.shape != image.shape[:2]:
        raise SizeMismatch(
            f"mask is {source_mask.shape[1]}x{source_mask.shape[0]} but the photo is "
            f"{image.shape[1]}x{image.shape[0]}; use a mask made for this photo"
        )
    started = session.begin(source)
    base = started.base if started.base is not None else session.empty_mask()
    mask = source_mask if mode == "replace" else masks.combine(base, source_mask, mode)
    return replace(started, mask=mask.astype(np.float32, copy=False)).with_step(Step(source, {"mode": mode, **params}))


def prepared_for(services: Services, session: Session) -> Prepared:
    """The photo's embedding: waits for the background job, or runs it when there is none."""
    if session.prepared is not None:
        return session.prepared.result()
    image = need_image(session)
    return run_on_gpu(lambda: services.segmenter.backend.prepare(image))


def select(
    services: Services, session: Session, points: Sequence[Point], box: Box | None, mode: CombineMode
) -> Session:
    """Run the selector on ``points`` / ``box`` (image pixels); the best candidate becomes the mask."""
    need_image(session)
    check_prompt(session.size, points, box)
    prepared = prepared_for(services, session)
    previous = session.selection if session.points and len(points) > len(session.points) else None
    backend = services.segmenter.backend
    selection = run_on_gpu(lambda: backend.select(prepared, list(points), box, previous))
    updated = replace(
        session, points=tuple(points), box=box, candidates=selection.candidates, chosen=0, selection=selection
    )
    params = {"points": [[p.x, p.y, int(p.positive)] for p in points], "box": _box_list(box), "candidate": 0}
    return apply_source(updated, "click", selection.best.mask, mode, params)


def click(services: Services, session: Session, x: float, y: float, kind: ClickMode, mode: CombineMode) -> Session:
    """One click at image pixel ``(x, y)``: a point, or a box corner (the second corner selects)."""
    image = need_image(session)
    x = float(np.clip(x, 0, image.shape[1] - 1))
    y = float(np.clip(y, 0, image.shape[0] - 1))
    if kind == "box":
        if session.corner is None:
            return replace(session, corner=(x, y))
        (x0, y0), corner = session.corner, None
        box = Box(min(x0, x), min(y0, y), max(x0, x) + 1, max(y0, y) + 1)
        return select(services, replace(session, corner=corner), session.points, box, mode)
    points = (*session.points, Point(x, y, positive=kind == "positive"))
    return select(services, session, points, session.box, mode)


def undo_click(services: Services, session: Session, mode: CombineMode) -> Session:
    """Drop the last point (or the pending box corner, or the box)."""
    if session.corner is not None:
        return replace(session, corner=None)
    if session.points:
        points = session.points[:-1]
        if points or session.box is not None:
            return select(services, replace(session, selection=None), points, session.box, mode)
        return session.clear_clicks()
    if session.box is not None:
        return session.clear_clicks()
    return session


def choose_candidate(session: Session, index: int, mode: CombineMode) -> Session:
    """Use candidate ``index`` (0 = best) of the last selection as the click mask."""
    if not 0 <= index < len(session.candidates):
        raise InvalidInput(f"there is no candidate {index}; click the product first, then pick a candidate")
    params = {
        "points": [[p.x, p.y, int(p.positive)] for p in session.points],
        "box": _box_list(session.box),
        "candidate": index,
    }
    chosen = replace(session, chosen=index)
    return apply_source(chosen, "click", session.candidates[index].mask, mode, params)


def from_color(session: Session, color_rgb: tuple[int, int, int], tolerance: float, mode: CombineMode) -> Session:
    """Select pixels near ``color_rgb`` (0..255 each); ``tolerance`` in Delta-E as in ``masks.from_color``."""
    image = need_image(session)
    mask = masks.from_color(image, color_rgb, tolerance=tolerance)
    return apply_source(session, "color", mask, mode, {"color": list(color_rgb), "tolerance": tolerance})


def from_luminance(session: Session, low: float, high: float, mode: CombineMode) -> Session:
    """Select pixels whose luminance is in ``[low, high]`` (0..1)."""
    if not 0.0 <= low <= high <= 1.0:
        raise InvalidInput(f"luminance range {low:g}..{high:g} is not within 0..1 with low <= high; move the sliders")
    mask = masks.from_luminance(need_image(session), low, high)
    return apply_source(session, "luminance", mask, mode, {"low": low, "high": high})


def from_alpha(session: Session, alpha: Mask, mode: CombineMode) -> Session:
    return apply_source(session, "import", masks.from_alpha(alpha), mode, {"kind": "alpha"})


def from_labels(session: Session, labels: np.ndarray, classes: Sequence[int], mode: CombineMode) -> Session:
    mask = masks.from_labels(labels, list(classes))
    return apply_source(session, "import", mask, mode, {"kind": "labels", "classes": list(classes)})


def refined(session: Session) -> Mask:
    """The current mask with the session's refinement applied, at full resolution."""
    return refine_mask(session.current_mask(), session.refine)


def refine_mask(mask: Mask, refine: Any, scale: float = 1.0) -> Mask:
    """Apply ``refine`` (a ``ui.state.Refine``) to ``mask``; radii are multiplied by ``scale``.

    The order is fixed: fill holes, remove specks, grow/shrink, invert, feather.
    """
    out = mask
    if refine.fill_holes:
        out = masks.fill_holes(out)
    if refine.min_speck_px > 0:
        out = masks.remove_islands(out, max(1, round(refine.min_speck_px * scale * scale)))
    radius = round(abs(refine.grow_px) * scale)
    if refine.grow_px > 0 and radius:
        out = masks.grow(out, radius)
    elif refine.grow_px < 0 and radius:
        out = masks.shrink(out, radius)
    if refine.invert:
        out = masks.invert(out)
    if refine.feather_px > 0 and refine.feather_px * scale >= 0.5:
        out = masks.feather(out, refine.feather_px * scale)
    return out


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


def _box_list(box: Box | None) -> list[float] | None:
    return None if box is None else [box.x0, box.y0, box.x1, box.y1]
