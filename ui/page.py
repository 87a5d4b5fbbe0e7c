"""The Stencil page: five steps down the page, like notebook cells, wired to ``ui.handlers``.

``build_demo(settings)`` returns a ready ``gr.Blocks`` (queue configured); ``.launch()`` works as
is from a script or a notebook and applies the theme, CSS and upload cap by default.

Each browser tab (and each API client) has its own ``Session`` in a ``gr.State`` that lives
``Settings.session_ttl_s`` after its last change, and is freed at once when the page closes;
its temporary folder goes with it (``ui.state.forget``).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from pipeline.settings import Settings
from ui import api_routes, layout
from ui.click_backend import ClickBackendHandlers, click_choices
from ui.clip_handlers import ClipHandlers
from ui.examples import gallery_items
from ui.find import FindHandlers, find_note
from ui.handlers import Handlers
from ui.launch import QUEUE_SIZE, say_busy
from ui.layout import Page
from ui.services import Services, make_services
from ui.slot import GPU
from ui.theme import CSS, make_theme

MAX_FILE_SIZE = "60mb"
CACHE_SWEEP_S = 300
QUIET: dict[str, Any] = {"api_visibility": "private", "show_progress": "minimal"}


class StencilBlocks(gr.Blocks):
    """``gr.Blocks`` whose ``launch()`` defaults to Stencil's theme, CSS and upload size cap."""

    def launch(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401 - same contract as Blocks.launch
        kwargs.setdefault("theme", make_theme())
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("max_file_size", MAX_FILE_SIZE)
        return super().launch(*args, **kwargs)


def build_demo(
    settings: Settings | None = None, *, services: Services | None = None, queue_size: int = QUEUE_SIZE
) -> StencilBlocks:
    """The Stencil editor for ``settings`` (backends from ``pipeline.models``), queue configured."""
    services = services or make_services(settings or Settings(), queue_size=queue_size)
    ttl = services.settings.session_ttl_s
    with StencilBlocks(
        title="Stencil: mask-first image editor", delete_cache=(CACHE_SWEEP_S, max(ttl, CACHE_SWEEP_S))
    ) as demo:
        page = layout.build_page(
            services.status,
            gallery_items(),
            generates=services.generates,
            margin_px=services.settings.context_px,
            session_ttl_s=ttl,
            guides=services.control_kinds,
            subject_note=subject_note(services),
            find_note=find_note(services),
            click_note=click_choices(services),
        )
        handlers = Handlers(services, page)
        handlers.find = FindHandlers(handlers)  # type: ignore[attr-defined]  # the Find by name tab's events
        handlers.click_backend = ClickBackendHandlers(handlers)  # type: ignore[attr-defined]  # "Click with"
        wire(page, handlers)
        api_routes.register(handlers, page.session)
        handlers.release = lambda session_hash: release_session(demo, session_hash)
        demo.unload(handlers.on_session_close)
    demo.queue(default_concurrency_limit=4, max_size=services.queue_size, api_open=False)
    say_busy(demo)
    demo.stencil_handlers = handlers  # type: ignore[attr-defined]  # for tests that drive the handlers
    return demo


def subject_note(services: Services) -> str:
    """What "Select subject" runs, and for the classical extractor, what it cannot do."""
    from pipeline.select.subject.classic import LIMITS, ClassicSubject

    chosen = services.subject_finder.backend
    if isinstance(chosen, ClassicSubject):
        return f"Finds the product with no clicks. {LIMITS}"
    return f"Finds the product with no clicks ({chosen.name} model)."


def release_session(demo: gr.Blocks, session_hash: str) -> None:
    """Free a closed tab's state now: Gradio would keep a closed session's state for an hour.

    Runs its ``gr.State`` delete callbacks (``ui.state.forget`` removes the session folder) and
    drops Gradio's per-session copy of the page. Uses Gradio's ``state_holder`` (6.x).
    """
    holder = getattr(demo, "state_holder", None)
    if holder is None or session_hash not in holder:
        return
    holder.delete_state(session_hash)
    with holder.lock:
        holder.session_data.pop(session_hash, None)
        holder.time_last_used.pop(session_hash, None)


def mask_outputs(p: Page) -> list[Any]:
    return [p.session, p.click_image, p.candidates, p.refine_preview, p.mask_info, p.matte_view]


def photo_outputs(p: Page) -> list[Any]:
    return [*mask_outputs(p), p.color_image, p.sketch, p.photo_info, p.photo]


def result_outputs(p: Page) -> list[Any]:
    return [p.session, p.comparison, p.downloads, p.history, p.result_info]


def control_outputs(p: Page) -> list[Any]:
    return [*p.refine.values(), *p.edit.values()]


def wire(p: Page, h: Handlers) -> None:
    """Connect every event of the page to its handler."""
    _wire_image(p, h)
    _wire_mask(p, h)
    _wire_refine(p, h)
    _wire_edit(p, h)
    _wire_clip(p, ClipHandlers(h))


def _wire_image(p: Page, h: Handlers) -> None:
    p.photo.input(h.on_photo_input, {p.photo, p.session}, photo_outputs(p), api_visibility="private")
    p.gallery.select(
        h.on_gallery_select, {p.session}, [*photo_outputs(p), *control_outputs(p)], api_visibility="private"
    )
    p.recipe_file.upload(
        h.on_recipe_file_upload,
        {p.recipe_file, p.session},
        [*photo_outputs(p), *control_outputs(p)],
        concurrency_id=GPU,
        concurrency_limit=1,
        api_visibility="private",
    )


def _wire_mask(p: Page, h: Handlers) -> None:
    on_gpu: dict[str, Any] = {"concurrency_id": GPU, "concurrency_limit": 1, **QUIET}
    clicks = {p.session, p.click_kind, p.combine}
    p.click_image.select(h.on_click_image_select, clicks, mask_outputs(p), trigger_mode="always_last", **on_gpu)
    p.zoom.change(h.on_zoom_change, {p.session, p.zoom}, mask_outputs(p), **QUIET)
    backend: ClickBackendHandlers = h.click_backend  # type: ignore[attr-defined]
    choose = backend.on_click_backend_change
    p.click_backend.input(choose, {p.session, p.click_backend}, [*mask_outputs(p), p.click_backend], **on_gpu)
    p.undo.click(h.on_undo_click, {p.session}, mask_outputs(p), **on_gpu)
    p.clear.click(h.on_clear_click, {p.session}, mask_outputs(p), **QUIET)
    p.candidates.select(h.on_candidates_select, {p.session}, mask_outputs(p), **on_gpu)
    p.select_subject.click(h.on_select_subject_click, {p.session, p.combine}, mask_outputs(p), **on_gpu)
    found: FindHandlers = h.find  # type: ignore[attr-defined]
    for event in (p.find.click, p.find_text.submit):
        inputs = {p.session, p.find_text, p.find_threshold, p.combine}
        event(found.on_find_click, inputs, [*mask_outputs(p), p.instances], **on_gpu)
    p.instances.input(found.on_instances_input, {p.session, p.instances}, mask_outputs(p), **on_gpu)
    p.push.click(h.on_push_click, {p.session}, [p.sketch], **QUIET)
    p.apply_sketch.click(h.on_sketch_apply, {p.session, p.sketch, p.combine}, mask_outputs(p), **QUIET)
    colour = {p.session, p.tolerance, p.combine, p.picked}
    p.color_image.select(h.on_color_image_select, colour, [*mask_outputs(p), p.picked], **QUIET)
    p.tolerance.release(h.on_tolerance_release, colour, mask_outputs(p), **QUIET)
    luminance = {p.session, p.lum_low, p.lum_high, p.combine}
    for slider in (p.lum_low, p.lum_high):
        slider.release(h.on_luminance_release, luminance, mask_outputs(p), **QUIET)
    imports = {p.session, p.combine, p.mask_file, p.gray_threshold, p.alpha_file, p.labels_file, p.classes}
    p.import_mask.click(h.on_import_mask_click, imports, mask_outputs(p), **QUIET)
    p.import_alpha.click(h.on_import_alpha_click, imports, mask_outputs(p), **QUIET)
    p.own_alpha.click(h.on_own_alpha_click, imports, mask_outputs(p), **QUIET)
    p.import_labels.click(h.on_import_labels_click, imports, mask_outputs(p), **QUIET)


def _wire_refine(p: Page, h: Handlers) -> None:
    inputs = {p.session, *p.refine.values()}
    outputs = [p.session, p.refine_preview, p.mask_info, p.matte_view]
    live = {"api_visibility": "private", "show_progress": "hidden", "trigger_mode": "always_last"}
    for name in ("grow", "feather", "speck", "matte"):
        p.refine[name].input(h.on_refine_input, inputs, outputs, concurrency_limit=8, **live)
    for name in ("invert", "fill_holes"):
        p.refine[name].input(h.on_refine_input, inputs, outputs, api_visibility="private", show_progress="hidden")


def _wire_edit(p: Page, h: Handlers) -> None:
    e = p.edit
    instant: dict[str, Any] = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
    p.edit["operation"].change(
        h.on_operation_change, {p.edit["operation"]}, [p.inpaint_group, p.background_group, p.extend_group], **instant
    )
    e["bg_kind"].change(
        h.on_bg_kind_change,
        {e["bg_kind"]},
        [e[n] for n in ("bg_color", "bg_color2", "bg_blur", "bg_image", "bg_prompt")],
        **instant,
    )
    picked = [e["control"], e["control_picture"]]
    p.control_labels.click(h.on_control_labels_click, {p.session, e["seg_unknown"]}, picked, api_visibility="private")
    p.control_blank.click(h.on_control_blank_click, {p.session}, picked, api_visibility="private")
    p.control_show.click(
        h.on_control_show_click, {p.session, *e.values()}, [p.control_preview], api_visibility="private"
    )
    shadow = [e[n] for n in ("shadow_kind", "shadow_angle", "shadow_distance", "shadow_softness", "shadow_opacity")]
    e["shadow"].change(h.on_shadow_change, {e["shadow"]}, shadow, **instant)
    stoppable = h.services.cancellable
    run = p.run.click(
        stoppable(h.on_run_click),
        {p.session, *e.values()},
        result_outputs(p),
        concurrency_id=GPU,
        concurrency_limit=1,
        api_visibility="private",
        show_progress="full",
    )
    p.use.click(h.on_use_click, {p.session}, photo_outputs(p), api_visibility="private")
    p.history.select(
        h.on_history_select,
        {p.session},
        [*photo_outputs(p), *control_outputs(p), *result_outputs(p)[1:]],
        api_visibility="private",
    )
    many = p.many_run.click(
        stoppable(h.on_many_run_click),
        {p.session, p.many_files},
        [p.many_out, p.many_info],
        concurrency_id=GPU,
        concurrency_limit=1,
        api_visibility="private",
        show_progress="full",
    )
    p.cancel.click(h.on_cancel_click, None, None, cancels=[run, many], queue=False, api_visibility="private")


def _wire_clip(p: Page, c: ClipHandlers) -> None:
    """Step 1's clip panel: open, scrub, keyframes, Propagate and Export (both cancellable)."""
    private: dict[str, Any] = {"api_visibility": "private"}
    stoppable = c.h.services.cancellable
    shown = [p.clip, p.clip_frame, p.clip_info]
    opened = p.clip_open.click(
        stoppable(c.on_clip_open_click), {p.clip, p.clip_files}, [*shown, p.clip_slider], show_progress="full",
        **private,
    )  # fmt: skip
    p.clip_slider.release(c.on_clip_slider_release, {p.clip, p.clip_slider}, shown, show_progress="hidden", **private)
    p.clip_edit.click(c.on_clip_edit_click, {p.clip, p.clip_slider, p.session}, photo_outputs(p), **private)
    p.clip_key.click(c.on_clip_key_click, {p.clip, p.clip_slider, p.session}, shown, **private)
    tracked = p.clip_track.click(
        stoppable(c.on_clip_track_click), {p.clip, p.clip_slider}, shown, concurrency_id=GPU, concurrency_limit=1,
        show_progress="full", **private,
    )  # fmt: skip
    exported = p.clip_export.click(
        stoppable(c.on_clip_export_click), {p.clip, p.session, *p.edit.values()}, [p.clip_out],
        concurrency_id=GPU, concurrency_limit=1, show_progress="full", **private,
    )  # fmt: skip
    p.clip_cancel.click(c.on_clip_cancel_click, None, None, cancels=[opened, tracked, exported], queue=False, **private)
