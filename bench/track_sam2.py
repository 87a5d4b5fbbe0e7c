"""SAM 2 video tracking speed with random weights at full size (same compute as trained weights).

Run from the repository root:
``flock -x /tmp/stencil-bench.lock python3 -m bench.track_sam2 [--gpu] [--frames 60]``.

Builds ``Sam2VideoModel(Sam2VideoConfig())`` (transformers' default configuration: a full-size
Hiera image encoder at 1024x1024, the memory attention and encoder), saves it with
``save_pretrained`` and loads it back through ``pipeline.track.sam2.load_tracker`` (the user's
path), then streams a synthetic 640x360 sequence through one ``Sam2Session`` and prints seconds a
frame beside the classical tracker on the same frames. Random weights track nothing useful: this
is a timing, not a quality figure. ``--gpu`` runs SAM 2 on CUDA in fp16 (the classical tracker
stays on the CPU).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    backdrop = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    out = []
    for t in range(count):
        frame = backdrop.copy()
        frame[120:240, 200 + 3 * t : 320 + 3 * t] = (220, 60, 40)
        out.append(frame)
    return out


def per_frame_s(tracker, clip: list[np.ndarray]) -> float:  # type: ignore[no-untyped-def]
    mask = np.zeros(clip[0].shape[:2], np.float32)
    mask[120:240, 200:320] = 1
    session = tracker.start(clip[0], mask)
    session.next(clip[1])  # warm-up (kernels, caches)
    started = time.perf_counter()
    for frame in clip[2:]:
        session.next(frame)
    return (time.perf_counter() - started) / (len(clip) - 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="run SAM 2 on CUDA (fp16)")
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args(argv)
    import torch
    from transformers import Sam2VideoConfig, Sam2VideoModel, Sam2VideoProcessor

    from pipeline.track.classic import ClassicTracker
    from pipeline.track.sam2 import load_tracker

    device = "cuda" if args.gpu else "cpu"
    if args.gpu and not torch.cuda.is_available():
        print("bench.track_sam2: --gpu asked for but no CUDA device is available")
        return 2
    clip = frames(args.frames)
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        model = Sam2VideoModel(Sam2VideoConfig())
        params = sum(p.numel() for p in model.parameters()) / 1e6
        model.save_pretrained(folder)
        _processor(Sam2VideoProcessor).save_pretrained(folder)
        tracker = load_tracker(Path(folder), device=device)
        sam2_s = per_frame_s(tracker, clip)
    classic_s = per_frame_s(ClassicTracker(), clip)
    sam2 = f"{sam2_s * 1000:.0f} ms a frame ({1 / sam2_s:.1f} frames/s)"
    classic = f"{classic_s * 1000:.0f} ms a frame ({1 / classic_s:.1f} frames/s)"
    print(f"SAM 2 video (default config, {params:.0f} M parameters, random weights) on {device}: {sam2}; "
          f"classical tracker on the CPU: {classic}; {args.frames} frames, 640x360")  # fmt: skip
    return 0


def _processor(cls):  # type: ignore[no-untyped-def]
    from transformers import Sam2ImageProcessor
    from transformers.models.sam2_video import Sam2VideoVideoProcessor

    return cls(image_processor=Sam2ImageProcessor(), video_processor=Sam2VideoVideoProcessor())


if __name__ == "__main__":
    sys.exit(main())
