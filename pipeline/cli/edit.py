"""``stencil remove | inpaint | background | outpaint``: the edit operations from the shell.

Every command takes a file or a folder. With a folder, ``-o`` is a folder too and every image
is processed with a progress bar; MASK may then be a folder whose files pair with the images
by stem (``photos/cat.jpg`` with ``masks/cat.png``) or one file used for every image.
``--engine auto`` says on stderr which engine ran and why.

Each command builds the recipe steps of what it does (``Refine``, the edit, ``Output``) and runs
them with ``pipeline.recipe.apply``, so ``--save-recipe`` and ``stencil apply`` give the same
pixels. The parsers live in ``pipeline.cli.edit_args``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from pipeline.cli.edit_args import add_parsers
from pipeline.cli.guidance import guidance_controls
from pipeline.cli.jobs import Job, UsageError, companion, plan_jobs, run_jobs, tell
from pipeline.cli.recipe_io import RecipeSaver, output_for, refuse_folder, stored
from pipeline.edits import background as bg
from pipeline.edits import outpaint
from pipeline.inpaint.protocol import Prompting
from pipeline.recipe import Edit, ExtendCanvas, Inpaint, Recipe, Refine, Remove, ReplaceBackground, Step
from pipeline.recipe.apply import Engines, apply_edit, refine_mask
from pipeline.settings import Settings
from pipeline.types import Mask

_NO_REFINE = Refine()


def _needs_engine(edit: Edit) -> bool:
    return not isinstance(edit, ReplaceBackground) or isinstance(edit.fill, bg.PromptBackground)


def _engines(args: argparse.Namespace, label: str, edit: Edit) -> Engines:
    """The engines of this run; the inpainter is chosen now (and said on stderr) when the edit uses one."""
    controlnets = tuple(args.controlnet) if getattr(args, "controlnet", None) else None
    settings = Settings().with_overrides(
        device=args.device, inpaint_model=args.inpaint_model, controlnets=controlnets, removal_model=args.removal_model
    )
    engines = Engines(settings=settings)
    if _needs_engine(edit):
        chosen = engines.chosen_removal(edit.engine) if isinstance(edit, Remove) else engines.chosen_engine(edit.engine)
        tell(f"stencil {label}: engine: {chosen.reason}")
    return engines


def _prompting(args: argparse.Namespace, prompt: str | None) -> Prompting:
    """The flags the user gave; every other field keeps ``Prompting``'s default."""
    given: dict[str, Any] = {
        "prompt": prompt, "negative_prompt": args.negative, "seed": args.seed, "steps": args.steps,
        "strength": args.strength, "guidance": args.guidance,
    }  # fmt: skip
    return Prompting(**{name: value for name, value in given.items() if value is not None})


def _mask(args: argparse.Namespace, job: Job, size: tuple[int, int]) -> Mask:
    from pipeline.io.images import load_mask

    if getattr(args, "mask", None) is None:  # outpaint: the edit makes its own mask
        return np.zeros(size[::-1], np.float32)
    return load_mask(companion(args.mask, job.source, "mask"), size=size)


def run_edit(args: argparse.Namespace, label: str, edit: Edit, refine: Refine = _NO_REFINE) -> int:
    """Run ``refine`` then ``edit`` on every photo of ``args.image`` (with its MASK, if any)."""
    from pipeline.io.images import load_image, save_image

    has_mask = getattr(args, "mask", None) is not None
    if has_mask:
        refuse_folder(args, args.image, "the recipe keeps the mask, which fits one photo")
    jobs = plan_jobs(args.image, args.output)
    engines = _engines(args, label, edit)
    steps: tuple[Step, ...] = (*(() if refine.is_identity else (refine,)), edit, output_for(args.output))
    saver = RecipeSaver(args.save_recipe)

    def work(job: Job) -> None:
        loaded = load_image(job.source)
        mask = _mask(args, job, loaded.size)
        if saver.active:
            if has_mask:
                mask, step = stored(mask)
                saver.keep(Recipe((step, *steps)))
            else:
                saver.keep(Recipe(steps))
        result = apply_edit(edit, loaded.rgb, refine_mask(refine, mask, loaded.rgb), engines)
        for warning in result.warnings:
            print(f"stencil {label}: warning: {job.source.name}: {warning}", file=sys.stderr)
        save_image(job.target, result.image, exif=loaded.exif)

    status = run_jobs(jobs, work, label=label)
    saver.write()
    return status


# ---------------------------------------------------------------- commands


def run_remove(args: argparse.Namespace) -> int:
    return run_edit(args, "remove", Remove(grow_px=args.grow, engine=args.engine))


def run_inpaint(args: argparse.Namespace) -> int:
    controls = guidance_controls(args)
    edit = Inpaint(prompting=_prompting(args, args.prompt), engine=args.engine, controls=controls)
    return run_edit(args, "inpaint", edit)


def _fill(args: argparse.Namespace) -> bg.Background:
    if args.color is not None:
        return bg.SolidColor(args.color)
    if args.gradient is not None:
        return bg.Gradient(args.gradient[0], args.gradient[1], angle_deg=args.angle)
    if args.blur is not None:
        return bg.BlurredOriginal(args.blur)
    if args.image_file is not None:
        from pipeline.io.images import load_image

        return bg.ImageBackground(load_image(args.image_file).rgb, fit=args.fit)
    return bg.PromptBackground(_prompting(args, args.prompt))


def run_background(args: argparse.Namespace) -> int:
    shadow = None
    if args.shadow:
        shadow = bg.Shadow(args.shadow_kind, angle_deg=args.shadow_angle, distance_px=args.shadow_distance,
                           softness_px=args.shadow_softness, opacity=args.shadow_opacity)  # fmt: skip
    edit = ReplaceBackground(fill=_fill(args), shadow=shadow, engine=args.engine, controls=guidance_controls(args))
    return run_edit(args, "background", edit, Refine(matte_px=args.matte, feather_px=args.feather))


def run_outpaint(args: argparse.Namespace) -> int:
    sides = (args.left, args.right, args.top, args.bottom)
    if args.aspect is None and not any(sides):
        raise UsageError("say how to extend: --left/--right/--top/--bottom PX or --aspect W:H")
    if args.aspect is not None:
        where: dict[str, Any] = {"aspect": outpaint.parse_aspect(args.aspect)}
    else:
        where = {"padding": outpaint.Padding(*sides)}
    prompting = _prompting(args, args.prompt)
    edit = ExtendCanvas(overlap_px=args.overlap, prompting=prompting, engine=args.engine, **where)
    return run_edit(args, "outpaint", edit)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``remove``, ``inpaint``, ``background`` and ``outpaint`` to the ``stencil`` command."""
    runners = {"remove": run_remove, "inpaint": run_inpaint, "background": run_background, "outpaint": run_outpaint}
    for name, parser in add_parsers(subparsers).items():
        parser.set_defaults(run=runners[name])
