"""The Stencil page: five steps down the page, like notebook cells, wired to ``ui.handlers``.

``build_demo(settings)`` returns a ready ``gr.Blocks`` (queue configured); ``.launch()`` works as
is from a script or a notebook and applies the theme, CSS and upload cap by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from pipeline.settings import Settings
from ui import api, layout
from ui.examples import gallery_items
from ui.handlers import Handlers
from ui.services import Services, make_services
from ui.state import Session
from ui.theme import CSS, make_theme

GPU = "gpu"  # concurrency_id shared by every event that runs a model
MAX_FILE_SIZE = "60mb"


class StencilBlocks(gr.Blocks):
    """``gr.Blocks`` whose ``launch()`` defaults to Stencil's theme, CSS and upload size cap."""

    def launch(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401 - same contract as Blocks.launch
        kwargs.setdefault("theme", make_theme())
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("max_file_size", MAX_FILE_SIZE)
        return super().launch(*args, **kwargs)


@dataclass(frozen=True)
class Wiring:
    """What every wiring function needs: the handlers, the session state and the page's parts."""

    handlers: Handlers
    session: gr.State
    page: layout.Page


def build_demo(
    settings: Settings | None = None, *, services: Services | None = None, queue_size: int = 16
) -> StencilBlocks:
    """The Stencil editor for ``settings`` (backends from ``pipeline.models``), queue configured."""
    services = services or make_services(settings or Settings(), queue_size=queue_size)
    handlers = Handlers(services)
    with StencilBlocks(title="Stencil: mask-first image editor") as demo:
        session = gr.State(Session())
        page = layout.build_page(services.status, gallery_items())
        wiring = Wiring(handlers, session, page)
        _wire_image(wiring)
        _wire_mask(wiring)
        _wire_refine(wiring)
        _wire_edit(wiring)
        api.register(handlers, session)
        demo.unload(handlers.on_session_close)
    demo.queue(default_concurrency_limit=4, max_size=services.queue_size, api_open=False)
    return demo


def _mask_outputs(w: Wiring) -> list[Any]:
    p = w.page
    return [w.session, p.click_image, p.candidates, p.refine_preview, p.mask_info]


def _photo_outputs(w: Wiring) -> list[Any]:
    p = w.page
    return [*_mask_outputs(w), p.color_image, p.sketch, p.photo_info]


def _loaded_outputs(w: Wiring) -> list[Any]:
    """A photo loaded without the upload box also shows in it (``ui.handlers.loaded_outputs``)."""
    return [*_photo_outputs(w), w.page.photo]


def _result_outputs(w: Wiring) -> list[Any]:
    p = w.page
    return [w.session, p.comparison, p.downloads, p.history]


def _wire_image(w: Wiring) -> None:
    p, h = w.page, w.handlers
    p.photo.input(h.on_photo_input, [p.photo, w.session], _photo_outputs(w), api_visibility="private")
    p.gallery.select(
        h.on_gallery_select,
        [w.session],
        [*_loaded_outputs(w), p.operation, p.bg_color, p.aspect],
        api_visibility="private",
    )


def _wire_mask(w: Wiring) -> None:
    p, h = w.page, w.handlers
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "minimal"}
    p.click_image.select(
        h.on_click_image_select,
        [w.session, p.click_kind, p.combine],
        _mask_outputs(w),
        concurrency_id=GPU,
        concurrency_limit=1,
        trigger_mode="always_last",
        **quiet,
    )
    p.undo.click(h.on_undo_click, [w.session, p.combine], _mask_outputs(w), concurrency_id=GPU, **quiet)
    p.clear.click(h.on_clear_click, [w.session], _mask_outputs(w), **quiet)
    p.candidates.select(h.on_candidates_select, [w.session, p.combine], _mask_outputs(w), **quiet)
    p.push.click(h.on_push_click, [w.session], [p.sketch], **quiet)
    p.apply_sketch.click(h.on_sketch_apply, [w.session, p.sketch, p.combine], _mask_outputs(w), **quiet)
    p.color_image.select(
        h.on_color_image_select,
        [w.session, p.tolerance, p.combine],
        [w.session, p.picked, *_mask_outputs(w)[1:]],
        **quiet,
    )
    p.tolerance.release(
        h.on_tolerance_release, [w.session, p.picked, p.tolerance, p.combine], _mask_outputs(w), **quiet
    )
    for slider in (p.lum_low, p.lum_high):
        slider.release(h.on_luminance_release, [w.session, p.lum_low, p.lum_high, p.combine], _mask_outputs(w), **quiet)
    p.import_mask.click(h.on_import_mask_click, [w.session, p.mask_file, p.combine], _mask_outputs(w), **quiet)
    p.import_alpha.click(h.on_import_alpha_click, [w.session, p.alpha_file, p.combine], _mask_outputs(w), **quiet)
    p.import_labels.click(
        h.on_import_labels_click, [w.session, p.labels_file, p.classes, p.combine], _mask_outputs(w), **quiet
    )


def _wire_refine(w: Wiring) -> None:
    p, h = w.page, w.handlers
    inputs = [w.session, p.grow, p.feather, p.invert, p.fill_holes, p.speck]
    outputs = [w.session, p.refine_preview, p.mask_info]
    for control in (p.grow, p.feather, p.speck):
        control.input(
            h.on_refine_input,
            inputs,
            outputs,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
            concurrency_limit=8,
        )
    for box in (p.invert, p.fill_holes):
        box.input(h.on_refine_input, inputs, outputs, api_visibility="private", show_progress="hidden")


def _wire_edit(w: Wiring) -> None:
    p, h = w.page, w.handlers
    run = p.run.click(
        h.on_run_click,
        [w.session, *p.edit_inputs],
        _result_outputs(w),
        concurrency_id=GPU,
        concurrency_limit=1,
        api_visibility="private",
        show_progress="full",
    )
    p.cancel.click(h.on_cancel_click, None, None, cancels=[run], queue=False, api_visibility="private")
    p.use.click(h.on_use_click, [w.session], _loaded_outputs(w), api_visibility="private")
    p.history.select(
        h.on_history_select, [w.session], [*_loaded_outputs(w), *_result_outputs(w)[1:]], api_visibility="private"
    )
