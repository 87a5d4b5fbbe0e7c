"""What a tracker is: a read-only engine that opens one session per keyframe and direction.

A ``Tracker`` is shared (loaded once, like a segmenter); a ``TrackSession`` is one pass from a
keyframe forward or backward and keeps that pass's state. Frames come at the sequence's work size
as ``(H, W, 3)`` uint8 RGB; masks are ``(H, W)`` float32 in [0, 1] at that same size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pipeline.types import Image, Mask


@dataclass(frozen=True, eq=False)
class Tracked:
    """One frame's answer: ``mask`` (work size, {0, 1} float32) and ``confidence`` in [0, 1].

    ``confidence`` falls when the frame disagrees with the motion (occlusion, the subject leaving,
    drift); ``reason`` says why in words when it is low, empty otherwise.
    """

    mask: Mask
    confidence: float
    reason: str = ""


class TrackSession(Protocol):
    """One pass from a keyframe: ``next(frame)`` for each following frame, in the pass's order."""

    def next(self, frame: Image) -> Tracked: ...


@runtime_checkable
class Tracker(Protocol):
    """A mask tracker: ``start`` a session from a keyframe and its mask (work size)."""

    name: str

    def start(self, frame: Image, mask: Mask) -> TrackSession: ...
