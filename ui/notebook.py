"""The notebook's operations, shared by the page handlers and the API endpoints.

Each function takes a ``Session``, builds a recipe step (``pipeline.recipe``), runs it through
the same functions ``stencil apply`` uses, and returns a new ``Session``; nothing is mutated and
nothing here knows about Gradio. Edits and history are in ``ui.cells``.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.errors import InvalidInput
from pipeline.masks import CombineMode
from pipeline.recipe import Clicks, MaskStep, Recipe, StoredMask, Subject, TextPrompt
from pipeline.recipe.mask_sources import (
    ClickChain,
    check_photo_size,
    clicks_mask,
    combine,
    pick_instances,
    select_clicks,
    source_mask,
    to_levels,
)
from pipeline.select.protocol import Candidate, Prepared, Selection, check_prompt
from pipeline.space.runtime import gpu_seconds_for
from pipeline.types import Box, Image, Mask, Point, check_image
from ui.display import fit_display
from ui.display import mask_thumbnail as thumbnail_mask
from ui.services import Services
from ui.state import FoundText, Photo, Session, is_open

log = logging.getLogger(__name__)


def need_photo(session: Session) -> Photo:
    if session.photo is None:
        raise InvalidInput("no photo yet: upload or paste a photo in step 1, or pick an example")
    return session.photo


def session_folder(session: Session) -> Path:
    """The session's own temporary folder (created on first use, deleted with the session), inside
    the app's one folder (``temp_root``)."""
    if session.folder is not None and session.folder.exists():
        return session.folder
    return Path(tempfile.mkdtemp(prefix="session-", dir=temp_root()))


_root: Path | None = None
_root_lock = threading.Lock()


def temp_root() -> Path:
    """This process's one folder in the system's temp directory (``stencil-app-PID``): every session
    folder lives in it, so what the app holds on disk is one ``du`` away; removed when it exits."""
    global _root
    with _root_lock:
        if _root is None or not _root.exists():
            _root = Path(tempfile.gettempdir()) / f"stencil-app-{os.getpid()}"
            _root.mkdir(exist_ok=True)
            atexit.register(shutil.rmtree, _root, True)
        return _root


def load(
    services: Services,
    image: Image,
    name: str,
    previous: Session,
    *,
    alpha: Mask | None = None,
    origin: Recipe | None = None,
) -> Session:
    """A new notebook page for ``image`` (history and folder kept); the embedding starts now."""
    check_image(image)
    settings = services.settings
    height, width = image.shape[:2]
    if height * width > settings.max_pixels or max(height, width) > settings.max_side:
        raise InvalidInput(
            f"the photo is {width}x{height}, above the limit of {settings.max_pixels} pixels "
            f"or {settings.max_side} px a side; downscale it and upload again"
        )
    display, scale = fit_display(image)
    photo = Photo(image, name, display, scale, services.start_prepare(image), alpha, origin or Recipe())
    kept = {"result": previous.result, "shown_cell": previous.shown_cell, "click_backend": previous.click_backend}
    return Session(photo=photo, history=previous.history, folder=session_folder(previous), **kept)


def put_step(session: Session, step: MaskStep, found: Mask, *, new: bool = False, **extra: object) -> Session:
    """Combine ``found`` (what ``step`` selects) into the mask: redo the open step, or start a new
    one (always with ``new``, as a replayed recipe does)."""
    photo = need_photo(session)
    if found.shape != photo.image.shape[:2]:
        raise InvalidInput(f"the {type(step).kind} step's mask does not fit the {photo.size[0]}x{photo.size[1]} photo")  # type: ignore[attr-defined]
    if is_open(last_step(session), step) and not new:
        base, steps = session.base, (*session.steps[:-1], step)
    else:
        base, steps = session.mask, (*session.steps, step)
    mask = combine(base, found, step.combine)
    return replace(session, steps=steps, base=base, mask=mask, **extra)  # type: ignore[arg-type]


def add_source(session: Session, step: MaskStep, *, new: bool = False) -> Session:
    """Run a non-click mask step on the photo and combine it in (clicks: ``select``)."""
    photo = need_photo(session)
    found = source_mask(step, photo.image, alpha=photo.alpha)
    return put_step(session, step, found, new=new, chain=None, chain_before=None, candidates=())


def find_subject(services: Services, session: Session, step: Subject, *, new: bool = False) -> Session:
    """Run a ``Subject`` step: the app's subject finder (or the one the step names) finds the product."""
    photo = need_photo(session)
    chosen = services.subject_finder if step.engine == "auto" else services.engines.chosen_subject(step.engine)
    found = services.run_model(lambda: chosen.backend.find(photo.image), seconds=gpu_seconds_for(photo.image))
    return put_step(session, step, found, new=new, chain=None, chain_before=None, candidates=())


def find_text(services: Services, session: Session, step: TextPrompt, *, new: bool = False) -> Session:
    """Run a ``TextPrompt`` step with the app's SAM 3; picking other instances of the same name reuses
    what it found (``Session.text_found``) instead of running the model again."""
    photo = need_photo(session)
    found = session.text_found
    if found is None or (found.text, found.threshold) != (step.text, step.threshold):
        finder = services.text_finder.backend
        seconds = gpu_seconds_for(photo.image)
        candidates = services.run_model(
            lambda: finder.find(photo.image, step.text, threshold=step.threshold), seconds=seconds
        )
        found = FoundText.pack(step.text, step.threshold, candidates)
    mask = pick_instances(found.candidates(), step)
    return put_step(session, step, mask, new=new, chain=None, chain_before=None, candidates=(), text_found=found)


def replay_step(services: Services, session: Session, step: MaskStep) -> Session:
    """Run a mask step of a loaded recipe as a new step (clicks through the selector)."""
    if isinstance(step, Subject):
        return find_subject(services, session, step, new=True)
    if isinstance(step, TextPrompt):
        return find_text(services, replace(session, text_found=None), step, new=True)
    if not isinstance(step, Clicks):
        return add_source(session, step, new=True)
    photo = need_photo(session)
    check_photo_size(step, photo.image)
    prepared = prepared_for(services, session)
    segmenter = services.selector_for(session.click_backend).backend
    seconds = gpu_seconds_for(need_photo(session).image)
    chain = services.run_model(lambda: select_clicks(segmenter, prepared, step), seconds=seconds)
    return _with_chain(session, chain, None, new=True)


def store_mask(session: Session, mask: Mask, origin: str, mode: CombineMode) -> Session:
    """A painted or imported mask as a step: kept as 8-bit levels, replayed exactly from them."""
    step = StoredMask(levels=to_levels(mask), origin=origin, combine=mode)  # type: ignore[arg-type]
    return add_source(session, step)


# ---------------------------------------------------------------- clicks


def prepared_for(services: Services, session: Session) -> Prepared:
    """The photo's embedding for the session's click backend: waits for the background job (made for
    the app's backend), or runs it (each backend caches its embeddings by content)."""
    photo = need_photo(session)
    if photo.prepared is not None and session.click_backend == "auto":
        return photo.prepared.result()
    backend = services.selector_for(session.click_backend).backend
    return services.run_model(lambda: backend.prepare(photo.image), seconds=gpu_seconds_for(photo.image))


def select(
    services: Services, session: Session, points: Sequence[Point], box: Box | None, mode: CombineMode
) -> Session:
    """Run the open clicks step with ``points`` / ``box`` (image pixels); the best candidate is used."""
    photo = need_photo(session)
    check_prompt(photo.size, points, box)
    step = Clicks(size=photo.size, points=tuple(points), box=box, combine=mode)
    after = session.chain if is_open(last_step(session), step) else None
    prepared = prepared_for(services, session)
    segmenter = services.selector_for(session.click_backend).backend
    seconds = gpu_seconds_for(need_photo(session).image)
    chain = services.run_model(lambda: select_clicks(segmenter, prepared, step, after=after), seconds=seconds)
    before = after if after is not None and len(after.step.points) == len(points) - 1 else None
    return _with_chain(session, chain, before)


def _with_chain(session: Session, chain: ClickChain, before: ClickChain | None, *, new: bool = False) -> Session:
    shape = need_photo(session).display.shape
    candidates = tuple((thumbnail_mask(c.mask, shape), c.score) for c in chain.selection.candidates)
    found = clicks_mask(chain)
    extra = {"chain": light(chain), "chain_before": before, "candidates": candidates, "corner": None}
    return put_step(session, chain.step, found, new=new, **extra)


def light(chain: ClickChain) -> ClickChain:
    """``chain`` without its full-size candidate masks (selectors read only ``Selection.state``)."""
    tiny = np.zeros((1, 1), np.float32)
    selection = Selection(tuple(Candidate(tiny, c.score) for c in chain.selection.candidates), chain.selection.state)
    return ClickChain(chain.step, selection)


def last_step(session: Session) -> MaskStep | None:
    """The last mask step while it can be redone, i.e. while ``base`` (the mask before it) is known.

    After the first step ``base`` is never None, except when an open step after the last one was
    cleared (``clear_clicks``): the mask before that one was not kept, so the next step starts anew.
    """
    if not session.steps or (session.base is None and len(session.steps) > 1):
        return None
    return session.steps[-1]


def open_clicks(session: Session) -> Clicks | None:
    """The open clicks step, if the last step is one and can be redone."""
    last = last_step(session)
    return last if isinstance(last, Clicks) else None


def click(services: Services, session: Session, x: float, y: float, kind: str, mode: CombineMode) -> Session:
    """One click at image pixel ``(x, y)``: a point, a box corner (the second one selects), or a pan."""
    photo = need_photo(session)
    width, height = photo.size
    x, y = float(np.clip(x, 0, width - 1)), float(np.clip(y, 0, height - 1))
    if kind == "pan":
        return replace(session, centre=(x, y))
    current = open_clicks(session)
    current = current if current is not None and current.combine == mode else None
    points = current.points if current is not None else ()
    box = current.box if current is not None else None
    if kind == "box":
        if session.corner is None:
            return replace(session, corner=(x, y))
        (x0, y0) = session.corner
        box = Box(min(x0, x), min(y0, y), max(x0, x) + 1, max(y0, y) + 1)
        return select(services, replace(session, corner=None), points, box, mode)
    return select(services, session, (*points, Point(x, y, positive=kind == "positive")), box, mode)


def undo_click(services: Services, session: Session) -> Session:
    """Drop the last point of the open clicks step (or the pending box corner, or the box)."""
    if session.corner is not None:
        return replace(session, corner=None)
    current = open_clicks(session)
    if current is None:
        return session
    points, box = current.points[:-1] if current.points else (), current.box if current.points else None
    if not points and box is None:
        return clear_clicks(session)
    fresh = replace(session, chain=None)
    return select(services, fresh, points, box, current.combine)


def clear_clicks(session: Session) -> Session:
    """Drop the open clicks step: the mask goes back to what it was before it.

    The step before it is then closed (the mask before that one is not kept; see ``last_step``).
    """
    if open_clicks(session) is None:
        return replace(session, corner=None)
    return replace(
        session,
        steps=session.steps[:-1],
        base=None,
        mask=session.base,
        chain=None,
        chain_before=None,
        candidates=(),
        corner=None,
    )


def choose_candidate(services: Services, session: Session, index: int) -> Session:
    """Use candidate ``index`` (0 = best) of the open clicks step."""
    current = open_clicks(session)
    if current is None or not 0 <= index < len(session.candidates):
        raise InvalidInput(f"there is no candidate {index}; click the product first, then pick a candidate")
    step = replace(current, candidate=index)
    prepared = prepared_for(services, session)
    segmenter = services.selector_for(session.click_backend).backend
    before = session.chain_before
    seconds = gpu_seconds_for(need_photo(session).image)
    chain = services.run_model(lambda: select_clicks(segmenter, prepared, step, after=before), seconds=seconds)
    return _with_chain(session, chain, before)


def centre_of(session: Session) -> tuple[float, float] | None:
    """Where a zoomed click view looks: the chosen centre, else the last click, else the mask's middle."""
    if session.centre is not None:
        return session.centre
    current = open_clicks(session)
    if current is not None and current.points:
        return current.points[-1].x, current.points[-1].y
    return None
