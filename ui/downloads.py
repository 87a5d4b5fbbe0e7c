"""Step 5's downloads: the result, the mask, a cutout and the JSON recipe of one history cell.

The PNGs are written with a low zlib level (``PNG_LEVEL``) and in parallel: for a 12 MP photo
they take about 1 s instead of 4.7 s at the default level 6, for somewhat larger files (see
docs/BENCHMARKS.md, "Editor latency"). Fully transparent pixels of the cutout are stored as
black: they are invisible either way and compress far better (9.3 MB -> 2.2 MB there).
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from ui.state import Cell

PNG_LEVEL = 1
"""zlib level of the download PNGs (0 = stored, 9 = smallest); lossless at every level."""


def recipe(cell: Cell) -> dict[str, Any]:
    """The JSON recipe: the photo, every mask step, the refinement and the edit with its parameters."""
    return {
        "stencil_recipe": 1,
        "steps": [step.as_dict() for step in cell.steps],
        "edit": {"operation": cell.operation, **cell.params},
        "result": {"width": int(cell.result.shape[1]), "height": int(cell.result.shape[0]), "history_cell": cell.index},
    }


def mask_levels(mask: np.ndarray) -> np.ndarray:
    """A float32 [0, 1] mask as 8-bit gray levels, ``round(255 * mask)`` (as ``pipeline.io.images.save_mask``)."""
    return np.rint(mask * np.float32(255.0)).astype(np.uint8)


def cutout_rgba(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``(H, W, 4)`` uint8: ``image`` (H, W, 3) with ``alpha`` (H, W) uint8; RGB is 0 where alpha is 0."""
    out = np.zeros((*image.shape[:2], 4), dtype=np.uint8)
    np.copyto(out[..., :3], image, where=(alpha > 0)[..., None])
    out[..., 3] = alpha
    return out


def write_downloads(cell: Cell) -> list[str]:
    """Write result.png, mask.png, cutout.png and recipe.json to a fresh folder; return their paths."""
    folder = Path(tempfile.mkdtemp(prefix=f"stencil-{cell.index}-"))
    paths = [folder / "result.png", folder / "mask.png", folder / "cutout.png", folder / "recipe.json"]
    levels = mask_levels(cell.mask)
    source = cell.image if cell.image.shape[:2] == cell.mask.shape else cell.result
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="stencil-png") as pool:
        jobs = [
            pool.submit(_write_png, paths[0], cell.result),
            pool.submit(_write_png, paths[1], levels),
            pool.submit(lambda: _write_png(paths[2], cutout_rgba(source, levels))),
        ]
        paths[3].write_text(json.dumps(recipe(cell), indent=2, default=_jsonable))
        for job in jobs:
            job.result()
    return [str(p) for p in paths]


def _write_png(path: Path, pixels: np.ndarray) -> None:
    """Write uint8 gray (H, W), RGB (H, W, 3) or RGBA (H, W, 4) pixels as a PNG (PIL releases the GIL)."""
    PILImage.fromarray(np.ascontiguousarray(pixels)).save(path, format="PNG", compress_level=PNG_LEVEL)


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
