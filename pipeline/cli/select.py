"""``stencil select | eval-clicks``: click selection from the shell, and its benchmark.

``select`` turns clicks (and an optional box) into a mask with the chosen backend; IMAGE may
be a folder, in which case the same clicks are applied to every image in it. ``eval-clicks``
runs the standard click-simulation protocol (``pipeline.select.clicks``) over a folder of images and
a folder of ground-truth masks matched by stem, and ends with one summary line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline.cli.jobs import IMAGE_SUFFIXES, Job, UsageError, ignore_level, plan_jobs, run_jobs, tell
from pipeline.errors import InvalidInput
from pipeline.settings import Settings
from pipeline.types import Box, Point

log = logging.getLogger(__name__)


def _point(text: str) -> Point:
    """``X,Y`` or ``X,Y,+`` (object) / ``X,Y,-`` (background), in image pixels."""
    parts = [p.strip() for p in text.split(",")]
    sign = parts.pop() if len(parts) == 3 else "+"
    try:
        if len(parts) != 2 or sign not in ("+", "-"):
            raise ValueError
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a click; write X,Y or X,Y,+ or X,Y,- (pixels)") from None
    try:
        return Point(x, y, sign == "+")
    except InvalidInput as error:  # argparse would hide the message of a ValueError
        raise argparse.ArgumentTypeError(str(error)) from None


def _box(text: str) -> Box:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a box; write X0,Y0,X1,Y1 (pixels)") from None
    try:
        return Box(x0, y0, x1, y1)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """``--segmenter``, ``--sam-model``, ``--sam-checkpoint`` and ``--sam3-model`` (also used by ``stencil apply``)."""
    parser.add_argument("--segmenter", choices=("auto", "sam", "sam3", "classic"), default="auto",
                        help="auto: SAM when a checkpoint is found, else the classical selector; "
                             "sam3: SAM 3's point prompts (see --sam3-model)")  # fmt: skip
    parser.add_argument("--sam-model", choices=("vit_b", "vit_l", "vit_h"), default=None, help="SAM variant")
    parser.add_argument("--sam-checkpoint", type=Path, default=None, help="a SAM .pth checkpoint")
    parser.add_argument("--sam3-model", default=None, metavar="ID|DIR",
                        help="SAM 3 for --segmenter sam3 and text steps: a cached hub id or a folder "
                             "(else STENCIL_SAM3_MODEL, else facebook/sam3 when cached)")  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``select`` and ``eval-clicks`` to the ``stencil`` command."""
    select = subparsers.add_parser("select", help="select an object from clicks and/or a box")
    select.add_argument("image", type=Path, metavar="IMAGE", help="an image, or a folder of images")
    select.add_argument("--point", type=_point, action="append", default=[], metavar="X,Y[,+|-]",
                        help="a click in image pixels; + (default) is object, - is background; repeatable")  # fmt: skip
    select.add_argument("--box", type=_box, default=None, metavar="X0,Y0,X1,Y1", help="a box around the object")
    add_backend_options(select)
    select.add_argument("--candidate", type=int, default=1, metavar="N",
                        help="which candidate mask to save, 1 = the best (default)")  # fmt: skip
    select.add_argument("-o", "--output", type=Path, required=True, metavar="MASK.png",
                        help="the mask file (a folder when IMAGE is a folder)")  # fmt: skip
    select.set_defaults(run=run_select)

    evaluate = subparsers.add_parser("eval-clicks", help="NoC / mIoU of a selector under simulated clicks")
    evaluate.add_argument("--images", type=Path, required=True, help="folder of images")
    evaluate.add_argument("--masks", type=Path, required=True, help="folder of ground-truth masks (same stems)")
    add_backend_options(evaluate)
    evaluate.add_argument("--max-clicks", type=int, default=20, help="clicks per image at most (default 20)")
    evaluate.add_argument("--ignore", type=ignore_level, default=128, metavar="LEVEL",
                          help="mask level left out of the metrics (default 128, 'none' for no band)")  # fmt: skip
    evaluate.set_defaults(run=run_eval_clicks)


def _segmenter(args: argparse.Namespace):
    from pipeline.models import make_segmenter

    settings = Settings().with_overrides(
        sam_model=args.sam_model, sam_checkpoint=args.sam_checkpoint, sam3_model=args.sam3_model
    )
    chosen = make_segmenter(args.segmenter, settings)
    log.info("segmenter: %s", chosen.reason)
    tell(f"stencil: {chosen.reason}")
    return chosen.backend


def run_select(args: argparse.Namespace) -> int:
    from pipeline.io.images import load_image, save_mask

    if not args.point and args.box is None:
        raise UsageError("select needs at least one --point X,Y or a --box X0,Y0,X1,Y1")
    if args.candidate < 1:
        raise UsageError(f"--candidate {args.candidate}: candidates are numbered from 1 (the best)")
    jobs = plan_jobs(args.image, args.output)
    segmenter = _segmenter(args)

    def work(job: Job) -> None:
        image = load_image(job.source).rgb
        selection = segmenter.select(segmenter.prepare(image), tuple(args.point), args.box)
        index = min(args.candidate, len(selection.candidates)) - 1
        if index != args.candidate - 1:
            log.warning("%s: only %d candidates; saving the last", job.source.name, len(selection.candidates))
        save_mask(job.target, selection.candidates[index].mask)

    return run_jobs(jobs, work, label="select")


def _pairs(images: Path, masks: Path) -> list[tuple[Path, Path]]:
    for folder in (images, masks):
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
    references = {p.stem: p for p in masks.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
    pairs = []
    for path in sorted(p for p in images.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        if path.stem in references:
            pairs.append((path, references[path.stem]))
        else:
            log.warning("%s: no mask named %s.* in %s; skipped", path.name, path.stem, masks)
            print(f"stencil: warning: {path.name} has no mask in {masks}; skipped", file=sys.stderr)
    if not pairs:
        raise UsageError(f"no image in {images} has a mask with the same stem in {masks}")
    return pairs


def run_eval_clicks(args: argparse.Namespace) -> int:
    from pipeline.io.images import load_image, load_reference
    from pipeline.select.clicks import run_protocol, summarize

    if args.max_clicks < 1:
        raise UsageError(f"--max-clicks {args.max_clicks}: give at least 1")
    pairs = _pairs(args.images, args.masks)
    segmenter = _segmenter(args)
    curves = []
    print(f"{'image':24s} {'NoC@85':>6s} {'NoC@90':>6s} {'IoU@1':>6s} {'IoU@5':>6s} {'clicks':>6s}")
    for image_path, mask_path in pairs:
        image = load_image(image_path).rgb
        truth, ignore = load_reference(mask_path, ignore_value=args.ignore, size=(image.shape[1], image.shape[0]))
        curve = run_protocol(
            segmenter, image, truth >= 0.5, ignore, name=image_path.stem, max_clicks=args.max_clicks,
            min_clicks=min(5, args.max_clicks),
        )  # fmt: skip
        curves.append(curve)
        print(
            f"{image_path.stem:24s} {curve.noc(0.85):6d} {curve.noc(0.90):6d} "
            f"{curve.iou_at(1):6.3f} {curve.iou_at(5):6.3f} {len(curve.ious):6d}",
            flush=True,
        )
    print(summarize(curves).line())
    return 0
