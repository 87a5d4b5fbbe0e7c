"""``stencil mask | refine | cutout | iou``: make, refine, apply and score masks from the shell.

Every command takes a file or a folder. With a folder, ``-o`` is a folder too, every image in
it is processed with a progress bar, and a second file argument (the MASK of ``cutout``, the
FILE of ``mask --gray/--labels``, the REFERENCE of ``iou``) may be a folder whose files are
matched to the images by stem (``photos/cat.jpg`` pairs with ``masks/cat.png``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline import masks
from pipeline.cli.jobs import (
    IMAGE_SUFFIXES,
    Job,
    UsageError,
    argument,
    companion,
    ignore_level,
    number,
    plan_jobs,
    run_jobs,
    whole,
)
from pipeline.cli.recipe_io import RecipeSaver, add_save_recipe, refuse_folder, stored
from pipeline.cli.subject import SubjectOnce, add_subject_options
from pipeline.cli.text import TextOnce, add_text_options, text_step
from pipeline.colors import parse_color
from pipeline.io.images import load_gray, load_image, load_labels, load_mask, load_reference, save_mask, save_rgba
from pipeline.recipe import (
    AlphaChannel,
    ColorRange,
    LabelClasses,
    LuminanceRange,
    MaskStep,
    Recipe,
    Refine,
    Subject,
    TextPrompt,
)
from pipeline.recipe.apply import refine_mask
from pipeline.recipe.mask_sources import source_mask
from pipeline.recipe.output import soft_cutout
from pipeline.recipe.steps import MAX_FEATHER_PX, MAX_GROW_PX
from pipeline.types import Mask

LabelClass = int | tuple[int, int, int]
_FOLDERS = (
    "IMAGE may be a folder: then -o is a folder and every image in it is processed; a FILE or MASK "
    "argument may then be a folder too, its files matched to the images by stem."
)


# ---------------------------------------------------------------- argument types


def _classes(text: str) -> list[LabelClass]:
    """``3``, ``3,5`` or ``#ff0000,#00ff00``: class ids or label colours."""
    chosen: list[LabelClass] = []
    for token in filter(None, (part.strip() for part in text.split(","))):
        if token.isdigit():
            chosen.append(int(token))
        else:
            chosen.append(parse_color(token))
    if not chosen:
        raise argparse.ArgumentTypeError("--class needs a class id or a #RRGGBB colour")
    return chosen


def _level_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(":")
    try:
        bounds = float(low), float(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a range; write LO:HI, e.g. 0.6:1") from None
    if not 0.0 <= bounds[0] <= bounds[1] <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}' must satisfy 0 <= LO <= HI <= 1 (brightness from 0 to 1)")
    return bounds


# ---------------------------------------------------------------- stencil mask


def _source_step(args: argparse.Namespace) -> MaskStep | None:
    """The recipe step of the chosen source; None for ``--gray`` (a gray map belongs to one photo)."""
    if args.subject:
        return Subject(engine=args.subject_engine)
    if args.text is not None:
        return text_step(args)
    if args.alpha:
        return AlphaChannel(threshold=args.threshold)
    if args.labels is not None:
        return LabelClasses(classes=tuple(c for group in args.classes for c in group))
    if args.color is not None:
        tolerance = masks.DEFAULT_COLOR_TOLERANCE if args.tolerance is None else args.tolerance
        return ColorRange(color=args.color, tolerance=tolerance)
    if args.luminance is not None:
        low, high = args.luminance
        return LuminanceRange(low=low, high=high)
    return None


def _mask_for(
    args: argparse.Namespace, step: MaskStep | None, source: Path, subject: SubjectOnce, text: TextOnce
) -> Mask:
    loaded = load_image(source)
    if isinstance(step, Subject):
        return subject.find(loaded.rgb)
    if isinstance(step, TextPrompt):
        return text.mask(loaded.rgb, step)
    size, resize = loaded.size, args.resize_mask
    if step is None:
        gray = load_gray(companion(args.gray, source, "gray map"), size=size, resize=resize)
        return masks.from_gray(gray, threshold=args.threshold)
    labels = None
    if isinstance(step, LabelClasses):
        as_rgb = any(isinstance(c, tuple) for c in step.classes)
        labels = load_labels(companion(args.labels, source, "label map"), as_rgb=as_rgb, size=size, resize=resize)
    return source_mask(step, loaded.rgb, alpha=loaded.alpha, labels=labels)


def _check_mask_args(args: argparse.Namespace) -> None:
    if args.labels is not None and not args.classes:
        raise UsageError("--labels needs --class K (an id or #RRGGBB; repeat it or separate with commas)")
    if args.classes and args.labels is None:
        raise UsageError("--class only applies to --labels FILE")
    if args.tolerance is not None and args.color is None:
        raise UsageError("--tolerance only applies to --color")
    if args.threshold is not None and not (args.alpha or args.gray is not None):
        raise UsageError("--threshold only applies to --alpha and --gray")
    if args.instances is not None and args.text is None:
        raise UsageError("--instances only applies to --text")


def run_mask(args: argparse.Namespace) -> int:
    _check_mask_args(args)
    step = _source_step(args)
    if step is None:
        refuse_folder(args, args.image, "a --gray mask is kept in the recipe and fits one photo")
    jobs = plan_jobs(args.image, args.output)
    saver = RecipeSaver(args.save_recipe)
    subject, text = SubjectOnce(args), TextOnce(args)

    def work(job: Job) -> None:
        mask = _mask_for(args, step, job.source, subject, text)
        if saver.active:
            if step is None:
                mask, kept = stored(mask, "gray")
                saver.keep(Recipe((kept,)))
            else:
                saver.keep(Recipe((step,)))
        save_mask(job.target, mask)

    status = run_jobs(jobs, work, label="mask")
    saver.write()
    return status


# ---------------------------------------------------------------- stencil refine


def _refine_step(args: argparse.Namespace) -> Refine:
    """The ``Refine`` the flags ask for (see its docstring for the order and the outward feather)."""
    if args.grow and args.shrink:
        raise UsageError("--grow and --shrink cannot be used together; give one of them")
    return Refine(
        fill_holes=args.fill_holes, min_speck_px=args.min_island, grow_px=args.grow or -args.shrink,
        invert=args.invert, feather_px=args.feather,
    )  # fmt: skip


def run_refine(args: argparse.Namespace) -> int:
    refine = _refine_step(args)
    if refine.is_identity:
        raise UsageError("nothing to do: give --grow, --shrink, --feather, --invert, --fill-holes or --min-island")
    refuse_folder(args, args.mask, "the recipe keeps the mask, which fits one photo")
    saver = RecipeSaver(args.save_recipe)

    def work(job: Job) -> None:
        mask = load_mask(job.source)
        if saver.active:
            mask, kept = stored(mask)
            saver.keep(Recipe((kept, refine)))
        save_mask(job.target, refine_mask(refine, mask))

    status = run_jobs(plan_jobs(args.mask, args.output), work, label="refine")
    saver.write()
    return status


# ---------------------------------------------------------------- stencil cutout and iou


def run_cutout(args: argparse.Namespace) -> int:
    def work(job: Job) -> None:
        loaded = load_image(job.source)
        mask = load_mask(companion(args.mask, job.source, "mask"), size=loaded.size, resize=args.resize_mask)
        if loaded.alpha is not None:  # what was already transparent stays transparent
            mask = (mask * loaded.alpha).astype(np.float32)
        save_rgba(job.target, soft_cutout(loaded.rgb, mask))

    return run_jobs(plan_jobs(args.image, args.output), work, label="cutout")


def run_iou(args: argparse.Namespace) -> int:
    folder = args.mask.is_dir()
    sources: list[Path] = []
    if folder:
        sources = sorted(p for p in args.mask.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not sources:
            raise UsageError(f"folder {args.mask} holds no masks")
    elif not args.mask.exists():
        raise UsageError(f"{args.mask} does not exist")
    scores: list[float] = []

    def work(job: Job) -> None:
        mask = load_mask(job.source)
        reference_path = companion(job.target, job.source, "reference")
        reference, ignore = load_reference(
            reference_path, ignore_value=args.ignore, size=(mask.shape[1], mask.shape[0])
        )
        scores.append(masks.iou(mask, reference, ignore=ignore))
        print(f"{job.source.stem}\t{scores[-1]:.4f}" if folder else f"{scores[-1]:.4f}")

    jobs = [Job(p, args.reference) for p in sources] if folder else [Job(args.mask, args.reference)]
    status = run_jobs(jobs, work, label="iou")
    if folder and scores:
        print(f"mean\t{float(np.mean(scores)):.4f}\t({len(scores)} masks)")
    return status


# ---------------------------------------------------------------- registration


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``mask``, ``refine``, ``cutout`` and ``iou`` to the ``stencil`` command."""
    _add_mask(subparsers)
    _add_refine(subparsers)
    cutout = subparsers.add_parser(
        "cutout", help="cut the masked part out as a transparent PNG", description=_FOLDERS.replace("FILE or ", "")
    )
    cutout.add_argument("image", type=Path, metavar="IMAGE", help="an image, or a folder of images")
    cutout.add_argument("mask", type=Path, metavar="MASK", help="its mask, or a folder of masks named like the images")
    cutout.add_argument("--resize-mask", action="store_true", help="scale a mask of another size to the image")
    cutout.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.png", help="RGBA file or folder")
    cutout.set_defaults(run=run_cutout)
    iou = subparsers.add_parser(
        "iou",
        help="print the intersection over union of a mask and a reference",
        description="Both are read at 0.5. With a folder of masks, prints one line per mask (stem, IoU) "
        "and then the mean; REFERENCE is then a folder whose files are matched by stem.",
    )
    iou.add_argument("mask", type=Path, metavar="MASK", help="a mask, or a folder of masks (prints each and the mean)")
    iou.add_argument("reference", type=Path, metavar="REFERENCE", help="the true mask, or a folder named by stem")
    iou.add_argument(
        "--ignore", type=ignore_level, default=128, metavar="LEVEL",
        help="reference level left out of the score (default 128, GrabCut's boundary band; 'none' for none)",
    )  # fmt: skip
    iou.set_defaults(run=run_iou)


def _add_mask(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "mask",
        help="make a mask from the subject, alpha, a gray map, labels, colour or brightness",
        description=_FOLDERS,
    )
    parser.add_argument("image", type=Path, metavar="IMAGE", help="an image, or a folder of images")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--alpha", action="store_true", help="the image's own transparency")
    source.add_argument("--gray", type=Path, metavar="FILE", help="a gray map (soft unless --threshold)")
    source.add_argument("--labels", type=Path, metavar="FILE", help="a label map; pick classes with --class")
    source.add_argument("--color", type=argument(parse_color), metavar="#RRGGBB", help="pixels near this colour")
    source.add_argument("--luminance", type=_level_range, metavar="LO:HI", help="brightness in [LO, HI], 0..1")
    source.add_argument("--subject", action="store_true", help="the product, found with no clicks")
    source.add_argument("--text", metavar="NAME", help="every instance of NAME ('bottle', 'red cup'), found by SAM 3")
    parser.add_argument(
        "--threshold", type=number(0.0, 1.0), metavar="T", help="binarise --alpha/--gray at T in [0, 1]"
    )
    parser.add_argument(
        "--class", dest="classes", action="append", type=argument(_classes), default=[], metavar="K",
        help="label id or #RRGGBB colour; repeat it or separate with commas",
    )  # fmt: skip
    parser.add_argument(
        "--tolerance", type=number(0.0, 400.0), metavar="T",
        help=f"Delta-E distance accepted by --color (default {masks.DEFAULT_COLOR_TOLERANCE:g}; 2.3 is just visible)",
    )  # fmt: skip
    add_subject_options(parser)
    add_text_options(parser)
    parser.add_argument("--resize-mask", action="store_true", help="scale a FILE of another size to the image")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="MASK.png", help="mask file or folder")
    add_save_recipe(
        parser,
        "--subject, --text, --alpha, --color and --luminance recipes replay on any photo; --labels ones on any "
        "photo given its own label map ('stencil apply --labels'); a --gray recipe keeps this mask, so it needs "
        "one photo and replays only on photos of its size.",
    )
    parser.set_defaults(run=run_mask)


def _add_refine(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "refine", help="grow, shrink, feather, invert or clean a mask",
        description="Steps run in this order: invert, fill holes, drop islands, grow or shrink, feather "
        "(outward only: what the mask fully selects stays selected). --grow and --shrink exclude each other. "
        "MASK may be a folder: then -o is a folder and every mask in it is refined.",
    )  # fmt: skip
    parser.add_argument("mask", type=Path, metavar="MASK", help="a mask, or a folder of masks")
    parser.add_argument("--grow", type=whole(0, MAX_GROW_PX), default=0, metavar="PX", help="dilate by PX pixels")
    parser.add_argument("--shrink", type=whole(0, MAX_GROW_PX), default=0, metavar="PX", help="erode by PX pixels")
    parser.add_argument("--feather", type=number(0.0, MAX_FEATHER_PX, unit="px"), default=0.0, metavar="PX",
                        help="soften the edge outward over PX pixels (what is selected stays selected)")  # fmt: skip
    parser.add_argument("--invert", action="store_true", help="select everything else")
    parser.add_argument("--fill-holes", action="store_true", help="fill holes enclosed by the selection")
    parser.add_argument("--min-island", type=whole(0, 100_000_000, unit="pixels"), default=0, metavar="PX",
                        help="drop islands under PX pixels in area")  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.png", help="mask file or folder")
    add_save_recipe(parser, "The recipe keeps MASK, so it replays only on photos of its size; MASK must be one file.")
    parser.set_defaults(run=run_refine)
