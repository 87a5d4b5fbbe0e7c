"""SAM 2's video tracker, loaded the way a user's weights are, streamed through a real propagation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_sam2 import save_tiny_sam2
from track_clips import scene, write_photos

from pipeline.errors import ModelUnavailable
from pipeline.models import make_tracker
from pipeline.settings import Settings
from pipeline.track.propagate import propagate
from pipeline.track.sequence import Source, open_sequence
from pipeline.track.store import MaskStore

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_sam2(tmp_path_factory.mktemp("sam2") / "tiny-sam2-video")


def test_a_saved_model_is_chosen_by_name_and_tracks_through_a_spin_set(tmp_path: Path, model_folder: Path) -> None:
    chosen = make_tracker("sam2", Settings(track_model=str(model_folder), device="cpu"))
    assert chosen.backend.name == "sam2" and str(model_folder) in chosen.reason
    frames, truths = scene(5)
    sequence = open_sequence(Source.of(write_photos(tmp_path / "spin", frames)), tmp_path / "frames")
    session = chosen.backend.start(sequence.work_frame(0), truths[0])
    answers = [session.next(sequence.work_frame(i)) for i in range(1, 5)]
    for tracked in answers:
        assert tracked.mask.shape == (64, 96) and tracked.mask.dtype == np.float32
        assert 0.0 <= tracked.confidence <= 1.0
    assert len(session.session.processed_frames) <= 2  # frames are dropped as the stream goes on
    store = MaskStore(tmp_path / "masks", sequence.size, sequence.count)
    store.set_keyframe(2, truths[2])
    done = propagate(sequence, store, 2, chosen.backend)
    # random weights may lose the subject at once; whatever it tracked or lost is accounted for
    forward = [i for i in (3, 4) if store.has(i)]
    assert done.lost_forward in (None, 3, 4) and set(done.tracked) >= set(forward)


def test_auto_falls_back_to_the_classical_tracker_and_says_why() -> None:
    chosen = make_tracker("auto", Settings(track_model=None))
    assert chosen.backend.name == "classic" and "no SAM 2 video model is configured" in chosen.reason


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        make_tracker("sam2", Settings(track_model=str(tmp_path), device="cpu"))
