"""Re-render the example photos: ``python examples/render.py [NAME ...] [--out DIR]``.

Writes ``<name>.jpg`` (quality 92), ``<name>.mask.png`` (8-bit true alpha, 255 = product) and, for
scenes with several products, ``<name>.labels.png`` (one id per product) into ``examples/photos``.
The output depends only on numpy, OpenCV and Pillow: no network, no files from elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.scenes import SCENES, Rendered, render  # noqa: E402

log = logging.getLogger(__name__)
PHOTOS = Path(__file__).resolve().parent / "photos"
JPEG_QUALITY = 92


def encode_jpeg(image: np.ndarray, path: Path) -> None:
    """Save ``image`` (H, W, 3) uint8 RGB as a baseline JPEG at ``JPEG_QUALITY`` with 4:2:0 chroma."""
    Image.fromarray(image).save(path, quality=JPEG_QUALITY, subsampling=2, optimize=True)


def write(name: str, rendered: Rendered, out_dir: Path) -> list[Path]:
    """Write the photo, its mask and (when it has more than one product) its label map; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    photo, mask = out_dir / f"{name}.jpg", out_dir / f"{name}.mask.png"
    encode_jpeg(rendered.image, photo)
    Image.fromarray(rendered.mask).save(mask, optimize=True)
    paths = [photo, mask]
    if int(rendered.labels.max()) > 1:
        labels = out_dir / f"{name}.labels.png"
        Image.fromarray(rendered.labels).save(labels, optimize=True)
        paths.append(labels)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the synthetic example product photos.")
    parser.add_argument("names", nargs="*", help=f"scenes to render (default: all of {', '.join(SCENES)})")
    parser.add_argument("--out", type=Path, default=PHOTOS, help="output folder (default: examples/photos)")
    parser.add_argument("--ss", type=int, default=2, help="supersampling factor (default: 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    unknown = [n for n in args.names if n not in SCENES]
    if unknown:
        parser.error(f"unknown scene(s) {', '.join(unknown)}; choose from {', '.join(SCENES)}")
    for name in args.names or list(SCENES):
        start = time.perf_counter()
        paths = write(name, render(name, ss=args.ss), args.out)
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.2f} MB" for p in paths)
        log.info("%-18s %5.1f s  %s", name, time.perf_counter() - start, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
