"""Handlers of step 1's clip panel: unpack, call ``ui.clips``, pack (dicts in, dicts out)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from pipeline.recipe import Recipe
from ui import clips, controls
from ui.handlers import Handlers, shows_errors

V = dict[Any, Any]


class ClipHandlers:
    """The clip panel's handlers; they share the notebook's ``Handlers`` (services, page, packing)."""

    def __init__(self, notebook: Handlers) -> None:
        self.h = notebook
        self.p = notebook.p

    def clip(self, v: V) -> clips.Clip:
        clip = v.get(self.p.clip)
        if clip is None:
            raise gr.Error("no clip yet: upload a clip or photos and press Open", print_exception=False)
        return clip

    def frame(self, v: V) -> int:
        return int(v[self.p.clip_slider]) - 1

    def shown(self, clip: clips.Clip, index: int) -> V:
        return {
            self.p.clip: clip,
            self.p.clip_frame: clips.frame_view(clip, index),
            self.p.clip_info: clips.describe(clip, index),
        }

    @shows_errors
    def on_clip_open_click(self, v: V, request: gr.Request, progress=gr.Progress()) -> V:  # noqa: B008
        files = [getattr(f, "name", f) for f in (v[self.p.clip_files] or [])]
        cancel = self.h.services.new_run(request.session_hash or "")
        clips.forget(v.get(self.p.clip))
        clip = clips.open_clip(files, progress=lambda d, t: progress((d, t), desc=f"reading frame {d}"), cancel=cancel)
        slider = gr.update(minimum=1, maximum=max(clip.count, 2), value=1, interactive=clip.count > 1)
        return {**self.shown(clip, 0), self.p.clip_slider: slider}

    @shows_errors
    def on_clip_slider_release(self, v: V) -> V:
        return self.shown(self.clip(v), self.frame(v))

    @shows_errors
    def on_clip_edit_click(self, v: V) -> V:
        from ui import notebook

        clip, index = self.clip(v), self.frame(v)
        photo = clips.frame_photo(clip, index)
        s = notebook.load(self.h.services, photo, f"{clip.name} frame {index + 1}", self.h.session(v))
        gr.Info(f"Frame {index + 1} is in step 1: make its mask in step 2, then press 'Make ... keyframe'.")
        return self.h.photo_out(s, in_box=True)

    @shows_errors
    def on_clip_key_click(self, v: V) -> V:
        clip, index = self.clip(v), self.frame(v)
        s = self.h.session(v)
        if s.photo is None or s.mask is None:
            raise gr.Error("step 2 has no mask yet: press 'Mask this frame' and make one", print_exception=False)
        clips.set_keyframe(clip, index, s.current_mask())
        return self.shown(clip, index)

    @shows_errors
    def on_clip_track_click(self, v: V, request: gr.Request, progress=gr.Progress()) -> V:  # noqa: B008
        clip, index = self.clip(v), self.frame(v)
        cancel = self.h.services.new_run(request.session_hash or "")

        def report(done: int, total: int) -> None:
            progress((done, total), desc=f"propagating: frame {done} of {total}")

        done = clips.track(self.h.services, clip, index, progress=report, cancel=cancel)
        if done.flagged:
            gr.Warning(f"Low confidence on {len(done.flagged)} frames: check them with the slider.")
        return self.shown(clip, index)

    @shows_errors
    def on_clip_export_click(self, v: V, request: gr.Request, progress=gr.Progress()) -> V:  # noqa: B008
        clip = self.clip(v)
        named = self.h.named(v, self.p.edit)
        s = self.h.session(v)
        recipe = Recipe((s.refine, controls.edit_from(named), controls.output_from(named)))
        cancel = self.h.services.new_run(request.session_hash or "")

        def report(done: int, total: int) -> None:
            progress((done, total), desc=f"editing and encoding: frame {done} of {total}")

        paths = clips.export(self.h.services, clip, recipe, progress=report, cancel=cancel)
        return {self.p.clip_out: [str(p) for p in paths]}

    def on_clip_cancel_click(self, request: gr.Request) -> None:
        self.h.services.cancel(request.session_hash or "")
        gr.Info("Cancelling: the frames done so far are kept.")
