"""A 10-second 720p clip through the page's clip panel: open, keyframe, Propagate, replace the
background, export; seconds per stage and the process's peak RSS.

Run from the repository root: ``flock -x /tmp/stencil-bench.lock python3 -m bench.clip_page``.

The clip (250 frames at 25 frames/s, 1280x720, H.264) is one of ``bench.track``'s scenes, made 250
frames long and scaled 2x, written to a temporary folder. The page's handlers run in this process
exactly as the server runs them (``ui.clip_handlers``, with the app's real services: classical
tracker and engines), with a progress callback counting updates. Peak RSS is ``ru_maxrss`` after
each stage, beside the RSS once the page is built (the baseline): what the clip adds is the
difference. Needs ``../shared/datasets``; skips with a message without it.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bench import track_scenes

SECONDS, FPS, SIZE = 10, 25, (1280, 720)


class Request:
    session_hash = "bench"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_clip(folder: Path) -> tuple[Path, np.ndarray]:
    """The clip and its first frame's true mask (1280x720)."""
    from pipeline.io.video import VideoWriter

    count = SECONDS * FPS
    track_scenes.FRAMES = count  # a longer path through the same scene
    scene = track_scenes.build(1)
    path = folder / "clip-720p.mp4"
    with VideoWriter(path, fps=FPS, quality=20) as writer:
        for frame in scene.frames:
            writer.add(cv2.resize(frame, SIZE, interpolation=cv2.INTER_LINEAR))
    first = cv2.resize(scene.truths[0].astype(np.uint8), SIZE, interpolation=cv2.INTER_NEAREST).astype(np.float32)
    return path, first


def main() -> int:
    if not track_scenes.available():
        print(f"bench.clip_page: skipped, {track_scenes.DATASETS} is absent")
        return 0
    from pipeline.settings import Settings
    from ui import notebook
    from ui.clip_handlers import ClipHandlers
    from ui.page import build_demo
    from ui.services import make_services

    with tempfile.TemporaryDirectory() as scratch:
        clip_path, first_mask = write_clip(Path(scratch))
        del track_scenes.FRAMES
        c = ClipHandlers(build_demo(services=make_services(Settings(track_model=None))).stencil_handlers)
        p = c.p
        base = rss_mb()
        print(f"page built: RSS {base:.0f} MB (peak so far {peak_mb():.0f} MB)")
        updates = []

        def progress(value: object, desc: str = "") -> None:
            updates.append(value)

        def stage(name: str, run):  # type: ignore[no-untyped-def]
            started, before = time.perf_counter(), len(updates)
            out = run()
            print(f"{name:28} {time.perf_counter() - started:6.1f} s, {len(updates) - before:4d} progress updates, "
                  f"RSS {rss_mb():5.0f} MB, peak {peak_mb():5.0f} MB")  # fmt: skip
            return out

        edit = {comp: comp.value for comp in p.edit.values()}
        v = {p.session: None, p.clip: None, p.clip_slider: 1, p.clip_files: [str(clip_path)], **edit}
        out = stage("open (250 frames)", lambda: c.on_clip_open_click(v, Request(), progress))
        v[p.clip] = out[p.clip]
        loaded = c.on_clip_edit_click(v)
        v[p.session] = notebook.store_mask(loaded[p.session], first_mask, "mask", "replace")
        c.on_clip_key_click(v)
        stage("propagate (249 frames)", lambda: c.on_clip_track_click(v, Request(), progress))
        v.update(
            {p.edit["operation"]: "Replace background", p.edit["bg_kind"]: "Colour", p.edit["bg_color"]: "#ffffff"}
        )
        files = stage("replace background + export", lambda: c.on_clip_export_click(v, Request(), progress))[p.clip_out]
        for name in files:
            print(f"  {Path(name).name}: {Path(name).stat().st_size / 1e6:.1f} MB")
        pixels = SECONDS * FPS * SIZE[0] * SIZE[1]
        print(f"peak RSS {peak_mb():.0f} MB; the page alone {base:.0f} MB; the clip's frames as float32 masks "
              f"would be {pixels * 4 / 1e6:.0f} MB and as RGB frames {pixels * 3 / 1e6:.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
