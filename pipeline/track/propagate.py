"""Carry a keyframe's mask through its sequence, forward and backward, up to the next keyframes.

``propagate`` runs a tracker from keyframe ``k`` forward until the next keyframe (or the end) and
backward until the previous one (or the start): correcting any frame, making it a keyframe and
propagating from it again re-tracks the frames around it and leaves every other keyframe, and
what was tracked from it, as they were. Masks are written to the ``MaskStore`` as each frame is
done, so a cancel keeps everything finished so far. A pass stops where the subject is lost (an
empty mask): the frames after it have no mask rather than a wrong one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.errors import Cancelled, EmptyMask
from pipeline.inpaint.protocol import CancelFlag, ProgressFn
from pipeline.track.protocol import Tracker
from pipeline.track.sequence import FrameSequence
from pipeline.track.store import FrameState, MaskStore
from pipeline.types import Mask

log = logging.getLogger(__name__)

FLAG_BELOW = 0.6
"""Tracked frames under this confidence are flagged for a look (and a correcting keyframe)."""


@dataclass(frozen=True)
class Propagation:
    """What a propagation did: the ``tracked`` frames (0-based), the ``flagged`` ones among them, and
    ``lost``: the frame where a pass lost the subject and stopped, per direction (None: it did not)."""

    tracked: tuple[int, ...]
    flagged: tuple[int, ...]
    lost_forward: int | None
    lost_backward: int | None


def span(keyframes: list[int], start: int, count: int) -> tuple[range, range]:
    """The frames a propagation from ``start`` writes: forward to the next keyframe, backward to the last."""
    after = [k for k in keyframes if k > start]
    before = [k for k in keyframes if k < start]
    forward = range(start + 1, after[0] if after else count)
    backward = range(start - 1, before[-1] if before else -1, -1)
    return forward, backward


def to_work(mask: Mask, size: tuple[int, int]) -> Mask:
    """A full-size mask at the work ``size`` (width, height)."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    return cv2.resize(mask, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def to_full(mask: Mask, size: tuple[int, int]) -> Mask:
    """A work-size binary mask at the full ``size``, edges resampled smoothly then cut at 0.5."""
    if (mask.shape[1], mask.shape[0]) != size:
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return (mask > 0.5).astype(np.float32)


def propagate(
    sequence: FrameSequence,
    store: MaskStore,
    keyframe: int,
    tracker: Tracker,
    *,
    flag_below: float = FLAG_BELOW,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> Propagation:
    """Track keyframe ``keyframe``'s mask (already in ``store``) forward and backward.

    Raises ``EmptyMask`` when the keyframe's mask selects nothing, ``Cancelled`` when ``cancel``
    is set (the frames done so far stay in ``store``).
    """
    key_mask = store.mask(keyframe)
    if not store.has(keyframe) or not (key_mask > 0.5).any():
        raise EmptyMask(
            f"frame {keyframe + 1} has no mask to propagate; select the subject on it first (at least one pixel)"
        )
    if not store.states[keyframe].keyframe:
        store.set_keyframe(keyframe, key_mask)
    forward, backward = span(store.keyframes(), keyframe, sequence.count)
    total, done = len(forward) + len(backward), 0
    tracked: list[int] = []
    lost: list[int | None] = []
    start = to_work(key_mask, sequence.work)
    for frames in (forward, backward):
        session = tracker.start(sequence.work_frame(keyframe), start)
        stopped: int | None = None
        for index in frames:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"propagation cancelled after {len(tracked)} of {total} frames (those are kept)")
            if stopped is not None:
                store.drop(index)
            else:
                result = session.next(sequence.work_frame(index))
                if not (result.mask > 0.5).any():
                    stopped = index
                    store.drop(index)
                    log.info("the subject was lost at frame %d; the pass stops there", index + 1)
                else:
                    store.put(
                        index, to_full(result.mask, sequence.size), FrameState(False, result.confidence, result.reason)
                    )
                    tracked.append(index)
            done += 1
            if progress is not None:
                progress(done, total)
        lost.append(stopped)
    flagged = tuple(i for i in tracked if store.states[i].confidence < flag_below)
    return Propagation(tuple(sorted(tracked)), tuple(sorted(flagged)), lost[0], lost[1])
