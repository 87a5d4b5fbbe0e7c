"""The classical tracker follows a moving subject, and its confidence falls when the subject leaves."""

from __future__ import annotations

import numpy as np
from track_clips import jaccard, scene

from pipeline.track.classic import ClassicTracker, drop_islands


def test_it_follows_a_disc_gliding_over_texture() -> None:
    frames, truths = scene(10, step_px=3)
    session = ClassicTracker().start(frames[0], truths[0])
    scores = [jaccard(session.next(frame).mask, truth) for frame, truth in zip(frames[1:], truths[1:], strict=False)]
    copied = [jaccard(truths[0], truth) for truth in truths[1:]]
    assert min(scores) > 0.85, scores
    assert np.mean(scores) > np.mean(copied) + 0.2  # better than not tracking at all


def test_a_subject_leaving_the_frame_lowers_confidence() -> None:
    frames, truths = scene(22, step_px=4)  # the disc runs off the right edge
    session = ClassicTracker().start(frames[0], truths[0])
    results = [session.next(frame) for frame in frames[1:]]
    assert results[0].confidence > 0.7 and results[0].reason == ""
    late = results[-1]
    assert late.confidence < 0.6 and late.reason


def test_masks_are_binary_float32_of_the_frame_size() -> None:
    frames, truths = scene(3)
    tracked = ClassicTracker().start(frames[0], truths[0]).next(frames[1])
    assert tracked.mask.shape == truths[0].shape and tracked.mask.dtype == np.float32
    assert set(np.unique(tracked.mask)) <= {0.0, 1.0}


def test_small_islands_are_dropped_and_large_ones_kept() -> None:
    mask = np.zeros((40, 40), np.float32)
    mask[5:25, 5:25] = 1
    mask[30:32, 30:32] = 1
    cleaned = drop_islands(mask, 0.05)
    assert cleaned[10, 10] == 1 and cleaned[31, 31] == 0
