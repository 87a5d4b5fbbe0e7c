"""The command lines of ``stencil remove | inpaint | background | outpaint`` (run by ``pipeline.cli.edit``).

Defaults of the prompt settings are not repeated here: a flag left out keeps ``Prompting``'s
default, and the help text reads it from there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli.jobs import argument, number, whole
from pipeline.cli.recipe_io import PHOTO_SPECIFIC, add_save_recipe
from pipeline.colors import RGB, parse_color
from pipeline.edits import remove as edit
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import DEFAULT_PROMPTING
from pipeline.recipe.steps import MAX_FEATHER_PX, MAX_GROW_PX, MAX_MATTE_PX

_color = argument(parse_color)
_length_px = number(0.0, unit="px")


def parse_gradient(text: str) -> tuple[RGB, RGB]:
    """``C1,C2`` with each colour ``#rrggbb`` or a name."""
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise InvalidInput(f"'{text}' is not two colours; write C1,C2 such as #ffffff,#88aacc")
    return parse_color(parts[0]), parse_color(parts[1])


def _common(parser: argparse.ArgumentParser, *, mask: bool = True) -> None:
    parser.add_argument("image", type=Path, metavar="IMAGE", help="an image file or a folder of images")
    if mask:
        parser.add_argument("mask", type=Path, metavar="MASK", help="a mask file, or a folder of masks named by stem")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output file (a folder for a folder)")
    parser.add_argument("--engine", choices=("auto", "diffusion", "classic"), default="auto",
                        help="inpainting engine (auto: diffusion when a model is configured)")  # fmt: skip
    parser.add_argument("--inpaint-model", default=None, help="diffusers model id, folder or .safetensors file")
    parser.add_argument("--removal-model", type=Path, default=None,
                        help="LaMa TorchScript file (big-lama.pt) for remove; else the exemplar fill")  # fmt: skip
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default=None, help="where models run")
    add_save_recipe(parser, PHOTO_SPECIFIC if mask else "It replays on any photo.")


def _guidance(parser: argparse.ArgumentParser) -> None:
    """ControlNet guidance: which control images, and the Edit step's scale and start/end."""
    add = parser.add_argument
    add("--control", action="append", default=[], metavar="seg[=MAP]|canny|mask|PATH",
        help="guide the diffusion engine with a ControlNet (repeat for several): seg (an ADE20K label or colour "
             "map, --seg-map), canny (the photo's edges), mask (inpainting ControlNet) or an image file")  # fmt: skip
    add("--controlnet", action="append", default=None, metavar="KIND=MODEL",
        help="load a ControlNet for KIND (seg, canny, mask, image): model id, folder or .safetensors "
             "(also STENCIL_CONTROLNET=seg=ID,canny=ID)")  # fmt: skip
    add("--seg-map", type=Path, default=None, metavar="FILE", help="the label map (ADE20K ids) or colour map for seg")
    add("--seg-unknown", action="store_true", help="draw seg colours or ids outside ADE20K as unknown (else an error)")
    add("--control-scale", type=float, default=1.0, metavar="S", help="conditioning scale, 0 to 2 (default 1)")
    add("--control-start", type=float, default=0.0, metavar="F", help="guidance starts at this fraction of steps")
    add("--control-end", type=float, default=1.0, metavar="F", help="guidance ends at this fraction of steps")
    add("--canny-low", type=int, default=100, metavar="T", help="Canny low threshold (default 100)")
    add("--canny-high", type=int, default=200, metavar="T", help="Canny high threshold (default 200)")


def _prompting(parser: argparse.ArgumentParser, *, prompt_required: bool) -> None:
    given = DEFAULT_PROMPTING
    if prompt_required:
        parser.add_argument("--prompt", required=True, help="what to paint")
    add = parser.add_argument
    add("--negative", default=None, help="what to avoid (diffusion only)")
    add("--steps", type=int, default=None, help=f"denoising steps (default {given.steps}; diffusion only)")
    add("--guidance", type=float, default=None, help=f"guidance scale (default {given.guidance:g}; diffusion only)")
    add("--strength", type=float, default=None, help=f"(0, 1], default {given.strength:g}: below 1 keeps structure")
    add("--seed", type=int, default=None, help="repeatable results (default random; diffusion only)")


def _add_background(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
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
    _guidance(back)
    back.add_argument("--angle", type=float, default=90.0, help="gradient direction in degrees (90: top to bottom)")
    back.add_argument("--fit", choices=("cover", "fit"), default="cover", help="how --image fills the frame")
    back.add_argument("--feather", type=number(0.0, MAX_FEATHER_PX, unit="px"), default=0.0, metavar="PX",
                      help="soften the edge outward by PX (the subject's own pixels stay exact)")  # fmt: skip
    back.add_argument("--matte", type=whole(0, MAX_MATTE_PX), default=0, metavar="PX",
                      help="refine the mask's edge into a soft matte within PX first (0: off)")  # fmt: skip
    back.add_argument("--shadow", action="store_true", help="add a soft shadow under the subject")
    back.add_argument("--shadow-kind", choices=("drop", "contact"), default="drop")
    back.add_argument("--shadow-angle", type=float, default=60.0, help="direction the shadow falls (90: down)")
    back.add_argument("--shadow-distance", type=_length_px, default=20.0, metavar="PX")
    back.add_argument("--shadow-softness", type=_length_px, default=16.0, metavar="PX")
    back.add_argument("--shadow-opacity", type=float, default=0.45)
    return back


def add_parsers(subparsers: argparse._SubParsersAction) -> dict[str, argparse.ArgumentParser]:  # type: ignore[type-arg]
    """Add the four edit commands' parsers; returns them by name (the caller sets ``run``)."""
    remove = subparsers.add_parser("remove", help="remove the masked object and fill the hole")
    _common(remove)
    remove.add_argument("--grow", type=whole(0, MAX_GROW_PX), default=None, metavar="PX",
                        help=f"grow the mask first (default {edit.REMOVE_GROW_PX} px if small or thin)")  # fmt: skip

    paint = subparsers.add_parser("inpaint", help="repaint the masked area from a prompt")
    _common(paint)
    _prompting(paint, prompt_required=True)
    _guidance(paint)
    back = _add_background(subparsers)

    out = subparsers.add_parser("outpaint", help="extend the canvas and fill the new area")
    _common(out, mask=False)
    for side in ("left", "right", "top", "bottom"):
        out.add_argument(f"--{side}", type=int, default=0, metavar="PX", help=f"pixels to add on the {side}")
    out.add_argument("--aspect", default=None, help="extend to an aspect ratio W:H such as 1:1, 4:5, 16:9")
    out.add_argument("--prompt", default=None, help="what to paint in the new area (diffusion only)")
    _prompting(out, prompt_required=False)
    out.add_argument("--overlap", type=whole(0, 256), default=16, metavar="PX",
                     help="feathered overlap into the original")  # fmt: skip
    return {"remove": remove, "inpaint": paint, "background": back, "outpaint": out}
