"""What a generated Space's ``app.py`` does before it builds the page: turn the preset and its
preloaded models into ``Settings``, and estimate how long a GPU job may take on ZeroGPU.

Preloaded models sit in the Hugging Face cache (``preload_from_hub`` fetched them at build time),
so every model is read with ``local_files_only``; one that is not there is left out with a log
line, and the page's status line then names the classical backend that runs instead.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from pipeline.errors import InvalidInput
from pipeline.io.download import checksum_matches, sha256_of
from pipeline.settings import Settings
from pipeline.space.presets import HubModel, Preset

log = logging.getLogger(__name__)

MIN_GPU_SECONDS = 10
MAX_GPU_SECONDS = 120
"""ZeroGPU's default task length; a longer request lowers the visitor's queue priority and is
refused outright past the platform's maximum."""


def space_settings(chosen: Preset, models: dict[str, HubModel]) -> Settings:
    """Settings for a Space of ``chosen`` with ``models`` preloaded (roles as in ``presets.ROLES``)."""
    overrides: dict[str, object] = {"max_side": chosen.max_side}
    if "sam" in models:
        overrides["sam_checkpoint"] = _cached_sam(models["sam"])
    for role, field in (("inpaint", "inpaint_model"), ("sam3", "sam3_model"), ("matte", "matte_model")):
        if role in models:
            overrides[field] = models[role].repo
    return Settings(device="auto" if chosen.models else "cpu").with_overrides(**overrides)


def _cached_sam(model: HubModel) -> Path | None:
    """The preloaded SAM checkpoint's path in the Hub cache, checked against the official SHA-256."""
    from huggingface_hub import hf_hub_download

    from pipeline.select.sam.segmenter import CHECKPOINTS

    if len(model.files) != 1:
        raise InvalidInput(f"--model sam={model.repo}: name the one .pth file, as sam=owner/repo:path/file.pth")
    try:
        path = Path(hf_hub_download(model.repo, model.files[0], local_files_only=True))
    except Exception as error:  # noqa: BLE001 - any miss means "not preloaded"; the reason is logged
        log.warning("SAM is not in the Hub cache (%s: %s); the classical selector runs", model.preload_line, error)
        return None
    digest = sha256_of(path)
    if not any(checksum_matches(digest, artifact.sha256) for artifact in CHECKPOINTS.values()):
        log.warning("%s is not an official SAM checkpoint (SHA-256 %s); the classical selector runs", path, digest)
        return None
    return path


def gpu_seconds(*, pixels: int, steps: int = 0, clicks: int = 0) -> int:
    """How long to ask ZeroGPU for: a first-call model move, the photo's embedding and decode
    (about 2 s per 12 MP on half an H200), then each denoising step of a crop (about 0.05 s at
    512 px, with room for slower cards) and each click. Rounded up and clamped to 10..120 s:
    a shorter request gets a higher place in ZeroGPU's queue."""
    estimate = 8 + 2 * pixels / 12e6 + 0.25 * steps + 0.05 * clicks
    return max(MIN_GPU_SECONDS, min(MAX_GPU_SECONDS, math.ceil(estimate)))


def denoising_steps(*edits: object) -> int:
    """Denoising steps the edits ask of a diffusion engine, summed (0 for edits without prompt settings)."""
    total = 0
    for edit in edits:
        prompting = getattr(edit, "prompting", None) or getattr(getattr(edit, "fill", None), "prompting", None)
        total += int(getattr(prompting, "steps", 0))
    return total


def gpu_seconds_for(image: object, *edits: object) -> int:
    """``gpu_seconds`` for a photo (an array, H x W first) and the edits to run on it."""
    shape = getattr(image, "shape", (0, 0))
    return gpu_seconds(pixels=int(shape[0]) * int(shape[1]), steps=denoising_steps(*edits))
