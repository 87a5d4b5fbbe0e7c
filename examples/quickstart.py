"""Stencil without the browser: mask a product, refine the mask, put it on a new background.

    python examples/quickstart.py                       # the white-studio bottle, colour key
    python examples/quickstart.py --example mug_paper   # a click selection (classical selector)
    python examples/quickstart.py --true-mask           # start from the example's true mask

Writes ``<name>.mask.png``, ``<name>.cutout.png`` (transparent PNG) and ``<name>.result.png``
(the product on the suggested background colour) into ``--out`` (default ``quickstart-out``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.catalog import get_example  # noqa: E402
from examples.suggest import suggested_mask  # noqa: E402
from pipeline import masks  # noqa: E402
from pipeline.io.images import load_image, load_mask, save_image, save_mask, save_rgba  # noqa: E402
from pipeline.masks import compose  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mask an example photo and replace its background.")
    parser.add_argument("--example", default="studio_bottle", help="catalog name (default: studio_bottle)")
    parser.add_argument("--true-mask", action="store_true", help="use the example's true mask as the source")
    parser.add_argument("--feather", type=float, default=1.5, help="feather radius in px (default: 1.5)")
    parser.add_argument("--out", type=Path, default=Path("quickstart-out"), help="output folder")
    args = parser.parse_args(argv)

    example = get_example(args.example)
    image = load_image(example.file).rgb  # (H, W, 3) uint8 RGB
    true_mask = load_mask(example.mask_file, size=example.size)  # (H, W) float32 in [0, 1]

    # 1. a mask from a source: the suggested one (colour key, clicks, ...) or the true mask
    mask = true_mask if args.true_mask else suggested_mask(example, image)
    # 2. refine: close small holes, drop specks, soften the edge a little
    mask = masks.fill_holes(mask, max_hole_px=2000)
    mask = masks.remove_islands(mask, min_area_px=500)
    mask = masks.feather(mask, radius_px=args.feather)
    # 3. edit: the product on a plain background of the suggested colour (white if none)
    color = example.operation.color or (255, 255, 255)
    background = np.empty_like(image)
    background[:] = color
    result = compose.composite(image, background, mask)

    args.out.mkdir(parents=True, exist_ok=True)
    save_mask(args.out / f"{example.name}.mask.png", mask)
    save_rgba(args.out / f"{example.name}.cutout.png", compose.cutout(image, mask))
    save_image(args.out / f"{example.name}.result.png", result)
    score = masks.iou(masks.threshold(mask), masks.threshold(true_mask))
    print(f"{example.title}: {example.mask_source.source} mask, IoU {score:.3f} against the true mask")
    print(f"wrote {example.name}.mask.png, .cutout.png and .result.png to {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
