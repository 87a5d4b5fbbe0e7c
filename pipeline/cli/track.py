"""``stencil track CLIP|FOLDER --mask first.png [--frame N] -o OUT``: a mask through a clip or spin set.

The mask (of frame ``N``, 1 by default) is carried forward and backward through the sequence by
the tracker (``--tracker auto|sam2|classic``) and every frame's mask is written: ``OUT`` ending in
``.zip`` gives a zip of ``mask-00001.png``... and ``frames.json`` (each frame's confidence and why
it is low), anything else a folder holding the same files. Frames whose confidence is low are
listed on stderr: correct one, and track again from it with ``--mask`` and ``--frame``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.cli.jobs import UsageError, whole
from pipeline.io.video import ClipLimits


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``track`` to the ``stencil`` command."""
    parser = subparsers.add_parser(
        "track",
        help="carry a mask through a clip or a folder of photos",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    add = parser.add_argument
    add("source", type=Path, metavar="CLIP|FOLDER", help="a clip (mp4, webm, mov) or a folder of photos in name order")
    add("--mask", type=Path, required=True, metavar="PNG", help="the mask of the keyframe, at the frames' size")
    add("--frame", type=whole(1, 100_000, unit="frame"), default=1, metavar="N", help="the keyframe (from 1)")
    add("-o", "--output", type=Path, required=True, metavar="OUT", help="a .zip, or a folder, of mask PNGs")
    add("--tracker", choices=("auto", "sam2", "classic"), default="auto", help="SAM 2 when configured, else classic")
    add("--track-model", default=None, metavar="ID|FOLDER", help="SAM 2 video model (or STENCIL_TRACK_MODEL)")
    add("--device", choices=("auto", "cuda", "cpu"), default=None, help="where SAM 2 runs")
    add("--max-frames", type=whole(1, 10_000, unit="frames"), default=300, help="refuse longer sequences")
    parser.set_defaults(run=run_track)


def run_track(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipeline.io.images import load_mask
    from pipeline.models import make_tracker
    from pipeline.settings import Settings
    from pipeline.track.propagate import FLAG_BELOW, propagate
    from pipeline.track.sequence import Source, open_sequence
    from pipeline.track.store import MaskStore

    if args.output.suffix.lower() != ".zip" and args.output.exists() and not args.output.is_dir():
        raise UsageError(f"-o {args.output} is a file; give a .zip or a folder")
    settings = Settings().with_overrides(track_model=args.track_model, device=args.device)
    chosen = make_tracker(args.tracker, settings)
    limits = ClipLimits(max_frames=args.max_frames)
    with tempfile.TemporaryDirectory(prefix="stencil-track-") as scratch:
        with tqdm(desc="read", unit="frame", file=sys.stderr, leave=False, disable=None) as bar:
            sequence = open_sequence(
                Source.of(args.source), Path(scratch) / "frames", limits=limits, progress=_bar(bar)
            )
        if args.frame > sequence.count:
            raise UsageError(f"--frame {args.frame}: {args.source.name} has {sequence.count} frames")
        mask = load_mask(args.mask)
        store = MaskStore(Path(scratch) / "masks", sequence.size, sequence.count)
        store.set_keyframe(args.frame - 1, mask)
        with tqdm(desc=f"track ({chosen.backend.name})", unit="frame", file=sys.stderr, disable=None) as bar:
            done = propagate(sequence, store, args.frame - 1, chosen.backend, progress=_bar(bar))
        _write(store, args.output)
    flagged = ", ".join(str(i + 1) for i in done.flagged)
    print(
        f"stencil track: {len(done.tracked) + 1} masks written to {args.output}"
        + (f"; low confidence (under {FLAG_BELOW}) on frames {flagged}" if flagged else ""),
        file=sys.stderr,
    )
    for direction, frame in (("forward", done.lost_forward), ("backward", done.lost_backward)):
        if frame is not None:
            print(f"stencil track: the subject was lost at frame {frame + 1} ({direction}); no masks past it",
                  file=sys.stderr)  # fmt: skip
    return 0


def _bar(bar):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return progress


def _write(store, output: Path) -> None:  # type: ignore[no-untyped-def]
    """The masks as a zip, or (through a zip in the scratch folder) as files in a folder."""
    if output.suffix.lower() == ".zip":
        output.parent.mkdir(parents=True, exist_ok=True)
        store.write_zip(output)
        return
    import zipfile

    packed = store.folder / "all.zip"
    store.write_zip(packed)
    output.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(packed) as archive:
        for name in archive.namelist():
            partial = output / f".{name}.partial"
            with archive.open(name) as source, open(partial, "wb") as target:
                shutil.copyfileobj(source, target)
            partial.replace(output / name)
