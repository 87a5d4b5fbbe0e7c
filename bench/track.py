"""Mask tracking quality and speed: the classical tracker beside "copy frame one's mask".

Run from the repository root:
``flock -x /tmp/stencil-bench.lock python3 -m bench.track [--split tune|report|all]``.

Sequences (``bench.track_scenes``): 60 frames at 640x360, a GrabCut object with its exact mask
moved, scaled and rotated over a HOPE scene while the camera pans and a second object crosses in
front. The tracker gets frame one's true mask and follows it through the other 59. J is the IoU of
a frame's mask with its truth (as in DAVIS); per sequence we print the mean J over frames 2..60
and the worst frame, for the tracker and for the baseline that copies frame one's mask to every
frame. Settings were chosen on the ``tune`` sequences (even numbers); the ``report`` sequences
(odd numbers) were not looked at while tuning. Speed is frames per second of ``next()`` on one
640x360 frame (flow, prediction, cut, confidence), timed over every frame of every sequence.
Skips with a message when ``../shared/datasets`` is absent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from bench import track_scenes
from pipeline.track.classic import ClassicTracker

SEQUENCES = 12


def jaccard(mask: np.ndarray, truth: np.ndarray) -> float:
    union = np.count_nonzero(mask | truth)
    return float(np.count_nonzero(mask & truth) / union) if union else 1.0


def follow(tracker: ClassicTracker, scene: track_scenes.Scene) -> tuple[list[float], float]:
    """J of every frame after the first, and the seconds ``next()`` took in all."""
    session = tracker.start(scene.frames[0], scene.truths[0].astype(np.float32))
    scores, spent = [], 0.0
    for frame, truth in zip(scene.frames[1:], scene.truths[1:], strict=False):
        started = time.perf_counter()
        tracked = session.next(frame)
        spent += time.perf_counter() - started
        scores.append(jaccard(tracked.mask > 0.5, truth))
    return scores, spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "report", "all"), default="report")
    args = parser.parse_args(argv)
    if not track_scenes.available():
        print(f"bench.track: skipped, {track_scenes.DATASETS} is absent")
        return 0
    wanted = [i for i in range(SEQUENCES) if args.split == "all" or (i % 2 == 0) == (args.split == "tune")]
    tracker = ClassicTracker()
    ours, copied, worst_ours, worst_copy = [], [], [], []
    frames, seconds = 0, 0.0
    print(f"{'sequence':32} {'classic J':>10} {'worst':>6} {'copy J':>8} {'worst':>6}")
    for index in wanted:
        scene = track_scenes.build(index)
        scores, spent = follow(tracker, scene)
        baseline = [jaccard(scene.truths[0], truth) for truth in scene.truths[1:]]
        frames, seconds = frames + len(scores), seconds + spent
        ours.append(statistics.mean(scores))
        copied.append(statistics.mean(baseline))
        worst_ours.append(min(scores))
        worst_copy.append(min(baseline))
        print(f"{scene.name:32} {ours[-1]:10.3f} {worst_ours[-1]:6.3f} {copied[-1]:8.3f} {worst_copy[-1]:6.3f}")
    print(
        f"{args.split} ({len(wanted)} sequences x {track_scenes.FRAMES} frames): classic mean J "
        f"{statistics.mean(ours):.3f}, worst frame {min(worst_ours):.3f}; copy mean J "
        f"{statistics.mean(copied):.3f}, worst frame {min(worst_copy):.3f}; classic "
        f"{frames / seconds:.1f} frames/s at {track_scenes.SIZE[0]}x{track_scenes.SIZE[1]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
