"""Settings shared by the app, the CLI and notebooks: where models are and how big inputs may be.

Values come from keyword arguments first, then the environment (``STENCIL_*``), then defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

from pipeline.errors import InvalidInput

DevicePreference = Literal["auto", "cuda", "cpu"]
SamModel = Literal["vit_b", "vit_l", "vit_h"]
SubjectArch = Literal["auto", "u2net", "isnet", "birefnet", "bria"]

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 8192
DEFAULT_SESSION_TTL_S = 1800


def default_models_dir() -> Path:
    """``$STENCIL_MODELS_DIR``, else ``$XDG_CACHE_HOME/stencil/models``, else ``~/.cache/stencil/models``."""
    if env := os.environ.get("STENCIL_MODELS_DIR"):
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "stencil" / "models"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def _env_choice(name: str, default: SamModel) -> SamModel:
    return os.environ.get(name, default)  # type: ignore[return-value]  # checked in __post_init__


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name}={value!r} is not a whole number") from None


@dataclass(frozen=True)
class Settings:
    """Everything that selects backends and bounds inputs.

    - ``device``: "auto" uses CUDA when present, else the CPU.
    - ``sam_checkpoint``: a SAM ``.pth`` file; ``None`` looks in ``models_dir``.
    - ``inpaint_model``: a diffusers model id, a local folder or a ``.safetensors`` file;
      ``None`` means the classical engine unless the default model is already on disk.
    - ``removal_model``: a LaMa TorchScript file (``big-lama.pt``) for removal
      (``STENCIL_REMOVAL_MODEL``); ``None`` looks in ``models_dir``, else the exemplar fill.
    - ``controlnets``: ``KIND=MODEL`` items (``--controlnet``, ``STENCIL_CONTROLNET`` comma-separated),
      one ControlNet per control kind, loaded beside the inpainting model.
    - ``track_model``: a SAM 2 video model (hub id or local folder) for the learned tracker
      (``STENCIL_TRACK_MODEL``); ``None`` means the classical tracker.
    - ``subject_model``: a subject model (BiRefNet, BRIA RMBG, ISNet, U2-Net) as a local ``.onnx``
      file (``STENCIL_SUBJECT_MODEL``); ``None`` looks for a downloaded one in ``models_dir``.
      ``subject_arch`` says which architecture it is ("auto": from its name and input size).
    - ``sam3_model``: SAM 3 for finding objects by name: a Hugging Face model id (loaded only from
      the local cache) or a local folder; ``None`` uses ``facebook/sam3`` if it is cached.
    - ``matte_model``: ViTMatte for soft edges, the same kinds of source; ``None`` uses
      ``hustvl/vitmatte-small-composition-1k`` if it is cached, else the classical matte.
    - ``sam_cache_mb``: memory cap of the SAM embedding cache (least recently used photos go first).
    - ``context_px``: pixels of context kept around the mask's box when diffusion works on a
      crop of the photo ("inpaint only masked").
    - ``max_pixels`` / ``max_side``: images larger than either are refused before decoding.
    - ``session_ttl_s``: a page or API session idle this long is freed with its files
      (``STENCIL_SESSION_TTL_S``, default 1800 s); closing the page frees it at once.
    """

    device: DevicePreference = "auto"
    sam_checkpoint: Path | None = field(default_factory=lambda: _env_path("STENCIL_SAM_CHECKPOINT"))
    sam_model: SamModel = field(default_factory=lambda: _env_choice("STENCIL_SAM_MODEL", "vit_b"))
    models_dir: Path = field(default_factory=default_models_dir)
    inpaint_model: str | None = field(default_factory=lambda: os.environ.get("STENCIL_INPAINT_MODEL") or None)
    removal_model: Path | None = field(default_factory=lambda: _env_path("STENCIL_REMOVAL_MODEL"))
    controlnets: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            i.strip() for i in os.environ.get("STENCIL_CONTROLNET", "").split(",") if i.strip()
        )
    )
    sam3_model: str | None = field(default_factory=lambda: os.environ.get("STENCIL_SAM3_MODEL") or None)
    matte_model: str | None = field(default_factory=lambda: os.environ.get("STENCIL_MATTE_MODEL") or None)
    cpu_offload: bool = False
    track_model: str | None = field(default_factory=lambda: os.environ.get("STENCIL_TRACK_MODEL") or None)
    subject_model: Path | None = field(default_factory=lambda: _env_path("STENCIL_SUBJECT_MODEL"))
    subject_arch: SubjectArch = field(
        default_factory=lambda: os.environ.get("STENCIL_SUBJECT_ARCH", "auto")  # type: ignore[return-value]
    )
    context_px: int = field(default_factory=lambda: _env_int("STENCIL_INPAINT_CONTEXT_PX", 32))
    sam_cache_mb: int = field(default_factory=lambda: _env_int("STENCIL_SAM_CACHE_MB", 256))
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    session_ttl_s: int = field(default_factory=lambda: _env_int("STENCIL_SESSION_TTL_S", DEFAULT_SESSION_TTL_S))

    def __post_init__(self) -> None:
        if self.device not in get_args(DevicePreference):
            raise InvalidInput(f"device {self.device!r} is not one of auto, cuda, cpu")
        if self.sam_model not in get_args(SamModel):
            raise InvalidInput(
                f"SAM model {self.sam_model!r} is not one of vit_b, vit_l, vit_h (setting STENCIL_SAM_MODEL)"
            )
        if self.subject_arch not in get_args(SubjectArch):
            raise InvalidInput(
                f"subject architecture {self.subject_arch!r} is not one of {', '.join(get_args(SubjectArch))} "
                "(setting STENCIL_SUBJECT_ARCH)"
            )
        if not 0 <= self.context_px <= 4096:
            raise InvalidInput(
                f"context margin {self.context_px} px is outside 0..4096 (setting STENCIL_INPAINT_CONTEXT_PX)"
            )
        if self.sam_cache_mb < 1:
            raise InvalidInput(f"SAM cache of {self.sam_cache_mb} MB is too small (setting STENCIL_SAM_CACHE_MB)")
        if not 5 <= self.session_ttl_s <= 7 * 24 * 3600:
            raise InvalidInput(
                f"session time-to-live {self.session_ttl_s} s is outside 5 s..7 days (setting STENCIL_SESSION_TTL_S)"
            )
        if self.max_pixels < 1 or self.max_side < 1:
            raise InvalidInput("max_pixels and max_side must be positive")

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced; ``None`` values leave a field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]
