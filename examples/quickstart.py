"""Stencil without the browser: a recipe that masks a product, refines the mask and puts it on a
new background, replayed on an example photo.

    python examples/quickstart.py                       # the white-studio bottle, colour key
    python examples/quickstart.py --example mug_paper   # a click selection (classical selector)
    python examples/quickstart.py --out /tmp/q          # where the files go

Writes ``<name>.result.png`` (the product on the suggested background colour), ``.mask.png``,
``.cutout.png`` (transparent PNG) and ``.recipe.json`` (replay it with ``stencil apply``) into
``--out``, by default a new folder in the system's temporary directory (never the current one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.catalog import get_example  # noqa: E402
from examples.suggest import suggested_steps  # noqa: E402
from pipeline import masks, recipe  # noqa: E402
from pipeline.edits.background import SolidColor  # noqa: E402
from pipeline.io.images import load_image, load_mask, save_image, save_mask, save_rgba  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mask an example photo and replace its background.")
    parser.add_argument("--example", default="studio_bottle", help="catalog name (default: studio_bottle)")
    parser.add_argument("--feather", type=float, default=1.5, help="feather radius in px (default: 1.5)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a new temporary folder)")
    args = parser.parse_args(argv)

    example = get_example(args.example)
    image = load_image(example.file).rgb  # (H, W, 3) uint8 RGB
    # 1. a mask step: the example's suggestion (a colour key, clicks...)
    source, suggested = suggested_steps(example, image)
    # 2. refine: close holes, drop specks, soften the edge outward (the product's pixels stay exact)
    refine = recipe.Refine(fill_holes=True, min_speck_px=500, invert=suggested.invert, feather_px=args.feather)
    # 3. edit: the product on a plain background of the suggested colour (white if none)
    studio = recipe.ReplaceBackground(fill=SolidColor(example.operation.color or (255, 255, 255)))
    steps = recipe.Recipe((source, refine, studio))
    done = recipe.run(steps, image)  # classical backends unless SAM / diffusion weights are configured

    out = args.out or Path(tempfile.mkdtemp(prefix="stencil-quickstart-"))
    out.mkdir(parents=True, exist_ok=True)
    save_image(out / f"{example.name}.result.png", done.image)
    save_mask(out / f"{example.name}.mask.png", done.mask)
    save_rgba(out / f"{example.name}.cutout.png", done.cutout)
    (out / f"{example.name}.recipe.json").write_text(recipe.dumps(steps))
    truth = load_mask(example.mask_file, size=example.size)
    score = masks.iou(masks.threshold(done.mask), masks.threshold(truth))
    print(f"{example.title}: {example.mask_source.source} mask, IoU {score:.3f} against the true mask")
    print(f"wrote {example.name}.result.png, .mask.png, .cutout.png and .recipe.json to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
