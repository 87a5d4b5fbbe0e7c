"""The API's endpoint table: each ``Api`` method behind a hidden trigger with its hidden inputs, named
as ``gradio_client`` calls it, model-bound ones inside the one GPU slot and cancellable."""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr

from ui.api import Api
from ui.handlers import Handlers
from ui.slot import GPU


def register(handlers: Handlers, session: gr.State) -> None:
    """Add the API-only endpoints (hidden inputs and a hidden trigger per endpoint)."""
    api = Api(handlers)
    with gr.Column(visible=False):
        file_in = gr.File(label="file")
        texts = [gr.Textbox(label=f"text {i}") for i in range(5)]
        numbers = [gr.Number(label=f"number {i}") for i in range(6)]
        checks = [gr.Checkbox(label=f"flag {i}") for i in range(2)]
        files_out = [gr.File(label=name) for name in ("result", "mask", "cutout")]
        json_out = gr.JSON(label="info")
        guide = [  # optional: left out, an older client's call runs without guidance
            gr.Textbox(value="none", label="control"),
            gr.Number(value=1.0, label="control scale"),
            gr.Number(value=0.0, label="control start"),
            gr.Number(value=1.0, label="control end"),
            gr.Checkbox(value=False, label="map unknown"),
            gr.File(label="control file"),
        ]
        t, n, c = texts, numbers, checks
        edit_out = [*files_out, json_out]
        endpoints: list[tuple[str, Any, list[Any], list[Any], bool]] = [
            ("load_image", api.load_image, [file_in], [json_out], False),
            ("select", api.select, [t[0], t[1], t[2], t[3]], [files_out[1], json_out], True),
            ("choose_candidate", api.choose_candidate, [n[0], t[0]], [files_out[1], json_out], True),
            ("mask_subject", api.mask_subject, [t[0], t[1]], [files_out[1], json_out], True),
            ("mask_text", api.mask_text, [t[0], t[1], t[2], n[0]], [files_out[1], json_out], True),
            ("mask_from_color", api.mask_from_color, [t[0], n[0], t[1]], [files_out[1], json_out], False),
            ("mask_from_luminance", api.mask_from_luminance, [n[0], n[1], t[0]], [files_out[1], json_out], False),
            ("import_mask", api.import_mask, [file_in, t[0]], [files_out[1], json_out], False),
            ("refine", api.refine, [n[0], n[1], c[0], c[1], n[2]], [files_out[1], json_out], False),
            ("remove", api.remove, [t[0], n[0]], edit_out, True),
            ("inpaint", api.inpaint, [t[0], t[1], t[2], *n[:5], *guide], edit_out, True),
            ("background", api.background, [t[0], t[1], t[2], n[0], file_in, t[3], t[4], *guide], edit_out, True),
            ("outpaint", api.outpaint, [*n[:4], t[0], t[1], t[2], n[4]], edit_out, True),
            ("use_result", api.use_result, [], [json_out], False),
            ("recipe", api.recipe, [], [json_out], False),
            ("apply_recipe", api.apply_recipe, [t[0], file_in], edit_out, True),
        ]
        for name, fn, inputs, outputs, on_gpu in endpoints:
            trigger = gr.Button(visible=False)
            stoppable = on_gpu and "request" in inspect.signature(fn).parameters
            trigger.click(
                handlers.services.cancellable(fn) if stoppable else fn,
                [session, *inputs],
                [session, *outputs],
                api_name=name,
                concurrency_id=GPU if on_gpu else None,
                concurrency_limit=1 if on_gpu else "default",
            )
