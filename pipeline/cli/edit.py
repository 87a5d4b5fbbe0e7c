"""``stencil remove | inpaint | background | outpaint``: the edit operations from the shell.

Every command takes a file or a folder. With a folder, ``-o`` is a folder too and every image
is processed with a progress bar; MASK may then be a folder whose files pair with the images
by stem (``photos/cat.jpg`` with ``masks/cat.png``) or one file used for every image.
``--engine auto`` says on stderr which engine ran and why.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.cli.jobs import IMAGE_SUFFIXES, Job, UsageError, argument, number, plan_jobs, run_jobs
from pipeline.colors import RGB, parse_color
from pipeline.edits import background as bg
from pipeline.edits import outpaint
from pipeline.edits import remove as edit
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import Inpainter
from pipeline.settings import Settings

_color = argument(parse_color)
_length_px = number(0.0, unit="px")


def parse_gradient(text: str) -> tuple[RGB, RGB]:
    """``C1,C2`` with each colour ``#rrggbb`` or a name."""
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise InvalidInput(f"'{text}' is not two colours; write C1,C2 such as #ffffff,#88aacc")
    return parse_color(parts[0]), parse_color(parts[1])


def _engine(args: argparse.Namespace, label: str) -> Inpainter:
    from pipeline.models import make_inpainter

    settings = Settings().with_overrides(device=args.device, inpaint_model=args.inpaint_model)
    chosen = make_inpainter(args.engine, settings)
    print(f"stencil {label}: engine: {chosen.reason}", file=sys.stderr)
    return chosen.backend


def _mask_for(source: Path, given: Path) -> Path:
    """``given`` itself, or when it is a folder the mask in it named after ``source``."""
    if not given.is_dir():
        if not given.exists():
            raise UsageError(f"mask {given} does not exist")
        return given
    matches = sorted(p for p in given.iterdir() if p.stem == source.stem and p.suffix.lower() in IMAGE_SUFFIXES)
    if not matches:
        raise UsageError(f"no mask named {source.stem}.* in {given}; name each mask after its image")
    return matches[0]


def _run(args: argparse.Namespace, label: str, apply: Callable[[Job], None]) -> int:
    jobs = plan_jobs(args.image, args.output)
    return run_jobs(jobs, apply, label=label)


def _load_pair(job: Job, mask_arg: Path):  # noqa: ANN202 - (image, mask) arrays
    from pipeline.io.images import load_image, load_mask

    loaded = load_image(job.source)
    mask = load_mask(_mask_for(job.source, mask_arg), size=loaded.size)
    return loaded, mask


def _save(job: Job, image, exif: bytes | None) -> None:  # noqa: ANN001
    from pipeline.io.images import save_image

    save_image(job.target, image, exif=exif)


# ---------------------------------------------------------------- commands


def _remove(args: argparse.Namespace) -> int:
    engine = _engine(args, "remove")

    def apply(job: Job) -> None:
        loaded, mask = _load_pair(job, args.mask)
        result = edit.remove(loaded.rgb, mask, engine, grow_px=args.grow)
        _save(job, result.image, loaded.exif)

    return _run(args, "remove", apply)


def _inpaint(args: argparse.Namespace) -> int:
    engine = _engine(args, "inpaint")

    def apply(job: Job) -> None:
        loaded, mask = _load_pair(job, args.mask)
        result = edit.inpaint(
            loaded.rgb, mask, engine, prompt=args.prompt, negative_prompt=args.negative, seed=args.seed,
            steps=args.steps, strength=args.strength, guidance=args.guidance,
        )  # fmt: skip
        _save(job, result.image, loaded.exif)

    return _run(args, "inpaint", apply)


def _background_spec(args: argparse.Namespace) -> bg.Background:
    if args.color is not None:
        return bg.SolidColor(args.color)
    if args.gradient is not None:
        return bg.Gradient(args.gradient[0], args.gradient[1], angle_deg=args.angle)
    if args.blur is not None:
        return bg.BlurredOriginal(args.blur)
    if args.image_file is not None:
        from pipeline.io.images import load_image

        return bg.ImageBackground(load_image(args.image_file).rgb, fit=args.fit)
    return bg.PromptBackground(args.prompt, negative_prompt=args.negative, seed=args.seed, steps=args.steps,
                               guidance=args.guidance)  # fmt: skip


def _background(args: argparse.Namespace) -> int:
    spec = _background_spec(args)
    engine = _engine(args, "background") if isinstance(spec, bg.PromptBackground) else None
    shadow = None
    if args.shadow:
        shadow = bg.Shadow(args.shadow_kind, angle_deg=args.shadow_angle, distance_px=args.shadow_distance,
                           softness_px=args.shadow_softness, opacity=args.shadow_opacity)  # fmt: skip

    def apply(job: Job) -> None:
        from pipeline.edits.matting import refine_edge

        loaded, mask = _load_pair(job, args.mask)
        if args.matte:
            mask = refine_edge(loaded.rgb, mask, band_px=args.matte)
        result = bg.replace_background(loaded.rgb, mask, spec, feather_px=args.feather, shadow=shadow, inpainter=engine)
        _save(job, result.image, loaded.exif)

    return _run(args, "background", apply)


def _outpaint(args: argparse.Namespace) -> int:
    sides = (args.left, args.right, args.top, args.bottom)
    if args.aspect is None and not any(sides):
        raise UsageError("say how to extend: --left/--right/--top/--bottom PX or --aspect W:H")
    aspect = outpaint.parse_aspect(args.aspect) if args.aspect is not None else None
    engine = _engine(args, "outpaint")

    def apply(job: Job) -> None:
        from pipeline.io.images import load_image

        loaded = load_image(job.source)
        if aspect is not None:
            padding = outpaint.padding_for_aspect(loaded.size, aspect)
        else:
            padding = outpaint.Padding(*(int(v) for v in sides))
        result = outpaint.extend_canvas(
            loaded.rgb, padding, engine, overlap_px=args.overlap, prompt=args.prompt or "",
            negative_prompt=args.negative, seed=args.seed, steps=args.steps, guidance=args.guidance,
        )  # fmt: skip
        _save(job, result.image, loaded.exif)

    return _run(args, "outpaint", apply)


# ---------------------------------------------------------------- parsers


def _common(parser: argparse.ArgumentParser, *, mask: bool = True) -> None:
    parser.add_argument("image", type=Path, metavar="IMAGE", help="an image file or a folder of images")
    if mask:
        parser.add_argument("mask", type=Path, metavar="MASK", help="a mask file, or a folder of masks named by stem")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file (a folder for a folder)")
    parser.add_argument("--engine", choices=("auto", "diffusion", "classic"), default="auto",
                        help="inpainting engine (auto: diffusion when a model is configured)")  # fmt: skip
    parser.add_argument("--inpaint-model", default=None, help="diffusers model id, folder or .safetensors file")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default=None, help="where models run")


def _prompting(parser: argparse.ArgumentParser, *, prompt_required: bool) -> None:
    if prompt_required:
        parser.add_argument("--prompt", required=True, help="what to paint")
    parser.add_argument("--negative", default="", help="what to avoid (diffusion only)")
    parser.add_argument("--steps", type=int, default=30, help="denoising steps (diffusion only)")
    parser.add_argument("--guidance", type=float, default=7.5, help="prompt guidance scale (diffusion only)")
    parser.add_argument("--seed", type=int, default=None, help="repeatable results (diffusion only)")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``remove``, ``inpaint``, ``background`` and ``outpaint`` to the ``stencil`` command."""
    remove = subparsers.add_parser("remove", help="remove the masked object and fill the hole")
    _common(remove)
    remove.add_argument("--grow", type=int, default=None, metavar="PX",
                        help=f"grow the mask first (default {edit.REMOVE_GROW_PX} px if small or thin)")  # fmt: skip
    remove.set_defaults(run=_remove)

    paint = subparsers.add_parser("inpaint", help="repaint the masked area from a prompt")
    _common(paint)
    _prompting(paint, prompt_required=True)
    paint.add_argument("--strength", type=float, default=1.0, help="(0, 1]: below 1 keeps the masked structure")
    paint.set_defaults(run=_inpaint)

    back = subparsers.add_parser("background", help="replace the background behind the masked subject")
    _common(back)
    source = back.add_mutually_exclusive_group(required=True)
    source.add_argument("--color", type=_color, help="a flat colour (#RRGGBB, R,G,B or a name)")
    source.add_argument(
        "--gradient", type=argument(parse_gradient), help="two colours C1,C2 (top to bottom; see --angle)"
    )
    source.add_argument("--blur", type=_length_px, metavar="PX", help="blur the original background by PX")
    source.add_argument("--image", dest="image_file", type=Path, metavar="FILE", help="an image as the background")
    source.add_argument("--prompt", help="paint the background from a prompt (diffusion engine)")
    _prompting(back, prompt_required=False)
    back.add_argument("--angle", type=float, default=90.0, help="gradient direction in degrees (90: top to bottom)")
    back.add_argument("--fit", choices=("cover", "fit"), default="cover", help="how --image fills the frame")
    back.add_argument("--feather", type=_length_px, default=0.0, metavar="PX", help="soften the edge outward by PX")
    back.add_argument("--matte", type=int, default=0, metavar="PX",
                      help="refine the mask's edge into a soft matte within PX first (0: off)")  # fmt: skip
    back.add_argument("--shadow", action="store_true", help="add a soft shadow under the subject")
    back.add_argument("--shadow-kind", choices=("drop", "contact"), default="drop")
    back.add_argument("--shadow-angle", type=float, default=60.0, help="direction the shadow falls (90: down)")
    back.add_argument("--shadow-distance", type=_length_px, default=20.0, metavar="PX")
    back.add_argument("--shadow-softness", type=_length_px, default=16.0, metavar="PX")
    back.add_argument("--shadow-opacity", type=float, default=0.45)
    back.set_defaults(run=_background)

    out = subparsers.add_parser("outpaint", help="extend the canvas and fill the new area")
    _common(out, mask=False)
    for side in ("left", "right", "top", "bottom"):
        out.add_argument(f"--{side}", type=int, default=0, metavar="PX", help=f"pixels to add on the {side}")
    out.add_argument("--aspect", default=None, help="extend to an aspect ratio W:H such as 1:1, 4:5, 16:9")
    out.add_argument("--prompt", default=None, help="what to paint in the new area (diffusion only)")
    _prompting(out, prompt_required=False)
    out.add_argument("--overlap", type=int, default=16, metavar="PX", help="feathered overlap into the original")
    out.set_defaults(run=_outpaint)
