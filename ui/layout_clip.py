"""Step 1's clip panel: a clip or a spin set, a frame slider with the mask shown, keyframes, Propagate
and the export of every frame edited with step 4's settings."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.clips import LIMITS_NOTE, forget


def clip_controls(session_ttl_s: float) -> dict[str, Any]:
    with gr.Accordion("Or a clip or a spin set: masks that follow the subject", open=False, elem_id="clip"):
        gr.Markdown(
            f"{LIMITS_NOTE} Pick a frame, press **Mask this frame** and make its mask in step 2 with any "
            "source; **Make it a keyframe**, then **Propagate**: the mask follows the subject forward and "
            "backward. Correct any frame the same way and propagate again: the other keyframes stay. "
            "**Export** runs step 3's refine and step 4's edit on every frame."
        )
        clip = gr.State(None, time_to_live=session_ttl_s, delete_callback=forget)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                clip_files = gr.File(
                    label="Clip or photos", file_count="multiple", file_types=["video", "image"], height=120,
                    elem_id="clip-files",
                )  # fmt: skip
                clip_open = gr.Button("Open", elem_id="clip-open")
                clip_info = gr.Markdown("", elem_id="clip-info")
            with gr.Column(scale=3):
                clip_frame = gr.Image(label="Frame (mask tinted)", interactive=False, height=300, elem_id="clip-frame")
                clip_slider = gr.Slider(1, 2, value=1, step=1, label="Frame", interactive=False, elem_id="clip-slider")
        with gr.Row():
            clip_edit = gr.Button("Mask this frame (loads it into step 1)", elem_id="clip-edit")
            clip_key = gr.Button("Make step 2's mask this frame's keyframe", elem_id="clip-key")
            clip_track = gr.Button("Propagate", variant="primary", elem_id="clip-track")
            clip_export = gr.Button("Export every frame edited", variant="primary", elem_id="clip-export")
            clip_cancel = gr.Button("Cancel", variant="stop", elem_id="clip-cancel")
        clip_out = gr.File(label="Exports", file_count="multiple", interactive=False, height=140, elem_id="clip-out")
    return {
        "clip": clip, "clip_files": clip_files, "clip_open": clip_open, "clip_info": clip_info,
        "clip_frame": clip_frame, "clip_slider": clip_slider, "clip_edit": clip_edit, "clip_key": clip_key,
        "clip_track": clip_track, "clip_export": clip_export, "clip_cancel": clip_cancel, "clip_out": clip_out,
    }  # fmt: skip
