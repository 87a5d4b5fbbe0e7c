"""``stencil apply RECIPE IMAGE -o OUT``: replay a saved recipe on a photo or a folder of photos.

A recipe comes from ``--save-recipe`` of ``stencil mask | refine | remove | inpaint | background |
outpaint`` or from the page. It is read strictly (one error line naming the step and the field,
exit status 2, nothing written) and replayed with ``pipeline.recipe.run`` on each photo, with
the photo's own alpha and, given ``--labels``, its label map. Results are written as the recipe's
``Output.format`` says: the suffix of ``-o`` decides for one file, folders get the format's
suffix. Every file is written through a temporary file and a rename.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np

from pipeline.cli.apply_clip import run_sequence, wants_sequence
from pipeline.cli.jobs import EXIT_ERROR, IMAGE_SUFFIXES, Job, UsageError, companion, plan_jobs, run_jobs, whole
from pipeline.cli.recipe_io import FORMAT_SUFFIX, read_recipe
from pipeline.cli.select import add_backend_options
from pipeline.cli.subject import add_subject_options, subject_settings
from pipeline.edits.background import PromptBackground
from pipeline.recipe import Clicks, LabelClasses, Recipe, ReplaceBackground, Run, run
from pipeline.recipe.batch import (
    Kinds,
    Manifest,
    Row,
    check_generalises,
    check_output_folder,
    make_engines,
    plan,
    remove_partial_files,
)
from pipeline.recipe.pool import run_local
from pipeline.recipe.steps import EDIT_STEPS
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_DESCRIPTION = (
    "Replay RECIPE (from --save-recipe or the page) on IMAGE, or on every photo of a folder. A bad recipe is "
    "refused before any work: one line naming the step and the field, exit status 2, nothing written. The "
    "result is written in the recipe's output format: the suffix of -o decides for a file, a folder's results "
    "get the format's suffix. Steps made on one photo (clicks, a kept mask) replay only on photos of its size. "
    "A clip (or -o ending in .mp4, .webm or .zip) is applied frame by frame: see --masks."
)

_MASK_SUFFIXES = frozenset({".png", ".webp", ".bmp", ".tif", ".tiff"})
_CUTOUT_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``apply`` to the ``stencil`` command."""
    parser = subparsers.add_parser("apply", help="replay a saved recipe on photos", description=_DESCRIPTION)
    add = parser.add_argument
    add("recipe", type=Path, metavar="RECIPE", help="a recipe file (JSON)")
    add("image", type=Path, metavar="IMAGE", help="a photo, or a folder of photos")
    add("-o", "--output", type=Path, required=True, metavar="OUT", help="result file, or a folder for a folder")
    add(
        "--masks",
        type=Path,
        default=None,
        metavar="FOLDER|ZIP",
        help="a clip's masks, one a frame (what stencil track writes): they replace the recipe's mask steps",
    )
    add("--max-frames", type=whole(1, 10_000, unit="frames"), default=300, help="refuse longer clips")
    add("--labels", type=Path, default=None, metavar="FILE|FOLDER", help="label map(s) for label steps, by stem")
    add("--mask-out", type=Path, default=None, metavar="PATH", help="also write the last edit's mask (or the made one)")
    add("--cutout-out", type=Path, default=None, metavar="PATH", help="also write that edit's input cut out, RGBA")
    add("--engine", choices=("auto", "diffusion", "classic"), default="auto", help="engine of the 'auto' edits")
    add("--inpaint-model", default=None, help="diffusers model id, folder or .safetensors file")
    add("--removal-model", type=Path, default=None, help="LaMa TorchScript file (big-lama.pt) for remove steps")
    add("--controlnet", action="append", default=None, metavar="KIND=MODEL",
        help="a ControlNet for the recipe's guidance (seg, canny, mask, image); also STENCIL_CONTROLNET")  # fmt: skip
    add("--device", choices=("auto", "cuda", "cpu"), default=None, help="where models run")
    add("--matte-model", default=None, metavar="ID|DIR", help="ViTMatte for edge mattes: cached hub id or folder")
    add_backend_options(parser)
    add_subject_options(parser)
    batch = parser.add_argument_group("folders (catalogues)")
    batch.add_argument(
        "--workers", type=whole(1, 256, unit="workers"), default=os.cpu_count() or 1, metavar="N",
        help="processes working at once on a folder, each loading its models once (default: every core)",
    )  # fmt: skip
    batch.add_argument(
        "--manifest", type=Path, default=None, metavar="PATH",
        help="the JSON Lines record of a folder run (default OUT/manifest.jsonl); a rerun skips what it shows done",
    )  # fmt: skip
    batch.add_argument(
        "--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
        help="run the folder on Ray Data: 'auto' or ray://host:port for a cluster, none for a local Ray "
        "(pip install -e '.[ray]')",
    )  # fmt: skip
    parser.set_defaults(run=run_apply)


def _check_targets(args: argparse.Namespace) -> None:
    """Refuse, before any work, a result path that could not be written in its format."""
    if args.image.is_dir():
        for path, flag in ((args.mask_out, "--mask-out"), (args.cutout_out, "--cutout-out")):
            if path is not None and path.exists() and not path.is_dir():
                raise UsageError(f"{args.image} is a folder, so {flag} must be a folder too, but {path} is a file")
        return
    checks = (
        (args.output, IMAGE_SUFFIXES, "-o"),
        (args.mask_out, _MASK_SUFFIXES, "--mask-out"),
        (args.cutout_out, _CUTOUT_SUFFIXES, "--cutout-out"),
    )
    for path, allowed, flag in checks:
        if path is not None and not path.is_dir() and path.suffix.lower() not in allowed:
            raise UsageError(f"{flag} {path}: use one of {', '.join(sorted(allowed))}")


def _label_steps(recipe: Recipe, given: Path | None) -> tuple[LabelClasses, ...]:
    """The label steps that take each photo's label map; checks that ``--labels`` matches them."""
    steps = tuple(s for s in recipe.steps if isinstance(s, LabelClasses) and s.labels is None)
    if steps and given is None:
        raise UsageError("this recipe selects label classes; give each photo's label map with --labels FILE|FOLDER")
    if given is not None and not steps:
        raise UsageError("--labels: this recipe has no label step that takes a label map")
    return steps


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings().with_overrides(
        device=args.device,
        inpaint_model=args.inpaint_model,
        removal_model=args.removal_model,
        controlnets=tuple(args.controlnet) if args.controlnet else None,
        sam_model=args.sam_model,
        sam_checkpoint=args.sam_checkpoint,
        sam3_model=args.sam3_model,
        matte_model=args.matte_model,
    )
    return subject_settings(args, settings)


def _kinds(args: argparse.Namespace, recipe: Recipe) -> Kinds:
    """What the recipe's "auto" selector and engine are: ``--segmenter`` and ``--engine`` when they matter."""
    segmenter = args.segmenter if any(isinstance(s, Clicks) for s in recipe.steps) else "auto"
    engine = args.engine if any(_auto_engine(s) for s in recipe.steps) else "auto"
    return segmenter, engine


def _auto_engine(step: object) -> bool:
    if not isinstance(step, EDIT_STEPS) or step.engine != "auto":
        return False
    return not isinstance(step, ReplaceBackground) or isinstance(step.fill, PromptBackground)


def _beside(given: Path, job: Job, folder: bool) -> Path:
    """Where a companion output of ``job`` goes: ``given``, or in that folder under the photo's stem."""
    if folder or given.is_dir():
        given.mkdir(parents=True, exist_ok=True)
        return given / f"{job.source.stem}.png"
    given.parent.mkdir(parents=True, exist_ok=True)
    return given


def _save(args: argparse.Namespace, job: Job, result: Run, exif: bytes | None) -> None:
    from pipeline.io.images import save_image, save_mask, save_rgba

    folder = args.image.is_dir()
    if args.mask_out is not None:
        save_mask(_beside(args.mask_out, job, folder), result.mask)
    if args.cutout_out is not None:
        save_rgba(_beside(args.cutout_out, job, folder), result.cutout)
    save_image(job.target, result.image, exif=exif)


def run_apply(args: argparse.Namespace) -> int:
    from pipeline.io.images import load_image, load_labels

    recipe = read_recipe(args.recipe)
    if wants_sequence(args):
        return run_sequence(args, recipe, make_engines(_settings(args), _kinds(args, recipe)))
    if args.masks is not None:
        raise UsageError("--masks gives a clip's masks; give a clip, or a video or .zip as -o")
    label_steps = _label_steps(recipe, args.labels)
    if args.image.is_dir():
        return run_folder(args, recipe)
    if args.ray is not None:
        raise UsageError("--ray runs a folder of photos; give a folder as IMAGE")
    as_rgb = any(isinstance(c, tuple) for step in label_steps for c in step.classes)
    _check_targets(args)
    jobs = plan_jobs(args.image, args.output, FORMAT_SUFFIX[recipe.output.format])
    engines = make_engines(_settings(args), _kinds(args, recipe))

    def work(job: Job) -> None:
        loaded = load_image(job.source)
        labels: np.ndarray | None = None
        if args.labels is not None:
            labels = load_labels(companion(args.labels, job.source, "label map"), as_rgb=as_rgb, size=loaded.size)
        result = run(recipe, loaded.rgb, engines, alpha=loaded.alpha, labels=labels)
        _save(args, job, result, loaded.exif)

    return run_jobs(jobs, work, label="apply")


def run_folder(args: argparse.Namespace, recipe: Recipe) -> int:
    """A folder: checked before any work, then on the local pool or Ray, with a manifest and a progress bar."""
    from tqdm import tqdm

    check_generalises(recipe)
    for folder in (args.output, args.mask_out, args.cutout_out):
        if folder is not None:
            check_output_folder(args.image, folder)
    items = plan(
        args.image, args.output, recipe, mask_out=args.mask_out, cutout_out=args.cutout_out, labels=args.labels
    )
    manifest = Manifest(args.manifest or args.output / "manifest.jsonl")
    bar = tqdm(total=len(items), desc="apply", unit="photo", file=sys.stderr, disable=len(items) < 2)

    def progress(row: Row) -> None:
        bar.update(1)
        if row.status == "error":
            tqdm.write(f"stencil apply: {Path(row.input).name}: {row.error}", file=sys.stderr)

    try:
        if args.ray is not None:
            from pipeline.recipe.ray_batch import run_ray

            summary = run_ray(recipe, items, manifest, address=args.ray, settings=_settings(args),
                              kinds=_kinds(args, recipe), progress=progress)  # fmt: skip
        else:
            summary = run_local(recipe, items, manifest, workers=args.workers, settings=_settings(args),
                                kinds=_kinds(args, recipe), progress=progress)  # fmt: skip
    finally:
        bar.close()
        remove_partial_files(args.output, args.mask_out, args.cutout_out)
    print(f"stencil apply: {summary.line()}", file=sys.stderr)
    return EXIT_ERROR if summary.failed else 0
