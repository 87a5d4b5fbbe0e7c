"""Synthetic catalogues and the catalogue recipe shared by the batch tests (local pool and Ray)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from pipeline import recipe as rc
from pipeline.edits.background import Shadow, SolidColor


def catalogue(folder: Path, count: int, *, size: tuple[int, int] = (160, 120), corrupt: int | None = None) -> Path:
    """``count`` product shots (a red disc moving across a light backdrop), one corrupt if asked."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    for index in range(count):
        path = folder / f"shot-{index:03d}.png"
        if index == corrupt:
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"broken" * 20)
            continue
        image = np.full((height, width, 3), 235, np.uint8)
        cx, cy = width // 3 + (index * 7) % (width // 3), height // 2
        image[(xx - cx) ** 2 + (yy - cy) ** 2 <= (height // 4) ** 2] = (200, 40, 30)
        PILImage.fromarray(image).save(path)
    return folder


def white_square() -> rc.Recipe:
    """Backdrop by colour, inverted: the product on white with a shadow, on a square canvas."""
    return rc.Recipe(
        (
            rc.ColorRange(color=(235, 235, 235), tolerance=10.0),
            rc.Refine(invert=True, fill_holes=True, feather_px=1.5),
            rc.ReplaceBackground(fill=SolidColor((255, 255, 255)), shadow=Shadow(), engine="classic"),
            rc.Output(canvas=(200, 200), subject_share=0.85),
        )
    )


def outputs(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(PILImage.open(p)) for p in sorted(folder.glob("*.png"))}


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]
