"""ViTMatte through ``transformers``: a learned alpha matte from a photo and a trimap.

The model loads from ``--matte-model`` / ``STENCIL_MATTE_MODEL`` (a local folder, or a Hugging
Face id read from the local cache only), else ``hustvl/vitmatte-small-composition-1k`` when it is
cached; never downloaded here. fp16 on CUDA, fp32 on the CPU.

Large photos are matted in overlapping tiles (``tile_px`` square, only where the trimap has
unknown pixels), so memory stays bounded on a 12 MP photo: ViTMatte's global attention grows
with the square of the tile's area, not the photo's. torch and transformers load inside functions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from pipeline.errors import BackendFailed, InvalidInput, ModelUnavailable
from pipeline.io.hub import check_folder, find_source
from pipeline.types import Image, Mask, check_image

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "hustvl/vitmatte-small-composition-1k"
SETTING = "--matte-model / STENCIL_MATTE_MODEL"
REQUIRED_FILES = ("config.json", "*.safetensors", "preprocessor_config.json")
HOW_TO_GET = f"run `hf download {DEFAULT_MODEL_ID}` and pass {SETTING} (the id or a local folder)"
UNKNOWN = 128
"""Trimap value of the unknown band (0 = background, 255 = subject)."""


def find_model(configured: str | None) -> str | None:
    """The ViTMatte source to load: the configured one, the cached default, or ``None``."""
    return find_source(configured, DEFAULT_MODEL_ID)


def missing_model_message() -> str:
    return f"no ViTMatte model is configured or cached: {HOW_TO_GET}"


def tiles(shape: tuple[int, int], unknown: np.ndarray, tile_px: int, overlap_px: int) -> Iterator[tuple[slice, slice]]:
    """Windows of at most ``tile_px`` square, overlapping by ``overlap_px``, covering every unknown pixel."""
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    if rows.size == 0:
        return
    step = tile_px - overlap_px

    def starts(first: int, last: int, size: int) -> list[int]:
        low = max(0, first - overlap_px // 2)
        high = min(size, last + 1 + overlap_px // 2)
        if high - low <= tile_px:
            return [max(0, min(low, size - tile_px))]
        return [min(start, high - tile_px) for start in range(low, high - overlap_px, step)]

    for y in starts(int(rows[0]), int(rows[-1]), shape[0]):
        for x in starts(int(cols[0]), int(cols[-1]), shape[1]):
            window = (slice(y, min(shape[0], y + tile_px)), slice(x, min(shape[1], x + tile_px)))
            if unknown[window].any():
                yield window


def _taper(height: int, width: int, overlap_px: int) -> np.ndarray:
    """Blending weights of a tile: 1 inside, ramping down over ``overlap_px`` to its borders."""
    ramp = max(1, overlap_px)

    def axis(n: int) -> np.ndarray:
        distance = np.minimum(np.arange(n), np.arange(n)[::-1]) + 1
        return np.minimum(1.0, distance / ramp)

    return np.outer(axis(height), axis(width)).astype(np.float32)


class VitMatter:
    """A loaded ViTMatte model and its image processor. Read-only once built: safe to share."""

    follows_edge = False  # the probe was measured with the classical matter only (bench.matte)
    follow_reach_bands = None

    def __init__(self, model: Any, processor: Any, *, device: str, source: str, tile_px: int = 1024) -> None:
        self.name = f"ViTMatte on {device}"
        self.model = model
        self.processor = processor
        self.device = device
        self.source = source
        self.tile_px = tile_px
        self.overlap_px = tile_px // 8

    def matte(self, image: Image, trimap: np.ndarray, prior: Mask | None = None) -> Mask:
        """Alpha of ``image`` under ``trimap`` (``(H, W)`` uint8: 0 background, 255 subject, else unknown).

        Known pixels keep their trimap value; unknown ones get the model's alpha (``prior`` is not
        needed: the model reads the trimap). Returns a new ``(H, W)`` float32 mask in [0, 1].
        """
        import torch

        check_image(image)
        if not (isinstance(trimap, np.ndarray) and trimap.dtype == np.uint8 and trimap.shape == image.shape[:2]):
            raise InvalidInput("the trimap must be an (H, W) uint8 array the size of the photo")
        unknown = (trimap > 0) & (trimap < 255)
        alpha = (trimap == 255).astype(np.float32)
        total = np.zeros(trimap.shape, np.float32)
        weight = np.zeros(trimap.shape, np.float32)
        dtype = next(self.model.parameters()).dtype
        for window in tiles(trimap.shape, unknown, self.tile_px, self.overlap_px):
            crop, known = image[window], trimap[window]
            inputs = self.processor(images=crop, trimaps=known, return_tensors="pt")
            pixels = inputs["pixel_values"].to(self.device, dtype=dtype)
            try:
                with torch.inference_mode():
                    predicted = self.model(pixel_values=pixels).alphas
            except torch.cuda.OutOfMemoryError:
                raise BackendFailed(
                    f"ViTMatte ran out of GPU memory on a {crop.shape[1]}x{crop.shape[0]} tile; use a smaller tile"
                ) from None
            height, width = crop.shape[:2]
            tile_alpha = predicted[0, 0, :height, :width].float().clamp(0, 1).cpu().numpy()
            taper = _taper(height, width, self.overlap_px)
            total[window] += taper * tile_alpha
            weight[window] += taper
        solved = np.divide(total, weight, out=alpha.copy(), where=weight > 0)
        return np.where(unknown, solved, alpha).astype(np.float32)


def load_matter(source: str, *, device: str, tile_px: int = 1024) -> VitMatter:
    """Load ViTMatte from ``source`` (a folder or a cached hub id) onto ``device``; fp16 on CUDA.

    ``ModelUnavailable`` when a folder lacks files or the weights cannot be read.
    """
    check_folder(source, REQUIRED_FILES, what="ViTMatte", how=HOW_TO_GET)
    import torch
    from transformers import VitMatteForImageMatting, VitMatteImageProcessor

    dtype = torch.float16 if device == "cuda" else torch.float32
    try:
        processor = VitMatteImageProcessor.from_pretrained(source, local_files_only=True)
        model = VitMatteForImageMatting.from_pretrained(source, local_files_only=True, dtype=dtype)
    except (OSError, ValueError, KeyError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailable(f"ViTMatte could not be loaded from {source}: {first}; {HOW_TO_GET}") from None
    model = model.to(device).eval()
    log.info("ViTMatte loaded from %s on %s (%s)", source, device, dtype)
    return VitMatter(model, processor, device=device, source=source, tile_px=tile_px)
