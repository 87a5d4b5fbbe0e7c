"""Finding and loading a diffusers inpainting model (the "diffusion" engine).

The model comes from the setting ``--inpaint-model`` / ``STENCIL_INPAINT_MODEL``:

- a local diffusers folder (with ``model_index.json``) or a Hugging Face model id: loaded with
  ``AutoPipelineForInpainting.from_pretrained``; a hub id counts as available only when it is in
  the local Hugging Face cache if ``HF_HUB_OFFLINE`` is set (then ``local_files_only`` is used);
- a single ``.safetensors`` checkpoint: loaded with ``from_single_file`` of the SD 1.5 or SDXL
  inpainting pipeline, chosen from the checkpoint's key names;
- unset: ``DEFAULT_MODEL_ID`` (SD 1.5 inpainting) if it is already cached, else no model.

Weights load in fp16 on CUDA and fp32 on the CPU, with PyTorch's scaled-dot-product attention.
A model's own safety checker is kept; models saved without one (the test models, most community
checkpoints) run without one; Stencil never removes it. If it blanks a result the run fails with a
clear message instead of pasting a black patch.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from pipeline.errors import BackendFailed, ModelUnavailable
from pipeline.inpaint.crop import DEFAULT_CROP, CropOptions
from pipeline.inpaint.diffusion.engine import (
    DiffusionInpainter,
    InpaintRun,
    first_line,
    is_out_of_memory,
    release_memory,
)
from pipeline.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MODEL_ID",
    "SDXL_MODEL_ID",
    "DiffusionInpainter",
    "InpaintRun",
    "find_model",
    "load_inpainter",
    "missing_model_message",
]

DEFAULT_MODEL_ID = "stable-diffusion-v1-5/stable-diffusion-inpainting"
SDXL_MODEL_ID = "diffusers/stable-diffusion-xl-1.0-inpainting-0.1"
SETTING = "--inpaint-model / STENCIL_INPAINT_MODEL"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
_SDXL_KEY_PREFIX = "conditioner.embedders.1."


def hub_offline() -> bool:
    """True when the Hugging Face Hub must not be contacted (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def in_hub_cache(repo_id: str) -> bool:
    """True if ``repo_id``'s ``model_index.json`` is in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "model_index.json"), str)
    except ValueError:  # not a valid repo id
        return False


def _is_hub_id(text: str) -> bool:
    return bool(_HUB_ID.fullmatch(text)) and not text.lower().endswith((".safetensors", ".ckpt"))


def find_model(settings: Settings) -> str | None:
    """The model to load: an existing path, an available hub id, the cached default, or ``None``."""
    configured = settings.inpaint_model
    if configured:
        path = Path(configured).expanduser()
        if path.exists():
            return str(path)
        if not _is_hub_id(configured):
            return None
        return configured if not hub_offline() or in_hub_cache(configured) else None
    return DEFAULT_MODEL_ID if in_hub_cache(DEFAULT_MODEL_ID) else None


def missing_model_message(settings: Settings) -> str:
    """Why ``find_model`` found nothing, and what to do, naming the setting."""
    configured = settings.inpaint_model
    if configured and not _is_hub_id(configured):
        return (
            f"inpainting model {configured!r} ({SETTING}) does not exist; point it at a diffusers folder "
            "with model_index.json or a .safetensors checkpoint, or use the classical engine"
        )
    if configured:
        return (
            f"inpainting model {configured!r} ({SETTING}) is not in the local Hugging Face cache and the hub is "
            f"offline (HF_HUB_OFFLINE); download it first (huggingface-cli download {configured}) "
            "or use the classical engine"
        )
    return (
        f"no inpainting model: set {SETTING} to a model id, a diffusers folder or a .safetensors file "
        f"(the default, {DEFAULT_MODEL_ID}, is not in the local Hugging Face cache; "
        f"SDXL: {SDXL_MODEL_ID}), or use the classical engine"
    )


def load_inpainter(
    source: str,
    *,
    device: str,
    cpu_offload: bool = False,
    crop: CropOptions = DEFAULT_CROP,
    controlnets: tuple[tuple[str, str], ...] = (),
) -> DiffusionInpainter:
    """Load ``source`` (folder, hub id or ``.safetensors``) as an engine on ``device`` ("cuda" or "cpu").

    fp16 on CUDA, fp32 on the CPU. ``cpu_offload`` keeps idle sub-models in CPU memory (CUDA
    only; ignored on the CPU). ``controlnets``: ``(kind, source)`` pairs
    (``pipeline.inpaint.diffusion.controlnet``), loaded the same way and checked against the
    model's family. Raises ``ModelUnavailable`` naming the setting when a model is missing,
    unreadable or of the wrong family, ``BackendFailed`` when it does not fit in GPU memory.
    """
    import torch

    from pipeline.inpaint.diffusion.controlnet import load_controlnets

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    pipe = _load_pipeline(source, dtype)
    nets = load_controlnets(controlnets, unet=pipe.unet, dtype=dtype, device="cpu", offline=hub_offline())
    _prepare(pipe, device, cpu_offload, nets)
    engine = DiffusionInpainter(pipe, device=device, source=source, crop=crop, controlnets=nets)
    log.info("inpainting model %s loaded on %s (%s), native size %d px", source, device, dtype, engine.native_px)
    return engine


def _load_pipeline(source: str, dtype: Any) -> Any:
    from diffusers import AutoPipelineForInpainting

    offline = hub_offline()
    if source.lower().endswith(".ckpt"):
        raise ModelUnavailable(
            f"inpainting model {source!r} ({SETTING}) is a .ckpt pickle, which can run code when loaded; "
            "use a .safetensors checkpoint or a diffusers folder"
        )
    try:
        if source.lower().endswith(".safetensors"):
            return _load_single_file(source, dtype, offline)
        return AutoPipelineForInpainting.from_pretrained(source, dtype=dtype, local_files_only=offline)
    except Exception as exc:  # loaders raise many unrelated types; all mean "these weights are unusable"
        raise ModelUnavailable(
            f"cannot load inpainting model {source!r} ({SETTING}): {first_line(exc)}; point it at a diffusers "
            "folder with model_index.json, a .safetensors checkpoint, or a model id in the Hugging Face cache"
        ) from exc


def _load_single_file(source: str, dtype: Any, offline: bool) -> Any:
    """SD 1.5 or SDXL inpainting pipeline from one ``.safetensors`` file (SDXL has a second text encoder)."""
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline
    from safetensors import safe_open

    with safe_open(source, framework="pt") as checkpoint:
        is_xl = any(key.startswith(_SDXL_KEY_PREFIX) for key in checkpoint.keys())  # noqa: SIM118
    pipeline_class = StableDiffusionXLInpaintPipeline if is_xl else StableDiffusionInpaintPipeline
    log.info("loading %s as %s", source, pipeline_class.__name__)
    return pipeline_class.from_single_file(source, dtype=dtype, local_files_only=offline)


def _prepare(pipe: Any, device: str, cpu_offload: bool, controlnets: dict[str, Any] | None = None) -> None:
    """Quiet progress bars, SDPA attention, then move to ``device`` (or offload between sub-models)."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    pipe.set_progress_bar_config(disable=True)
    modules = [getattr(pipe, name, None) for name in ("unet", "vae")] + list((controlnets or {}).values())
    for module in modules:
        if module is not None and hasattr(module, "set_attn_processor"):
            module.set_attn_processor(AttnProcessor2_0())
    if cpu_offload and device.startswith("cuda"):
        pipe.enable_model_cpu_offload(device=device)
        for net in (controlnets or {}).values():  # not among the offloaded sub-models: kept on the GPU
            net.to(device)
        return
    if cpu_offload:
        log.info("CPU offload ignored: the model already runs on the CPU")
    out_of_memory = False
    try:
        pipe.to(device)
        for net in (controlnets or {}).values():
            net.to(device)
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        out_of_memory = True
    if out_of_memory:
        release_memory()
        raise BackendFailed(
            "the inpainting model does not fit in GPU memory; enable CPU offload or use the classical engine"
        )
