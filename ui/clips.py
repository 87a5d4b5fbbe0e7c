"""The page's clips and spin sets: open one, show any frame with its mask, take the notebook's mask
as a keyframe, propagate, and run the Edit step on every frame. Nothing here knows about Gradio.

A ``Clip`` lives in its own ``gr.State`` beside the notebook's session: the sequence's work-size
frames and its masks (one PNG a frame) sit in a ``clip-*`` folder of the app's temporary folder,
removed with the state. A frame is masked in the notebook itself (``frame_photo`` loads it into
step 1, so every mask source of step 2 works on it); its mask then becomes the frame's keyframe.
Nothing holds the clip in memory: frames are read back one at a time, and exports stream to disk.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import CancelFlag
from pipeline.io.video import VIDEO_SUFFIXES, ClipLimits
from pipeline.masks.compose import overlay
from pipeline.models import make_tracker
from pipeline.recipe import Recipe
from pipeline.recipe.sequence import Exports, apply_to_sequence
from pipeline.track.propagate import FLAG_BELOW, Propagation, propagate
from pipeline.track.sequence import FrameSequence, Source, open_sequence
from pipeline.track.store import MaskStore
from pipeline.types import Image, Mask
from ui.notebook import temp_root
from ui.services import Services

LIMITS = ClipLimits()
LIMITS_NOTE = (
    f"A clip (mp4, webm, mov) of at most {LIMITS.max_frames} frames at up to 1920×1080, or up to "
    f"{LIMITS.max_frames} photos of one size (a spin set, in name order)."
)
Progress = Callable[[int, int], None]


@dataclass(eq=False)
class Clip:
    """An open sequence, its masks and its folder (the state of the page's clip panel)."""

    name: str
    sequence: FrameSequence
    store: MaskStore
    folder: Path

    @property
    def count(self) -> int:
        return self.sequence.count


def forget(clip: Clip | None) -> None:
    """``gr.State``'s delete callback: remove the clip's folder."""
    if clip is not None:
        shutil.rmtree(clip.folder, ignore_errors=True)


def open_clip(paths: Sequence[str], *, progress: Progress | None = None, cancel: CancelFlag | None = None) -> Clip:
    """One clip file, or several photos, opened into a fresh folder (removed again on any error)."""
    files = [Path(p) for p in paths]
    if not files:
        raise InvalidInput(f"no clip or photos were given. {LIMITS_NOTE}")
    clips = [f for f in files if f.suffix.lower() in VIDEO_SUFFIXES]
    if clips and len(files) > 1:
        raise InvalidInput("give one clip, or several photos, not both")
    source = Source(clip=files[0]) if clips else Source(photos=tuple(sorted(files, key=lambda f: f.name)))
    folder = Path(tempfile.mkdtemp(prefix="clip-", dir=temp_root()))
    try:
        sequence = open_sequence(source, folder / "frames", limits=LIMITS, progress=progress, cancel=cancel)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    store = MaskStore(folder / "masks", sequence.size, sequence.count)
    return Clip(source.name, sequence, store, folder)


def frame_view(clip: Clip, index: int) -> Image:
    """Frame ``index`` at work size with its mask tinted (none: the plain frame)."""
    frame = clip.sequence.work_frame(index)
    if not clip.store.has(index):
        return frame
    mask = clip.store.mask(index)
    height, width = frame.shape[:2]
    small = cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA) if mask.shape != (height, width) else mask
    return overlay(frame, small.astype(np.float32))


def describe(clip: Clip, index: int) -> str:
    """One line about the clip and frame ``index``: size, keyframes, this frame's confidence."""
    width, height = clip.sequence.size
    keys = ", ".join(str(k + 1) for k in clip.store.keyframes()) or "none yet"
    state = clip.store.states.get(index)
    if state is None:
        here = "no mask"
    elif state.keyframe:
        here = "keyframe"
    else:
        here = f"tracked, confidence {state.confidence:.2f}" + (f" ({state.reason})" if state.reason else "")
    flagged = clip.store.flagged(FLAG_BELOW)
    low = f"; low confidence on frames {', '.join(str(i + 1) for i in flagged[:20])}" if flagged else ""
    return (
        f"**{clip.name}**: {clip.count} frames, {width}×{height} px. Frame {index + 1}: {here}. Keyframes: {keys}{low}."
    )


def frame_photo(clip: Clip, index: int) -> Image:
    """Frame ``index`` at full size, to load into the notebook's step 1."""
    return clip.sequence.full_frame(index)


def set_keyframe(clip: Clip, index: int, mask: Mask) -> None:
    """The notebook's current ``mask`` becomes frame ``index``'s keyframe (``SizeMismatch`` if sizes differ)."""
    clip.store.set_keyframe(index, mask)


def track(
    services: Services, clip: Clip, index: int, *, progress: Progress | None = None, cancel: CancelFlag | None = None
) -> Propagation:
    """Propagate frame ``index``'s keyframe with the app's tracker (SAM 2 when configured)."""
    tracker = make_tracker("auto", services.settings).backend
    return services.run_model(lambda: propagate(clip.sequence, clip.store, index, tracker, progress=progress,
                                                cancel=cancel))  # fmt: skip


def export(
    services: Services,
    clip: Clip,
    recipe: Recipe,
    *,
    progress: Progress | None = None,
    cancel: CancelFlag | None = None,
) -> list[Path]:
    """Run ``recipe`` (refine, edit, output) on every frame with its mask; the edited video, an alpha
    WebM, and zips of RGBA PNGs and masks, in a fresh ``export-*`` folder of the clip's folder."""
    missing = [i + 1 for i in range(clip.count) if not clip.store.has(i)]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise InvalidInput(f"frames {shown} have no mask yet: make a keyframe and press Propagate first")
    out = Path(tempfile.mkdtemp(prefix="export-", dir=clip.folder))
    stem = Path(clip.name).stem.replace(" ", "-")
    exports = Exports(
        video=out / f"{stem}-edited.mp4", alpha_video=out / f"{stem}-cutout.webm",
        rgba_zip=out / f"{stem}-cutout-png.zip", mask_zip=out / f"{stem}-masks.zip",
    )  # fmt: skip
    engines = services.engines
    frames = clip.sequence.full_frames()
    services.run_model(lambda: apply_to_sequence(recipe, frames, clip.count, exports, fps=clip.sequence.fps,
                                                 masks=clip.store.mask, engines=engines, progress=progress,
                                                 cancel=cancel))  # fmt: skip
    return exports.paths()
