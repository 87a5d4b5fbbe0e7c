"""Clips in and out through PyAV (its wheels ship FFmpeg's codecs): probing, streaming decode, encode.

Reading is bounded before any frame is decoded: a clip longer than ``ClipLimits.max_frames`` or
with frames larger than ``max_side`` / ``max_pixels`` is refused from its header, and the count is
checked again while decoding (headers can lie). Frames stream one at a time as ``(H, W, 3)``
uint8 RGB, so a caller never holds the whole clip. Writing goes through a temporary file that is
renamed into place only when the encoder has flushed, so an error or a cancel leaves no partial file.

Encoders by suffix: ``.mp4`` H.264 (yuv420p), ``.webm`` VP9 (``yuva420p`` with alpha when frames
are RGBA: a WebM with transparency). 4:2:0 needs even sizes: an odd last row or column is
repeated to pad, which the ``size`` of ``ClipInfo`` read back will show.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import BackendFailed, ClipTooLarge, InvalidInput, UnsupportedFormat

VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v"})
"""Suffixes Stencil treats as clips (anything else in a sequence is a photo or an error)."""

WRITE_SUFFIXES = frozenset({".mp4", ".webm"})
_VP9 = {"b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
"""VP9 at constant quality, encoded for speed (libvpx's default "good" deadline is ~10x slower)."""


@dataclass(frozen=True)
class ClipLimits:
    """The most a sequence may hold: ``max_frames`` frames, each at most ``max_side`` px on its
    longest side and ``max_pixels`` in all (defaults: 300 frames, 1920 px, 1920x1080)."""

    max_frames: int = 300
    max_side: int = 1920
    max_pixels: int = 1920 * 1080

    def __post_init__(self) -> None:
        if min(self.max_frames, self.max_side, self.max_pixels) < 1:
            raise InvalidInput(f"clip limits must be positive, got {self}")

    def describe(self) -> str:
        return f"at most {self.max_frames} frames of at most {self.max_side} px a side and {self.max_pixels:,} pixels"

    def check_size(self, size: tuple[int, int], what: str) -> None:
        """Raise ``ClipTooLarge`` when ``size`` (width, height) is over the frame caps."""
        width, height = size
        if max(width, height) > self.max_side or width * height > self.max_pixels:
            raise ClipTooLarge(
                f"{what} has {width}x{height} frames; sequences take {self.describe()}: scale the clip down first"
            )

    def check_count(self, count: int, what: str) -> None:
        if count > self.max_frames:
            raise ClipTooLarge(
                f"{what} has {count} frames; sequences take {self.describe()}: trim it or pick fewer frames"
            )


@dataclass(frozen=True)
class ClipInfo:
    """What a clip's header says: ``size`` (width, height), ``frames`` (estimated when the container
    does not store a count), ``fps`` and the codec's name."""

    size: tuple[int, int]
    frames: int
    fps: float
    codec: str


def _open(path: Path):  # type: ignore[no-untyped-def]
    import av

    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file")
    try:
        container = av.open(str(path))
    except av.FFmpegError:
        raise UnsupportedFormat(f"{path.name} is not a video Stencil can read; use an mp4, webm or mov clip") from None
    if not container.streams.video:
        container.close()
        raise UnsupportedFormat(f"{path.name} holds no video stream; use an mp4, webm or mov clip")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        container.close()
        raise UnsupportedFormat(
            f"{path.name} is encoded with a codec this decoder does not have; re-encode it as H.264 mp4 or VP9 webm"
        )
    return container


def probe_clip(path: str | os.PathLike[str], limits: ClipLimits | None = None) -> ClipInfo:
    """Read ``path``'s header and check it against ``limits`` (``ClipTooLarge``) before any decoding."""
    limits = limits or ClipLimits()
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        context = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        frames = int(stream.frames or 0)
        if frames <= 0:
            seconds = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
            frames = max(1, round(seconds * fps))
        info = ClipInfo((int(context.width), int(context.height)), frames, fps, context.name)
    finally:
        container.close()
    if info.size[0] <= 0 or info.size[1] <= 0:
        raise UnsupportedFormat(f"{path.name}'s video stream declares no frame size; it is not a playable clip")
    limits.check_size(info.size, path.name)
    limits.check_count(info.frames, path.name)
    return info


def read_frames(path: str | os.PathLike[str], limits: ClipLimits | None = None) -> Iterator[np.ndarray]:
    """Every frame of ``path`` in order as ``(H, W, 3)`` uint8 RGB, one at a time.

    Checks the header first (``probe_clip``) and the real count while decoding; a stream that
    breaks part way raises ``UnsupportedFormat`` naming the frame.
    """
    import av

    limits = limits or ClipLimits()
    path = Path(path)
    probe_clip(path, limits)
    container = _open(path)
    try:
        index = 0
        try:
            for frame in container.decode(video=0):
                index += 1
                limits.check_count(index, path.name)
                limits.check_size((frame.width, frame.height), path.name)
                yield frame.to_ndarray(format="rgb24")
        except av.FFmpegError as error:
            raise UnsupportedFormat(f"{path.name} could not be decoded past frame {index}: {error}") from None
        if index == 0:
            raise UnsupportedFormat(f"{path.name} holds no decodable frames")
    finally:
        container.close()


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an odd height or width by repeating the last row or column (4:2:0 needs even sizes)."""
    pad_y, pad_x = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_y or pad_x):
        return frame
    return np.pad(frame, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")


class VideoWriter:
    """Encode frames to ``path`` one at a time; a context manager that renames the file into place
    only when the block ends without an error (an error or a cancel removes the partial file).

    ``.mp4`` is H.264 (alpha dropped), ``.webm`` VP9, keeping alpha when frames are RGBA.
    ``quality`` is the constant-rate factor (0 best, 51 worst).
    """

    def __init__(self, path: str | os.PathLike[str], *, fps: float, quality: int = 18) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in WRITE_SUFFIXES:
            raise InvalidInput(f"{self.path.name}: videos are written as {', '.join(sorted(WRITE_SUFFIXES))}")
        if not 0 <= quality <= 51:
            raise InvalidInput(f"quality {quality} is out of range; use 0 (best) to 51")
        if not 0 < fps <= 240:
            raise InvalidInput(f"frame rate {fps} is out of range; use more than 0 and at most 240")
        self.fps, self.quality, self.count = fps, quality, 0
        self.partial = self.path.with_name(f".{self.path.name}.partial{self.suffix}")
        self._container: Any = None
        self._stream: Any = None

    def __enter__(self) -> VideoWriter:
        import av

        self._container = av.open(str(self.partial), "w")
        return self

    def add(self, frame: np.ndarray) -> None:
        """Encode one ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA uint8 frame (all frames one size)."""
        import av

        frame = _even(frame)
        if self._stream is None:
            self._stream = _add_stream(self._container, self.suffix, frame, self.fps, self.quality)
        elif (frame.shape[1], frame.shape[0]) != (self._stream.width, self._stream.height):
            raise InvalidInput(f"frame {self.count + 1} is {frame.shape[1]}x{frame.shape[0]}; all must be one size")
        layout = "rgba" if frame.shape[2] == 4 else "rgb24"
        try:
            for packet in self._stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=layout)):
                self._container.mux(packet)
        except av.FFmpegError as error:
            raise BackendFailed(f"encoding {self.path.name} failed: {error}") from None
        self.count += 1

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        import av

        try:
            if kind is None:
                if self._stream is None:
                    raise InvalidInput("there are no frames to write")
                for packet in self._stream.encode():
                    self._container.mux(packet)
            self._container.close()
            if kind is None:
                os.replace(self.partial, self.path)
        except av.FFmpegError as failure:
            raise BackendFailed(f"encoding {self.path.name} failed: {failure}") from None
        finally:
            self.partial.unlink(missing_ok=True)


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], *, fps: float, quality: int = 18) -> int:
    """Encode ``frames`` to ``path`` with a ``VideoWriter``; returns the number of frames written."""
    with VideoWriter(path, fps=fps, quality=quality) as writer:
        for frame in frames:
            writer.add(frame)
    return writer.count


def _add_stream(container, suffix: str, frame: np.ndarray, fps: float, quality: int):  # type: ignore[no-untyped-def]
    from fractions import Fraction

    rate = Fraction(fps).limit_denominator(1001)
    if suffix == ".webm":
        stream = container.add_stream("libvpx-vp9", rate=rate, options=_VP9 | {"crf": str(quality)})
        stream.pix_fmt = "yuva420p" if frame.shape[2] == 4 else "yuv420p"
    else:
        stream = container.add_stream("libx264", rate=rate, options={"crf": str(quality), "preset": "veryfast"})
        stream.pix_fmt = "yuv420p"
    stream.width, stream.height = frame.shape[1], frame.shape[0]
    return stream
