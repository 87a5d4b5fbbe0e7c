"""Step 1's clip panel driven through its handlers: open, mask a frame in the notebook, keyframe,
propagate, export; bad input is one clear ``gr.Error`` and the clip and its masks are kept."""

from __future__ import annotations

import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np
import pytest
from track_clips import jaccard, scene, write_clip
from ui_fakes import FakeSegmenter

from pipeline.inpaint.classic import ClassicInpainter
from pipeline.models import Chosen
from pipeline.settings import Settings
from ui import notebook
from ui.clip_handlers import ClipHandlers
from ui.page import build_demo
from ui.services import Services

V = dict[Any, Any]


class FakeRequest:
    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def no_progress(*args: object, **kwargs: object) -> None:
    return None


@pytest.fixture(scope="module")
def c() -> ClipHandlers:
    services = Services(
        Settings(track_model=None), Chosen(FakeSegmenter(), "fake"), Chosen(ClassicInpainter(), "classic"), "cpu"
    )
    return ClipHandlers(build_demo(services=services).stencil_handlers)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(notebook, "_root", None)


def values(c: ClipHandlers, **parts: object) -> V:
    p = c.p
    v: V = {p.session: None, p.clip: None, p.clip_slider: 1}
    for comp in p.edit.values():
        v[comp] = comp.value
    for name, value in parts.items():
        v[p.edit.get(name) or p.parts.get(name) or getattr(p, name)] = value
    return v


def opened(c: ClipHandlers, tmp_path: Path, count: int = 6) -> tuple[V, list[np.ndarray]]:
    frames, truths = scene(count)
    clip = write_clip(tmp_path / "turn.mp4", frames)
    out = c.on_clip_open_click(values(c, clip_files=[str(clip)]), FakeRequest("tab"), no_progress)  # type: ignore[arg-type]
    assert "6 frames, 96×64 px" in out[c.p.clip_info]
    return {c.p.clip: out[c.p.clip]}, truths


def masked_frame(c: ClipHandlers, clip: V, index: int, mask: np.ndarray) -> V:
    """Load frame ``index`` into the notebook and import ``mask`` there, as step 2 would."""
    loaded = c.on_clip_edit_click({**values(c, clip_slider=index + 1), **clip})
    session = notebook.store_mask(loaded[c.p.session], mask, "mask", "replace")
    return {**values(c, clip_slider=index + 1), **clip, c.p.session: session}


def test_a_clip_is_masked_on_one_frame_propagated_and_exported(c: ClipHandlers, tmp_path: Path) -> None:
    clip, truths = opened(c, tmp_path)
    keyed = c.on_clip_key_click(masked_frame(c, clip, 2, truths[2]))
    assert "Frame 3: keyframe" in keyed[c.p.clip_info] and "Keyframes: 3" in keyed[c.p.clip_info]
    v = {**values(c, clip_slider=3), **clip}
    shown = c.on_clip_track_click(v, FakeRequest("tab"), no_progress)  # type: ignore[arg-type]
    state = shown[c.p.clip]
    assert all(state.store.has(i) for i in range(6))
    assert min(jaccard(state.store.mask(i), truths[i]) for i in range(6)) > 0.7
    scrub = c.on_clip_slider_release({**values(c, clip_slider=6), **clip})
    assert "Frame 6: tracked, confidence" in scrub[c.p.clip_info] and scrub[c.p.clip_frame].shape == (64, 96, 3)
    export = {**values(c, operation="Replace background", bg_kind="Colour", bg_color="#ffffff"), **clip}
    files = c.on_clip_export_click(export, FakeRequest("tab"), no_progress)[c.p.clip_out]  # type: ignore[arg-type]
    assert sorted(Path(f).suffix for f in files) == [".mp4", ".webm", ".zip", ".zip"]
    rgba = next(f for f in files if f.endswith("cutout-png.zip"))
    with zipfile.ZipFile(rgba) as archive:
        first = cv2.imdecode(np.frombuffer(archive.read("rgba-00001.png"), np.uint8), cv2.IMREAD_UNCHANGED)
    frame = next(state.sequence.full_frames())
    inside = state.store.mask(0) > 0.5
    assert np.array_equal(cv2.cvtColor(first, cv2.COLOR_BGRA2RGBA)[inside][:, :3], frame[inside])


def test_bad_input_is_a_clear_error_and_the_clip_is_kept(c: ClipHandlers, tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("not a clip")
    with pytest.raises(gr.Error, match="not a video Stencil can read"):
        c.on_clip_open_click(values(c, clip_files=[str(tmp_path / "notes.mp4")]), FakeRequest("t"), no_progress)  # type: ignore[arg-type]
    clip, truths = opened(c, tmp_path)
    with pytest.raises(gr.Error, match="frame 1 has no mask to propagate"):
        c.on_clip_track_click({**values(c), **clip}, FakeRequest("t"), no_progress)  # type: ignore[arg-type]
    with pytest.raises(gr.Error, match="step 2 has no mask yet"):
        c.on_clip_key_click({**values(c), **clip})
    other = notebook.load(c.h.services, np.zeros((40, 50, 3), np.uint8), "other.png", notebook.Session())
    other = notebook.store_mask(other, np.ones((40, 50), np.float32), "mask", "replace")
    with pytest.raises(gr.Error, match="the mask is 50x40 but the frames are 96x64"):
        c.on_clip_key_click({**values(c), **clip, c.p.session: other})
    with pytest.raises(gr.Error, match="have no mask yet"):
        c.on_clip_export_click({**values(c), **clip}, FakeRequest("t"), no_progress)  # type: ignore[arg-type]
    c.on_clip_key_click(masked_frame(c, clip, 0, truths[0]))
    stop = threading.Event()
    stop.set()
    c.h.services.new_run = lambda session_id: stop  # type: ignore[method-assign]
    try:
        with pytest.raises(gr.Error, match="cancelled"):
            c.on_clip_track_click({**values(c), **clip}, FakeRequest("t"), no_progress)  # type: ignore[arg-type]
    finally:
        del c.h.services.new_run
    assert clip[c.p.clip].store.keyframes() == [0]  # the keyframe survives the cancel
