"""The Mask step's "Find by name" tab: a phrase, SAM 3's instances, and which of them to keep."""

from __future__ import annotations

from typing import Any

import gradio as gr


def find_tab(note: str, *, available: bool) -> dict[str, Any]:
    """Components of the tab; without SAM 3 the box and button are off and ``note`` says why."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            find_text = gr.Textbox(
                label="Find by name", placeholder="bottle, red cup, all the cups", max_length=200,
                interactive=available, elem_id="find-text",
            )  # fmt: skip
            threshold = gr.Slider(
                0.0, 0.95, value=0.5, step=0.05, label="Lowest score that counts as a match",
                interactive=available, elem_id="find-threshold",
            )  # fmt: skip
            find = gr.Button("Find", variant="primary", interactive=available, elem_id="find")
            gr.Markdown(note, elem_id="find-note")
        with gr.Column(scale=1, min_width=240):
            instances = gr.CheckboxGroup(
                choices=[], label="Instances found (tick the ones to keep; their union is the mask)",
                elem_id="instances",
            )  # fmt: skip
    return {"find_text": find_text, "find_threshold": threshold, "find": find, "instances": instances}
