"""Propagation through clips and spin sets: both directions, keyframes kept, cancel, and bad input."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from track_clips import jaccard, scene, write_clip, write_photos

from pipeline.errors import Cancelled, EmptyMask, SizeMismatch
from pipeline.track.classic import ClassicTracker
from pipeline.track.propagate import propagate, span
from pipeline.track.sequence import FrameSequence, Source, open_sequence
from pipeline.track.store import MaskStore


def opened(tmp_path: Path, frames: list[np.ndarray], *, clip: bool = True, work_side: int = 640) -> FrameSequence:
    source = write_clip(tmp_path / "c.mp4", frames) if clip else write_photos(tmp_path / "spin", frames)
    return open_sequence(Source.of(source), tmp_path / "frames", work_side=work_side)


def test_a_clip_is_tracked_forward_and_backward_from_a_middle_keyframe(tmp_path: Path) -> None:
    frames, truths = scene(9)
    sequence = opened(tmp_path, frames)
    store = MaskStore(tmp_path / "masks", sequence.size, sequence.count)
    store.set_keyframe(4, truths[4])
    seen: list[tuple[int, int]] = []
    done = propagate(sequence, store, 4, ClassicTracker(), progress=lambda d, t: seen.append((d, t)))
    assert done.tracked == (0, 1, 2, 3, 5, 6, 7, 8) and done.lost_forward is None
    assert seen[-1] == (8, 8)
    assert min(jaccard(store.mask(i), truths[i]) for i in range(9)) > 0.8


def test_a_spin_set_at_a_smaller_work_size_gives_full_size_masks(tmp_path: Path) -> None:
    frames, truths = scene(6)
    sequence = opened(tmp_path, frames, clip=False, work_side=48)
    assert sequence.size == (96, 64) and sequence.work == (48, 32) and sequence.fps > 0
    store = MaskStore(tmp_path / "masks", sequence.size, sequence.count)
    store.set_keyframe(0, truths[0])
    propagate(sequence, store, 0, ClassicTracker())
    assert store.mask(5).shape == (64, 96)
    assert jaccard(store.mask(5), truths[5]) > 0.7


def test_propagating_again_from_a_corrected_frame_keeps_the_other_keyframes(tmp_path: Path) -> None:
    frames, truths = scene(10)
    sequence = opened(tmp_path, frames, clip=False)
    store = MaskStore(tmp_path / "masks", sequence.size, sequence.count)
    store.set_keyframe(0, truths[0])
    propagate(sequence, store, 0, ClassicTracker())
    marked = truths[7].copy()
    marked[0:4, 0:4] = 1  # a deliberate mark only this keyframe has
    store.set_keyframe(7, marked)
    assert span(store.keyframes(), 7, 10) == (range(8, 10), range(6, 0, -1))
    before = {i: store.mask(i) for i in (0, 1)}
    done = propagate(sequence, store, 7, ClassicTracker())
    assert done.tracked == (1, 2, 3, 4, 5, 6, 8, 9)
    assert np.array_equal(store.mask(0), before[0])  # the first keyframe is untouched
    assert np.array_equal(store.mask(7), marked) and store.keyframes() == [0, 7]


def test_cancel_keeps_the_frames_already_done(tmp_path: Path) -> None:
    frames, truths = scene(8)
    sequence = opened(tmp_path, frames, clip=False)
    store = MaskStore(tmp_path / "masks", sequence.size, sequence.count)
    store.set_keyframe(0, truths[0])
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 3:
            stop.set()

    with pytest.raises(Cancelled, match="after 3 of 7 frames"):
        propagate(sequence, store, 0, ClassicTracker(), progress=progress, cancel=stop)
    assert [i for i in range(8) if store.has(i)] == [0, 1, 2, 3]


def test_an_empty_or_missing_keyframe_mask_is_refused(tmp_path: Path) -> None:
    frames, _ = scene(4)
    sequence = opened(tmp_path, frames, clip=False)
    store = MaskStore(tmp_path / "masks", sequence.size, sequence.count)
    with pytest.raises(EmptyMask, match="frame 2 has no mask to propagate"):
        propagate(sequence, store, 1, ClassicTracker())
    store.set_keyframe(1, np.zeros((64, 96), np.float32))
    with pytest.raises(EmptyMask):
        propagate(sequence, store, 1, ClassicTracker())
    assert store.has(1)  # the sequence and its masks are kept


def test_a_mask_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    store = MaskStore(tmp_path / "masks", (96, 64), 4)
    with pytest.raises(SizeMismatch, match="the mask is 40x30 but the frames are 96x64"):
        store.set_keyframe(0, np.ones((30, 40), np.float32))


def test_photos_of_different_sizes_are_refused(tmp_path: Path) -> None:
    frames, _ = scene(3)
    folder = write_photos(tmp_path / "spin", frames)
    from PIL import Image as PILImage

    PILImage.fromarray(frames[0][:40]).save(folder / "turn-99.png")
    with pytest.raises(SizeMismatch, match="must all be one size"):
        open_sequence(Source.of(folder), tmp_path / "frames")


def test_the_store_zips_masks_with_their_confidences(tmp_path: Path) -> None:
    import json
    import zipfile

    store = MaskStore(tmp_path / "masks", (96, 64), 3)
    store.set_keyframe(1, np.ones((64, 96), np.float32))
    store.write_zip(tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        assert archive.namelist() == ["mask-00002.png", "frames.json"]
        assert json.loads(archive.read("frames.json"))[0]["keyframe"] is True
