"""What a Space runs on: the two hardware presets and the models a ZeroGPU Space preloads.

A preset fixes the Space's suggested hardware, which of Stencil's dependencies it installs and
the limits of a shared machine (photo size, queue length). ``cpu-basic`` runs the classical
backends only, so it installs none of the model packages; ``zero-gpu`` installs them, preloads
the weights at build time (``preload_from_hub``) and runs model work inside ``@spaces.GPU``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import InvalidInput

MODEL_PACKAGES = frozenset(
    {"torch", "torchvision", "diffusers", "transformers", "accelerate", "safetensors", "segment-anything"}
)
"""Dependencies only the learned backends need: left out of a CPU Space (and CUDA wheels with them)."""


@dataclass(frozen=True)
class HubModel:
    """One model a Space preloads: a Hub repository, and the files of it Stencil reads (all when empty)."""

    repo: str
    files: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> HubModel:
        """``owner/name`` or ``owner/name:path/in/repo[,another]`` (what ``--model ROLE=...`` takes)."""
        repo, _, files = text.partition(":")
        owner, slash, name = repo.partition("/")
        if not slash or not owner or not name or "/" in name or any(c.isspace() for c in repo):
            raise InvalidInput(f"{text!r} is not a Hub model id (owner/name, optionally :file,file)")
        return cls(repo, tuple(f for f in files.split(",") if f))

    @property
    def preload_line(self) -> str:
        """The model's line under ``preload_from_hub``: the repository, then its files comma-separated."""
        return f"{self.repo} {','.join(self.files)}" if self.files else self.repo


SHARED_QUEUE_SIZE = 64
"""The serving default (``ui.launch.QUEUE_SIZE``, sized from the load suite's measured throughput)."""

ROLES = ("sam", "inpaint", "sam3", "matte")
"""The models Stencil can be configured with, by the name ``--model ROLE=ID`` uses."""

ZERO_GPU_MODELS: dict[str, HubModel] = {
    # SAM's official .pth files are not on the Hub under Meta's name; this mirror holds the same
    # bytes, and the app checks them against the official SHA-256 before loading.
    "sam": HubModel("ybelkada/segment-anything", ("checkpoints/sam_vit_b_01ec64.pth",)),
    # the files diffusers reads for the fp32 safetensors weights (the repository also holds a 4 GB
    # .ckpt and .bin copies that would only slow the build)
    "inpaint": HubModel(
        "stable-diffusion-v1-5/stable-diffusion-inpainting",
        (
            "model_index.json",
            "feature_extractor/preprocessor_config.json",
            "safety_checker/config.json",
            "safety_checker/model.safetensors",
            "scheduler/scheduler_config.json",
            "text_encoder/config.json",
            "text_encoder/model.safetensors",
            "tokenizer/merges.txt",
            "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer_config.json",
            "tokenizer/vocab.json",
            "unet/config.json",
            "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors",
        ),
    ),  # fmt: skip
    "sam3": HubModel("facebook/sam3"),
    "matte": HubModel("hustvl/vitmatte-small-composition-1k"),
}


@dataclass(frozen=True)
class Preset:
    """One way to run Stencil on a Space."""

    name: str
    suggested_hardware: str
    models: bool
    """Whether the model packages are installed (and model weights preloaded)."""
    max_side: int
    queue_size: int
    description: str
    default_models: dict[str, HubModel] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "cpu-basic": Preset(
        "cpu-basic",
        "cpu-basic",
        models=False,
        max_side=4096,
        queue_size=SHARED_QUEUE_SIZE,
        description="the free 2-vCPU Space: classical selector, subject, matte and fill; no model packages",
    ),
    "zero-gpu": Preset(
        "zero-gpu",
        "zero-a10g",  # the flavour name ZeroGPU Spaces carry on the Hub, whatever card is behind it
        models=True,
        max_side=6144,
        queue_size=SHARED_QUEUE_SIZE,
        description="ZeroGPU: SAM, diffusion, SAM 3 and ViTMatte inside @spaces.GPU, weights preloaded",
        default_models=ZERO_GPU_MODELS,
    ),
}


def preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name is refused with the known ones."""
    if name not in PRESETS:
        raise InvalidInput(f"unknown hardware preset {name!r}; use one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def choose_models(chosen: Preset, overrides: dict[str, str]) -> dict[str, HubModel]:
    """The preset's models with ``overrides`` (role -> Hub id) applied; every role must be one Stencil uses."""
    for role in overrides:
        if role not in ROLES:
            raise InvalidInput(f"--model {role}=...: Stencil has no {role!r} model; the roles are {', '.join(ROLES)}")
    if overrides and not chosen.models:
        raise InvalidInput(
            f"the {chosen.name} preset runs without model packages, so it preloads no models; "
            "use --hardware zero-gpu to configure models"
        )
    return {**chosen.default_models, **{role: HubModel.parse(text) for role, text in overrides.items()}}
