"""``stencil matte``: a mask's edge refined into an alpha matte (8-bit grey), and its cutout.

A trimap is made from the mask's boundary band (``--band PX`` on each side, or automatic from the
photo's size), the band is solved by the chosen matter (ViTMatte when configured, else the
classical closed-form matte), and the alpha is written as 8-bit grey. ``--cutout-out`` also
writes the RGBA cutout with edge colours freed of the old background.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from pipeline.cli.jobs import Job, UsageError, companion, plan_jobs, run_jobs, tell, whole
from pipeline.edits.matting import MAX_BAND_PX, Matter, auto_band_px, refine_edge, trimap
from pipeline.io.images import load_image, load_mask, save_mask, save_rgba
from pipeline.recipe.output import soft_cutout
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def add_matte_options(parser: argparse.ArgumentParser) -> None:
    """``--matte-engine`` and ``--matte-model``."""
    parser.add_argument(
        "--matte-engine", choices=("auto", "vitmatte", "classic"), default="auto",
        help="auto: ViTMatte when a model is set or cached, else the classical closed-form matte",
    )  # fmt: skip
    parser.add_argument(
        "--matte-model", default=None, metavar="ID|DIR",
        help="ViTMatte: a cached Hugging Face id or a local folder (or STENCIL_MATTE_MODEL)",
    )  # fmt: skip


def matter_for(args: argparse.Namespace) -> Matter:
    """The matter the flags ask for; says on stderr which one and why."""
    from pipeline.models import make_matter

    settings = Settings().with_overrides(matte_model=args.matte_model, device=getattr(args, "device", None))
    chosen = make_matter(args.matte_engine, settings)
    tell(f"stencil: {chosen.reason}")
    return chosen.backend


def _cutout_target(args: argparse.Namespace, job: Job) -> Path | None:
    if args.cutout_out is None:
        return None
    return args.cutout_out / f"{job.source.stem}.png" if args.image.is_dir() else args.cutout_out


def run_matte(args: argparse.Namespace) -> int:
    jobs = plan_jobs(args.image, args.output)
    if args.cutout_out is not None and args.image.is_dir():
        if args.cutout_out.exists() and not args.cutout_out.is_dir():
            raise UsageError(f"{args.image} is a folder, so --cutout-out must be a folder too")
        args.cutout_out.mkdir(parents=True, exist_ok=True)
    matter: list[Matter] = []

    def work(job: Job) -> None:
        loaded = load_image(job.source)
        mask = load_mask(companion(args.mask, job.source, "mask"), size=loaded.size, resize=args.resize_mask)
        trimap(mask, args.band or auto_band_px(mask.shape))  # an empty or full mask fails here, first
        if not matter:
            matter.append(matter_for(args))
        alpha = refine_edge(loaded.rgb, mask, band_px=args.band, matter=matter[0])
        if loaded.alpha is not None:  # what was already transparent stays transparent
            alpha = (alpha * loaded.alpha).astype(np.float32)
        save_mask(job.target, alpha)
        cutout = _cutout_target(args, job)
        if cutout is not None:
            save_rgba(cutout, soft_cutout(loaded.rgb, alpha))

    return run_jobs(jobs, work, label="matte")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``matte`` to the ``stencil`` command."""
    parser = subparsers.add_parser(
        "matte", help="refine a mask's edge into a soft alpha matte (hair, fur, glass)",
        description=__doc__.split("\n\n")[1] + " IMAGE may be a folder: MASK and -o are then folders too.",
    )  # fmt: skip
    parser.add_argument("image", type=Path, metavar="IMAGE", help="an image, or a folder of images")
    parser.add_argument("mask", type=Path, metavar="MASK", help="its mask, or a folder of masks named like the images")
    parser.add_argument(
        "--band", type=whole(1, MAX_BAND_PX), default=None, metavar="PX",
        help="unknown band on each side of the mask's edge (default: automatic, 8 px per 800 px of the longer side)",
    )  # fmt: skip
    add_matte_options(parser)
    parser.add_argument("--resize-mask", action="store_true", help="scale a mask of another size to the image")
    parser.add_argument("--cutout-out", type=Path, default=None, metavar="PATH", help="also write the RGBA cutout")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="ALPHA.png", help="alpha file or folder")
    parser.set_defaults(run=run_matte)
