"""``stencil apply RECIPE CLIP -o OUT``: a recipe over every frame of a clip (or a spin set).

Taken when IMAGE is a clip, or when ``-o`` names a video or a zip. ``--masks`` gives each frame's
mask (the folder or zip ``stencil track`` writes), which then replaces the recipe's own mask
steps. ``-o`` is the edited video (``.mp4`` or ``.webm``) or a zip of PNG frames; ``--cutout-out``
a WebM with transparency or a zip of RGBA PNGs; ``--mask-out`` a zip of the masks used.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

from pipeline.cli.jobs import UsageError
from pipeline.io.files import IMAGE_SUFFIXES
from pipeline.io.video import VIDEO_SUFFIXES, WRITE_SUFFIXES, ClipLimits
from pipeline.recipe import Recipe
from pipeline.types import Mask

SEQUENCE_OUTPUTS = WRITE_SUFFIXES | {".zip"}


def wants_sequence(args: argparse.Namespace) -> bool:
    """Whether ``stencil apply`` works on a sequence: a clip in, or a video or zip out."""
    clip = args.image.is_file() and args.image.suffix.lower() in VIDEO_SUFFIXES
    return clip or args.output.suffix.lower() in SEQUENCE_OUTPUTS


class MaskFiles:
    """Frame masks from a folder or a zip of PNGs: ``mask-00012.png`` is frame 12's (any prefix); names
    without a number are taken in name order (frame 1 first)."""

    def __init__(self, given: Path) -> None:
        self.zip: zipfile.ZipFile | None = None
        if given.is_dir():
            self.names = sorted(p.name for p in given.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            self.folder = given
        elif given.suffix.lower() == ".zip" and given.is_file():
            self.zip = zipfile.ZipFile(given)
            self.names = sorted(n for n in self.zip.namelist() if Path(n).suffix.lower() == ".png")
        else:
            raise UsageError(f"--masks {given}: give the folder or .zip that stencil track wrote")
        if not self.names:
            raise UsageError(f"--masks {given} holds no mask PNGs")
        numbers = [re.search(r"(\d+)$", Path(name).stem) for name in self.names]
        if all(numbers):
            self.by_frame = {int(m.group(1)) - 1: name for m, name in zip(numbers, self.names, strict=False)}  # type: ignore[union-attr]
        else:
            self.by_frame = dict(enumerate(self.names))

    def __call__(self, index: int) -> Mask:
        from pipeline.io.images import decode_mask

        name = self.by_frame.get(index)
        if name is None:
            raise UsageError(
                f"--masks has no mask for frame {index + 1} (tracking lost the subject there?); "
                "mask that frame and track again from it"
            )
        data = self.zip.read(name) if self.zip else (self.folder / name).read_bytes()
        return decode_mask(data)


def _exports(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from pipeline.recipe.sequence import Exports

    out = args.output
    if out.suffix.lower() not in SEQUENCE_OUTPUTS:
        raise UsageError(f"-o {out}: a sequence's result is a .mp4 or .webm video, or a .zip of PNG frames")
    cutout = args.cutout_out
    if cutout is not None and cutout.suffix.lower() not in (".webm", ".zip"):
        raise UsageError(f"--cutout-out {cutout}: use .webm (a video with transparency) or .zip (RGBA PNGs)")
    if args.mask_out is not None and args.mask_out.suffix.lower() != ".zip":
        raise UsageError(f"--mask-out {args.mask_out}: a sequence's masks are written as a .zip of PNGs")
    return Exports(
        video=out if out.suffix.lower() != ".zip" else None,
        frames_zip=out if out.suffix.lower() == ".zip" else None,
        alpha_video=cutout if cutout is not None and cutout.suffix.lower() == ".webm" else None,
        rgba_zip=cutout if cutout is not None and cutout.suffix.lower() == ".zip" else None,
        mask_zip=args.mask_out,
    )


def run_sequence(args: argparse.Namespace, recipe: Recipe, engines) -> int:  # type: ignore[no-untyped-def]
    """Apply ``recipe`` to every frame of ``args.image`` and write the exports."""
    from tqdm import tqdm

    from pipeline.io.video import probe_clip, read_frames
    from pipeline.recipe.sequence import apply_to_sequence
    from pipeline.track.sequence import SPIN_FPS, Source

    if args.labels is not None:
        raise UsageError("--labels takes photos one by one; it does not apply to a clip")
    exports = _exports(args)
    source = Source.of(args.image)
    limits = ClipLimits(max_frames=args.max_frames)
    if source.clip is not None:
        info = probe_clip(source.clip, limits)
        count, fps, frames = info.frames, info.fps, read_frames(source.clip, limits)
    else:
        from pipeline.io.images import load_image

        limits.check_count(len(source.photos), "this set of photos")
        count, fps = len(source.photos), SPIN_FPS
        frames = (load_image(p).rgb for p in source.photos)
    masks = MaskFiles(args.masks) if args.masks is not None else None
    for path in exports.paths():
        path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=count, desc="apply", unit="frame", file=sys.stderr, disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = max(total, done)
            bar.n = done
            bar.refresh()

        done = apply_to_sequence(recipe, frames, count, exports, fps=fps, masks=masks, engines=engines,
                                 progress=progress)  # fmt: skip
    print(f"stencil apply: {done} frames written to {', '.join(str(p) for p in exports.paths())}", file=sys.stderr)
    return 0
