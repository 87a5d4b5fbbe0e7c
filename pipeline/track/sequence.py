"""A sequence of frames: a clip or several photos (a spin set), bounded and never held whole.

Opening a sequence checks its limits from the header (``ClipLimits``), then streams every frame
once: each is shrunk to the work size (at most ``work_side`` px on its longest side, where the
tracker runs) and spilled to the sequence's folder as a raw ``.npy`` (a 640x360 frame is 691 KB;
300 of them 207 MB on disk, none in memory). Full-size frames are read again from the source when
an edit needs them, one at a time, so memory stays at a few frames whatever the clip's length.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import Cancelled, InvalidInput, SizeMismatch
from pipeline.inpaint.protocol import CancelFlag, ProgressFn
from pipeline.io.files import IMAGE_SUFFIXES
from pipeline.io.images import load_image
from pipeline.io.video import ClipLimits, probe_clip, read_frames
from pipeline.types import Image

WORK_SIDE = 640
SPIN_FPS = 12.0  # the frame rate a spin set's exported video plays at


@dataclass(frozen=True)
class Source:
    """Where frames come from: one clip, or photos in order (their names sorted)."""

    clip: Path | None = None
    photos: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if (self.clip is None) == (not self.photos):
            raise InvalidInput("a sequence is one clip or several photos")

    @classmethod
    def of(cls, given: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Source:
        """A clip file, a folder of photos, or a list of photo files."""
        if isinstance(given, (str, os.PathLike)):
            path = Path(given)
            if path.is_dir():
                photos = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
                if not photos:
                    raise InvalidInput(f"folder {path} holds no photos ({', '.join(sorted(IMAGE_SUFFIXES))})")
                return cls(photos=tuple(photos))
            if path.suffix.lower() in IMAGE_SUFFIXES:
                return cls(photos=(path,))
            return cls(clip=path)
        return cls(photos=tuple(Path(p) for p in given))

    @property
    def name(self) -> str:
        return self.clip.name if self.clip is not None else f"{len(self.photos)} photos"


def work_size(size: tuple[int, int], work_side: int) -> tuple[int, int]:
    """``size`` (width, height) shrunk to at most ``work_side`` on its longest side (never grown)."""
    width, height = size
    scale = min(1.0, work_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class FrameSequence:
    """The frames of a ``Source`` spilled at work size to ``folder``; full frames streamed on demand.

    ``size`` is the full frame size (width, height), ``work`` the tracker's, ``count`` the number
    of frames and ``fps`` the clip's rate (``SPIN_FPS`` for photos).
    """

    def __init__(self, source: Source, folder: Path, size: tuple[int, int], count: int, fps: float, work_side: int):
        self.source, self.folder, self.size, self.count, self.fps = source, folder, size, count, fps
        self.work = work_size(size, work_side)

    def work_frame(self, index: int) -> Image:
        """Frame ``index`` at the work size, ``(h, w, 3)`` uint8 RGB."""
        self._check(index)
        return np.load(self.folder / f"frame-{index:05d}.npy")

    def full_frames(self) -> Iterator[Image]:
        """Every frame at full size, in order, one at a time."""
        if self.source.clip is not None:
            yield from read_frames(self.source.clip, ClipLimits(max_frames=self.count))
        else:
            for path in self.source.photos:
                yield load_image(path).rgb

    def full_frame(self, index: int) -> Image:
        """Frame ``index`` at full size (a clip is decoded up to it: use ``full_frames`` for all)."""
        self._check(index)
        if self.source.clip is None:
            return load_image(self.source.photos[index]).rgb
        for position, frame in enumerate(self.full_frames()):
            if position == index:
                return frame
        raise InvalidInput(f"frame {index + 1} could not be read again from {self.source.name}")

    def _check(self, index: int) -> None:
        if not 0 <= index < self.count:
            raise InvalidInput(f"frame {index + 1} does not exist; this sequence has frames 1 to {self.count}")


def open_sequence(
    source: Source,
    folder: str | os.PathLike[str],
    *,
    limits: ClipLimits | None = None,
    work_side: int = WORK_SIDE,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> FrameSequence:
    """Check ``source`` against ``limits``, then read it once, spilling work-size frames to ``folder``.

    Raises ``ClipTooLarge`` (too many frames, frames too large), ``UnsupportedFormat`` (not a
    video, a codec the decoder lacks), ``SizeMismatch`` (photos of different sizes), ``Cancelled``.
    """
    limits = limits or ClipLimits()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if source.clip is not None:
        info = probe_clip(source.clip, limits)
        expected, fps, frames = info.frames, info.fps, read_frames(source.clip, limits)
    else:
        limits.check_count(len(source.photos), "this set of photos")
        expected, fps, frames = len(source.photos), SPIN_FPS, _photos(source.photos, limits)
    size: tuple[int, int] | None = None
    count = 0
    for count, frame in enumerate(frames, start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("reading the sequence was cancelled")
        here = (frame.shape[1], frame.shape[0])
        size = size or here
        target = work_size(size, work_side)
        small = frame if target == here else cv2.resize(frame, target, interpolation=cv2.INTER_AREA)
        np.save(folder / f"frame-{count - 1:05d}.npy", small)
        if progress is not None:
            progress(count, max(expected, count))
    if size is None:
        raise InvalidInput(f"{source.name} holds no frames")
    return FrameSequence(source, folder, size, count, fps, work_side)


def _photos(paths: tuple[Path, ...], limits: ClipLimits) -> Iterator[Image]:
    first: tuple[int, int] | None = None
    for path in paths:
        image = load_image(path, max_side=limits.max_side, max_pixels=limits.max_pixels).rgb
        size = (image.shape[1], image.shape[0])
        if first is not None and size != first:
            raise SizeMismatch(
                f"{path.name} is {size[0]}x{size[1]} but the first photo is {first[0]}x{first[1]}; "
                "the photos of a sequence must all be one size"
            )
        first = first or size
        yield image
