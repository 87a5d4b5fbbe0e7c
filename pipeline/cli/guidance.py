"""``--control`` and its settings: the ControlNet guidance of ``stencil inpaint`` and ``stencil background``.

``--control`` names a control kind (``seg``, ``canny``, ``mask``) or a control image file; ``seg``
takes its map from ``--seg-map FILE`` or ``--control seg=FILE`` (ADE20K ids, or colours in the
ADE20K palette). Every control gets ``--control-scale``, ``--control-start`` and ``--control-end``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.cli.jobs import UsageError
from pipeline.inpaint.control import Control

NAMED = ("seg", "canny", "mask")


def guidance_controls(args: argparse.Namespace) -> tuple[Control, ...]:
    """The ``Control`` of each ``--control`` (none without the flag); bad values are one clear error."""
    controls = []
    for given in args.control:
        kind, _, path = given.partition("=") if given.startswith("seg=") else (given, "", "")
        common = {"scale": args.control_scale, "start": args.control_start, "end": args.control_end}
        if kind == "canny":
            controls.append(Control(kind="canny", low=args.canny_low, high=args.canny_high, **common))
        elif kind == "mask":
            controls.append(Control(kind="mask", **common))
        elif kind == "seg":
            source = Path(path) if path else args.seg_map
            if source is None:
                raise UsageError("--control seg needs the segmentation map: --seg-map FILE (or --control seg=FILE)")
            unknown = "unknown" if args.seg_unknown else "error"
            controls.append(Control(kind="seg", picture=_seg_map(source), unknown=unknown, **common))
        else:
            controls.append(Control(kind="image", picture=_control_image(Path(given)), **common))
    return tuple(controls)


def _seg_map(path: Path) -> np.ndarray:
    from pipeline.io.images import load_labels

    if not path.is_file():
        raise UsageError(f"segmentation map {path} does not exist")
    return load_labels(path)


def _control_image(path: Path) -> np.ndarray:
    from pipeline.io.images import load_image

    if not path.is_file():
        raise UsageError(f"--control {path}: not seg, canny or mask, and no such control image file")
    return load_image(path).rgb
