"""The page's event handlers: unpack Gradio values, call ``ui.actions`` / ``ui.edits``, pack views.

Each ``on_<component>_<event>`` method returns the new ``Session`` first, then what the page
shows. Pipeline errors become ``gr.Error`` messages, so the photo and mask stay as they were.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import gradio as gr
import numpy as np

from pipeline.errors import InvalidInput, PipelineError
from pipeline.io.images import load_image, load_labels, load_mask
from ui import actions, downloads, edits, examples
from ui.colors import parse_color, to_hex
from ui.display import mask_to_image, to_image_xy
from ui.services import Services
from ui.state import Cell, ClickMode, CombineMode, Refine, Session
from ui.views import history_items, mask_views, refine_view, sketch_value

log = logging.getLogger(__name__)
R = TypeVar("R")


def shows_errors(fn: Callable[..., R]) -> Callable[..., R]:
    """Turn pipeline errors into ``gr.Error`` (the message says what to do); log anything else."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return fn(*args, **kwargs)
        except PipelineError as error:
            raise gr.Error(str(error), print_exception=False) from error
        except gr.Error:
            raise
        except Exception as error:
            log.exception("%s failed", fn.__name__)
            raise gr.Error(f"{type(error).__name__}: {error}. Your photo and mask are kept; try again.") from error

    return wrapper


def photo_outputs(session: Session) -> tuple[Any, ...]:
    """New photo: session, mask views, colour-picker photo, sketch editor, photo info."""
    width, height = session.size
    info = f"**{session.name}**: {width}×{height} px" + (
        f", shown at {session.scale:.0%}" if session.scale < 1.0 else ""
    )
    return (session, *mask_views(session), session.display, sketch_value(session, with_mask=False), info)


def loaded_outputs(session: Session) -> tuple[Any, ...]:
    """A photo loaded without the upload box (example, result, history): also show it in that box."""
    return (*photo_outputs(session), session.display)


class Handlers:
    """Handlers bound to one app's ``Services`` (no user data is kept here)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # ---------------------------------------------------------------- step 1: image

    @shows_errors
    def on_photo_input(self, path: str | None, session: Session) -> tuple[Any, ...]:
        if path is None:
            raise gr.Error("no photo: upload or paste a PNG, JPEG or WebP photo", print_exception=False)
        settings = self.services.settings
        loaded = load_image(path, max_pixels=settings.max_pixels, max_side=settings.max_side)
        if is_shown_copy(loaded.rgb, session):
            return tuple(gr.skip() for _ in range(8))  # the box re-sent the copy it shows: nothing new
        name = getattr(loaded.path, "name", "photo")
        return photo_outputs(actions.load(self.services, loaded.rgb, name, session))

    @shows_errors
    def on_gallery_select(self, session: Session, evt: gr.SelectData) -> tuple[Any, ...]:
        entry, image = examples.load_example(int(evt.index))
        new = actions.load(self.services, image, entry.file.name, session)
        points = examples.click_points(entry)
        if points is not None:
            new = actions.select(self.services, new, points, None, "replace")
        else:
            mask = examples.suggested_mask(entry, image)
            new = actions.apply_source(
                new, "example", mask, "replace", {"example": entry.name, "source": entry.mask_source.source}
            )
        hint = examples.suggestion(entry)
        return (*loaded_outputs(new), hint.operation_label, hint.color_hex, hint.aspect)

    # ---------------------------------------------------------------- step 2: mask sources

    @shows_errors
    def on_click_image_select(
        self, session: Session, kind: ClickMode, mode: CombineMode, evt: gr.SelectData
    ) -> tuple[Any, ...]:
        x, y = to_image_xy(evt.index, session.scale)
        new = actions.click(self.services, session, x, y, kind, mode)
        return (new, *mask_views(new))

    @shows_errors
    def on_undo_click(self, session: Session, mode: CombineMode) -> tuple[Any, ...]:
        new = actions.undo_click(self.services, session, mode)
        return (new, *mask_views(new))

    @shows_errors
    def on_clear_click(self, session: Session) -> tuple[Any, ...]:
        new = session.clear_clicks()
        return (new, *mask_views(new))

    @shows_errors
    def on_candidates_select(self, session: Session, mode: CombineMode, evt: gr.SelectData) -> tuple[Any, ...]:
        new = actions.choose_candidate(session, int(evt.index), mode)
        return (new, *mask_views(new))

    @shows_errors
    def on_push_click(self, session: Session) -> dict[str, object] | None:
        actions.need_image(session)
        return sketch_value(session, with_mask=True)

    @shows_errors
    def on_sketch_apply(self, session: Session, value: dict[str, Any] | None, mode: CombineMode) -> tuple[Any, ...]:
        actions.need_image(session)
        layers = (value or {}).get("layers") or []
        if not layers or layers[0] is None:
            raise InvalidInput("nothing painted yet: paint over the product with the brush, then apply")
        layer = np.asarray(layers[0])
        painted = (
            (layer[..., 3] > 0).astype(np.float32)
            if layer.ndim == 3 and layer.shape[2] == 4
            else (np.asarray(layer).max(axis=-1) > 0).astype(np.float32)
        )
        mask = (mask_to_image(painted, session.size) >= 0.5).astype(np.float32)
        new = actions.apply_source(session, "sketch", mask, mode, {"painted_px": int(mask.sum())})
        return (new, *mask_views(new))

    @shows_errors
    def on_color_image_select(
        self, session: Session, tolerance: float, mode: CombineMode, evt: gr.SelectData
    ) -> tuple[Any, ...]:
        image = actions.need_image(session)
        x, y = to_image_xy(evt.index, session.scale)
        cx, cy = int(np.clip(round(x), 0, image.shape[1] - 1)), int(np.clip(round(y), 0, image.shape[0] - 1))
        patch = image[max(0, cy - 2) : cy + 3, max(0, cx - 2) : cx + 3].reshape(-1, 3)
        color = tuple(int(v) for v in np.median(patch, axis=0))
        new = actions.from_color(session, color, tolerance, mode)  # type: ignore[arg-type]
        return (new, to_hex(color), *mask_views(new))

    @shows_errors
    def on_tolerance_release(self, session: Session, picked: str, tolerance: float, mode: CombineMode) -> tuple:
        new = actions.from_color(session, parse_color(picked), tolerance, mode)
        return (new, *mask_views(new))

    @shows_errors
    def on_luminance_release(self, session: Session, low: float, high: float, mode: CombineMode) -> tuple:
        new = actions.from_luminance(session, min(low, high), max(low, high), mode)
        return (new, *mask_views(new))

    @shows_errors
    def on_import_mask_click(self, session: Session, path: str | None, mode: CombineMode) -> tuple:
        image = actions.need_image(session)
        if not path:
            raise InvalidInput("no mask file: choose a mask PNG first")
        size = (image.shape[1], image.shape[0])
        mask = load_mask(path, size=size, resize=True)
        new = actions.apply_source(session, "import", mask, mode, {"kind": "mask"})
        return (new, *mask_views(new))

    @shows_errors
    def on_import_alpha_click(self, session: Session, path: str | None, mode: CombineMode) -> tuple:
        image = actions.need_image(session)
        if not path:
            raise InvalidInput("no file: choose an image with transparency (PNG or WebP with alpha) first")
        loaded = load_image(path)
        if loaded.alpha is None:
            raise InvalidInput(
                f"{loaded.path.name if loaded.path else 'the file'} has no alpha channel; "
                "choose a PNG or WebP with transparency"
            )
        alpha = mask_to_image(loaded.alpha, (image.shape[1], image.shape[0]))
        new = actions.from_alpha(session, alpha, mode)
        return (new, *mask_views(new))

    @shows_errors
    def on_import_labels_click(self, session: Session, path: str | None, classes: str, mode: CombineMode) -> tuple:
        image = actions.need_image(session)
        if not path:
            raise InvalidInput("no label map: choose a label PNG (one gray level or palette index per class) first")
        ids = parse_classes(classes)
        labels = load_labels(path, size=(image.shape[1], image.shape[0]), resize=True)
        new = actions.from_labels(session, labels, ids, mode)
        return (new, *mask_views(new))

    # ---------------------------------------------------------------- step 3: refine

    @shows_errors
    def on_refine_input(
        self, session: Session, grow_px: float, feather_px: float, invert: bool, fill: bool, speck_px: float
    ) -> tuple[Any, ...]:
        refine = Refine(int(grow_px), float(feather_px), bool(invert), bool(fill), int(speck_px))
        new = session.with_refine(refine)
        preview, info = refine_view(new)
        return new, preview, info

    # ---------------------------------------------------------------- steps 4 and 5: edit, result

    @shows_errors
    def on_run_click(  # noqa: PLR0913 - one argument per control of step 4
        self,
        session: Session,
        operation: str,
        prompt: str,
        negative: str,
        bg_kind: str,
        bg_color: str,
        bg_color2: str,
        bg_blur: float,
        bg_image: np.ndarray | None,
        bg_prompt: str,
        left: float,
        right: float,
        top: float,
        bottom: float,
        aspect: str,
        engine: str,
        steps: float,
        strength: float,
        guidance: float,
        seed: float | None,
        margin: float,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        options = edits.EditOptions.from_page(
            operation,
            prompt,
            negative,
            edits.BackgroundChoice.from_page(bg_kind, bg_color, bg_color2, bg_blur, bg_image, bg_prompt),
            (left, right, top, bottom),
            aspect,
            engine,
            steps,
            strength,
            guidance,
            seed,
            margin,
        )
        cancel = self.services.cancel_flag(request.session_hash or "")
        cancel.clear()

        def report(step: int, total: int) -> None:
            progress((step, total), desc=f"{options.operation}: step {step} of {total}")

        new = edits.run(self.services, session, options, progress=report, cancel=cancel)
        return result_outputs(new, new.history[-1])

    def on_cancel_click(self, request: gr.Request) -> None:
        self.services.cancel_flag(request.session_hash or "").set()
        gr.Info("Cancelling: the edit stops at its next step.")

    @shows_errors
    def on_use_click(self, session: Session) -> tuple[Any, ...]:
        if session.result is None:
            raise InvalidInput("no result yet: run an edit in step 4 first")
        new = actions.load(self.services, session.result, f"result of #{session.history[-1].index}", session)
        if session.mask is not None and session.mask.shape == session.result.shape[:2]:
            new = actions.apply_source(new, "result", session.mask, "replace", {"from": "previous mask"})
        return loaded_outputs(new)

    @shows_errors
    def on_history_select(self, session: Session, evt: gr.SelectData) -> tuple[Any, ...]:
        index = int(evt.index)
        if not 0 <= index < len(session.history):
            raise InvalidInput("that history cell no longer exists; run an edit to make a new one")
        cell = session.history[index]
        new = actions.load(self.services, cell.image, f"input of #{cell.index}", session)
        mask = cell.mask if cell.mask.shape == cell.image.shape[:2] else None
        new = replace(new, mask=mask, steps=cell.steps[:-1], result=cell.result)
        return (*loaded_outputs(new), *result_outputs(new, cell)[1:])

    def on_session_close(self, request: gr.Request) -> None:
        self.services.forget(request.session_hash or "")


def result_outputs(session: Session, cell: Cell) -> tuple[Any, ...]:
    """Session, before/after pair (display size), download files, history gallery."""
    return session, cell.preview, downloads.write_downloads(cell), history_items(session)


SAME_PICTURE_LEVELS = 4.0
"""Mean absolute difference (0-255 levels) under which an upload is the display copy coming back
(the photo box stores it as lossy WebP, so it is close to the copy, not equal)."""


def is_shown_copy(rgb: np.ndarray, session: Session) -> bool:
    """Whether ``rgb`` (H, W, 3) is the display copy this session already shows in the photo box."""
    shown = session.display
    if shown is None or shown.shape != rgb.shape:
        return False
    return float(np.abs(shown.astype(np.int16) - rgb).mean()) < SAME_PICTURE_LEVELS


def parse_classes(text: str) -> list[int]:
    """``"1, 3 7"`` -> [1, 3, 7]; raises ``InvalidInput`` for anything else."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise InvalidInput(f"classes {text!r} are not class numbers; type them like '1, 3'")
    return [int(p) for p in parts]
