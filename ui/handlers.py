"""The page's event handlers: unpack the controls, build a step, call ``ui.notebook`` / ``ui.cells``, pack.

Every handler takes ``v``, a dict keyed by component (Gradio passes one when an event's inputs
are a set), and returns a dict keyed by component: only what changed is sent back. Pipeline
errors become ``gr.Error`` messages, so the photo and mask stay as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from pipeline.colors import parse_color, to_hex
from pipeline.io.images import load_image
from pipeline.recipe import ColorRange, LuminanceRange, Remove, Subject
from ui import cells, controls, examples, many, notebook, replay
from ui.display import mask_to_image
from ui.handlers_files import FileSources
from ui.handlers_guidance import GuidanceControls
from ui.inputs import is_shown_copy, median_colour, painted_mask
from ui.layout import Page
from ui.layout_edit import NO_MODEL
from ui.services import Services
from ui.shown_errors import V, shows_errors
from ui.state import Cell, Session
from ui.views import click_region, history_items, mask_views, refine_view, sketch_value

log = logging.getLogger(__name__)


class Handlers(FileSources, GuidanceControls):
    """Handlers bound to one app's ``Services`` and page (no user data is kept here)."""

    def __init__(self, services: Services, page: Page) -> None:
        self.services = services
        self.p = page
        self.release: Callable[[str], None] = lambda session_hash: None  # set by ``ui.page.build_demo``

    # ---------------------------------------------------------------- packing

    def session(self, v: V) -> Session:
        return v.get(self.p.session) or Session()

    def named(self, v: V, controls_by_name: dict[str, Any]) -> dict[str, Any]:
        return {name: v[component] for name, component in controls_by_name.items()}

    def mask_out(self, s: Session) -> V:
        click, candidates, preview, info, matte = mask_views(s)
        p = self.p
        return {
            p.session: s,
            p.click_image: click,
            p.candidates: candidates,
            p.refine_preview: preview,
            p.mask_info: info,
            p.matte_view: matte,
        }

    def photo_out(self, s: Session, *, in_box: bool = False) -> V:
        """A new photo: every mask view, the colour picker's photo, the sketch and the photo info."""
        assert s.photo is not None
        width, height = s.photo.size
        shown = f", shown at {s.photo.scale:.0%}" if s.photo.scale < 1 else ""
        out = {
            **self.mask_out(s),
            self.p.color_image: s.photo.display,
            self.p.sketch: sketch_value(s, with_mask=False),
            self.p.photo_info: f"**{s.photo.name}**: {width}×{height} px{shown}",
        }
        if in_box:  # loaded without the upload box (example, result, history): show it there too
            out[self.p.photo] = s.photo.display
        return out

    def controls_out(self, values: dict[str, Any]) -> V:
        """Set controls by name (refine or edit); unknown names are ignored."""
        by_name = {**self.p.refine, **self.p.edit}
        return {by_name[name]: value for name, value in values.items() if name in by_name}

    def result_out(self, s: Session) -> V:
        cell = s.cell(s.shown_cell) if s.shown_cell is not None else None
        if cell is None:
            return {self.p.session: s}
        engine = "no engine needed" if cell.engine == "none" else f"engine: {cell.engine} ({self.engine_reason(cell)})"
        return {
            self.p.session: s,
            self.p.comparison: cell.preview,
            self.p.downloads: list(cell.downloads),
            self.p.history: history_items(s),
            self.p.result_info: f"**{cell.caption}** on {cell.photo_name}; {engine}.",
        }

    def engine_reason(self, cell: Cell) -> str:
        """Why this cell's engine ran: the app's auto choice, or the engine asked for."""
        edit, _ = cells.cell_edit(cell)
        if edit.engine != "auto":
            return "asked for"
        remover = self.services.remover
        return remover.reason if isinstance(edit, Remove) and remover is not None else self.services.inpainter.reason

    # ---------------------------------------------------------------- step 1: image

    @shows_errors
    def on_photo_input(self, v: V) -> V:
        path, s = v[self.p.photo], self.session(v)
        if path is None:
            raise gr.Error("no photo: upload or paste a PNG, JPEG or WebP photo", print_exception=False)
        loaded = load_image(
            path, max_pixels=self.services.settings.max_pixels, max_side=self.services.settings.max_side
        )
        if is_shown_copy(loaded.rgb, s):
            return {}  # the box re-sent the copy it shows: nothing new
        if loaded.note:
            gr.Warning(loaded.note)
        name = loaded.path.name if loaded.path is not None else "photo"
        return self.photo_out(notebook.load(self.services, loaded.rgb, name, s, alpha=loaded.alpha))

    @shows_errors
    def on_recipe_file_upload(self, v: V) -> V:
        path = v[self.p.recipe_file]
        if not path:
            return {}
        s, refine, edit, output = replay.load_recipe(self.services, self.session(v), Path(path))
        values = controls.refine_values(refine)
        if edit is not None and controls.needs_generation(edit) and not self.services.generates:
            gr.Warning(f"The recipe's {type(edit).kind} paints from a prompt; {NO_MODEL}. Its mask and refine are set.")  # type: ignore[attr-defined]
        elif edit is not None:
            values.update(controls.edit_values(edit, output))
            gr.Info("Recipe loaded: its mask steps ran on this photo and the controls are set; press Run to edit.")
        return {**self.photo_out(s), **self.controls_out(values)}

    @shows_errors
    def on_gallery_select(self, v: V, evt: gr.SelectData) -> V:
        s, refine, suggestion = examples.load(self.services, self.session(v), int(evt.index))
        values = {**controls.refine_values(refine), **suggestion}
        return {**self.photo_out(s, in_box=True), **self.controls_out(values)}

    # ---------------------------------------------------------------- step 2: mask sources

    @shows_errors
    def on_click_image_select(self, v: V, evt: gr.SelectData) -> V:
        s = self.session(v)
        notebook.need_photo(s)
        x, y = click_region(s).to_image(evt.index)
        return self.mask_out(notebook.click(self.services, s, x, y, v[self.p.click_kind], v[self.p.combine]))

    @shows_errors
    def on_zoom_change(self, v: V) -> V:
        s = self.session(v)
        return self.mask_out(replace(s, zoom=float(v[self.p.zoom] or 1.0)) if s.photo else s)

    @shows_errors
    def on_undo_click(self, v: V) -> V:
        return self.mask_out(notebook.undo_click(self.services, self.session(v)))

    @shows_errors
    def on_clear_click(self, v: V) -> V:
        return self.mask_out(notebook.clear_clicks(self.session(v)))

    @shows_errors
    def on_candidates_select(self, v: V, evt: gr.SelectData) -> V:
        return self.mask_out(notebook.choose_candidate(self.services, self.session(v), int(evt.index)))

    @shows_errors
    def on_push_click(self, v: V) -> V:
        s = self.session(v)
        notebook.need_photo(s)
        return {self.p.sketch: sketch_value(s, with_mask=True)}

    @shows_errors
    def on_sketch_apply(self, v: V) -> V:
        s = self.session(v)
        photo = notebook.need_photo(s)
        painted = painted_mask(v[self.p.sketch])
        mask = (mask_to_image(painted, photo.size) >= 0.5).astype(np.float32)
        return self.mask_out(notebook.store_mask(s, mask, "sketch", v[self.p.combine]))

    @shows_errors
    def on_select_subject_click(self, v: V) -> V:
        step = Subject(combine=v[self.p.combine])
        return self.mask_out(notebook.find_subject(self.services, self.session(v), step))

    @shows_errors
    def on_color_image_select(self, v: V, evt: gr.SelectData) -> V:
        s = self.session(v)
        photo = notebook.need_photo(s)
        x, y = (round(c / photo.scale) for c in evt.index)
        color = median_colour(photo.image, x, y)
        step = ColorRange(color=color, tolerance=float(v[self.p.tolerance]), combine=v[self.p.combine])
        return {**self.mask_out(notebook.add_source(s, step)), self.p.picked: to_hex(color)}

    @shows_errors
    def on_tolerance_release(self, v: V) -> V:
        color = parse_color(v[self.p.picked])
        step = ColorRange(color=color, tolerance=float(v[self.p.tolerance]), combine=v[self.p.combine])
        return self.mask_out(notebook.add_source(self.session(v), step))

    @shows_errors
    def on_luminance_release(self, v: V) -> V:
        low, high = sorted((float(v[self.p.lum_low]), float(v[self.p.lum_high])))
        step = LuminanceRange(low=low, high=high, combine=v[self.p.combine])
        return self.mask_out(notebook.add_source(self.session(v), step))

    # ---------------------------------------------------------------- step 3: refine

    @shows_errors
    def on_refine_input(self, v: V) -> V:
        s = self.session(v).with_refine(controls.refine_from(self.named(v, self.p.refine)))
        preview, info, matte = refine_view(s)
        return {self.p.session: s, self.p.refine_preview: preview, self.p.mask_info: info, self.p.matte_view: matte}

    # ---------------------------------------------------------------- steps 4 and 5: edit, result

    def on_operation_change(self, v: V) -> V:
        operation = controls.OPERATIONS.get(v[self.p.edit["operation"]], "background")
        p = self.p
        return {
            p.inpaint_group: gr.update(visible=operation == "inpaint"),
            p.background_group: gr.update(visible=operation == "background"),
            p.extend_group: gr.update(visible=operation == "outpaint"),
        }

    def on_bg_kind_change(self, v: V) -> V:
        kind, e = v[self.p.edit["bg_kind"]], self.p.edit
        visible = {
            "bg_color": kind in ("Colour", "Gradient"),
            "bg_color2": kind == "Gradient",
            "bg_blur": kind == "Blur",
        }
        visible.update(bg_image=kind == "Image", bg_prompt=kind == controls.PROMPT_BACKGROUND)
        return {e[name]: gr.update(visible=shown) for name, shown in visible.items()}

    def on_shadow_change(self, v: V) -> V:
        shown = bool(v[self.p.edit["shadow"]])
        return {self.p.edit[name]: gr.update(visible=shown) for name in controls.shadow_values()}

    @shows_errors
    def on_run_click(self, v: V, request: gr.Request, progress=gr.Progress()) -> V:  # noqa: B008
        named = self.named(v, self.p.edit)
        edit, output = controls.edit_from(named), controls.output_from(named)
        cancel = self.services.new_run(request.session_hash or "")

        def report(step: int, total: int) -> None:
            progress((step, total), desc=f"{type(edit).kind}: step {step} of {total}")  # type: ignore[attr-defined]

        s = cells.run_edit(
            self.services, self.session(v), edit, output, progress=report, cancel=cancel, warn=gr.Warning
        )
        return self.result_out(s)

    def on_cancel_click(self, request: gr.Request) -> None:
        self.services.cancel(request.session_hash or "")
        gr.Info("Cancelling: the edit stops at its next step.")

    @shows_errors
    def on_use_click(self, v: V) -> V:
        return self.photo_out(cells.use_result(self.services, self.session(v)), in_box=True)

    @shows_errors
    def on_history_select(self, v: V, evt: gr.SelectData) -> V:
        s, cell = cells.restore(self.services, self.session(v), int(evt.index))
        edit, output = cells.cell_edit(cell)
        values = {**controls.refine_values(s.refine), **controls.edit_values(edit, output)}
        return {**self.photo_out(s, in_box=True), **self.controls_out(values), **self.result_out(s)}

    @shows_errors
    def on_many_run_click(self, v: V, request: gr.Request, progress=gr.Progress()) -> V:  # noqa: B008
        cancel = self.services.new_run(request.session_hash or "")

        def report(done: int, total: int, name: str) -> None:
            desc = f"{name}: photo {done + 1} of {total}" if done < total else "zipping the results"
            progress((done, total), desc=desc)

        batch = many.run_many(self.services, self.session(v), v[self.p.many_files] or [], report=report, cancel=cancel)
        return {self.p.many_out: str(batch.archive), self.p.many_info: batch.markdown()}

    def on_session_close(self, request: gr.Request) -> None:
        """The tab closed: drop its cancel flag and free its session (state, folder) at once."""
        session_hash = request.session_hash or ""
        self.services.forget(session_hash)
        self.release(session_hash)
