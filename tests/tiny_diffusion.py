"""Builders of small, random-weight Stable Diffusion inpainting pipelines for tests and benchmarks.

``save_tiny_pipeline(folder)`` writes a complete diffusers folder (``model_index.json``, a UNet
with 9 input channels, a VAE, a CLIP text model and tokenizer, a scheduler) that loads through
the same ``pipeline.inpaint.diffusion.loader.load_inpainter`` as a user's model. Nothing is downloaded: the
tokenizer's vocabulary is written here (one token per byte, no merges).

Sizes (``Geometry``):
- ``tiny`` (tests): UNet channels (32, 64), VAE (32, 64) so one latent pixel is 2x2 image
  pixels, native size 32 x 32 px. Two steps on a 64 x 64 image take well under a second.
- ``medium`` (CPU benchmark): SD 1.5's geometry (VAE factor 8, native 512 x 512 px, 64 x 64
  latents) with tiny channels, so latent sizes and UNet call counts match a real SD 1.5 run;
  attention only at a quarter of the latent size, so a whole 4000 x 3000 photo stays feasible.
- ``sd15`` (GPU benchmark): the real SD 1.5 inpainting UNet and VAE configurations with random
  weights; only the text model stays small (it runs once per job).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

SizeName = Literal["tiny", "medium", "sd15"]


@dataclass(frozen=True)
class Geometry:
    """Channel widths and sizes of one builder; ``native_px`` = ``latent_px * vae_factor``."""

    unet_channels: tuple[int, ...]
    unet_down: tuple[str, ...]
    unet_up: tuple[str, ...]
    unet_layers: int
    head_dim: int | tuple[int, ...]
    vae_channels: tuple[int, ...]
    vae_groups: int
    latent_px: int
    text_hidden: int
    cross_dim: int
    groups: int = 32


GEOMETRIES: dict[str, Geometry] = {
    "tiny": Geometry(
        unet_channels=(32, 64),
        unet_down=("DownBlock2D", "CrossAttnDownBlock2D"),
        unet_up=("CrossAttnUpBlock2D", "UpBlock2D"),
        unet_layers=1,
        head_dim=8,
        vae_channels=(32, 64),
        vae_groups=32,
        latent_px=16,
        text_hidden=32,
        cross_dim=32,
    ),
    "medium": Geometry(
        unet_channels=(32, 32, 64),
        unet_down=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        unet_up=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        unet_layers=1,
        head_dim=8,
        vae_channels=(8, 16, 16, 16),
        vae_groups=8,
        latent_px=64,
        text_hidden=32,
        cross_dim=32,
    ),
    "sd15": Geometry(
        unet_channels=(320, 640, 1280, 1280),
        unet_down=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        unet_up=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        unet_layers=2,
        head_dim=8,
        vae_channels=(128, 256, 512, 512),
        vae_groups=32,
        latent_px=64,
        text_hidden=768,
        cross_dim=768,
    ),
}

MAX_TOKENS = 77
"""The tokenizer's limit, as in CLIP: longer prompts are truncated."""


def write_vocab(folder: Path) -> Path:
    """Write a byte-level CLIP vocabulary (``vocab.json``, empty ``merges.txt``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = _byte_chars()
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return folder


def _byte_chars() -> list[str]:
    """The 256 printable characters byte-level BPE uses for the 256 byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def build_pipeline(size: SizeName = "tiny", *, in_channels: int = 9, seed: int = 0, workdir: Path):
    """A ``StableDiffusionInpaintPipeline`` with random weights (``workdir`` holds the vocabulary)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    geo = GEOMETRIES[size]
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=geo.latent_px,
        in_channels=in_channels,
        out_channels=4,
        block_out_channels=geo.unet_channels,
        layers_per_block=geo.unet_layers,
        down_block_types=geo.unet_down,
        up_block_types=geo.unet_up,
        cross_attention_dim=geo.cross_dim,
        attention_head_dim=geo.head_dim,
        norm_num_groups=geo.groups,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=geo.vae_channels,
        down_block_types=("DownEncoderBlock2D",) * len(geo.vae_channels),
        up_block_types=("UpDecoderBlock2D",) * len(geo.vae_channels),
        latent_channels=4,
        norm_num_groups=geo.vae_groups,
        sample_size=geo.latent_px * 2 ** (len(geo.vae_channels) - 1),
    )
    tokenizer = CLIPTokenizer.from_pretrained(str(write_vocab(workdir / "vocab")), model_max_length=MAX_TOKENS)
    text_config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=geo.text_hidden,
        projection_dim=geo.text_hidden,
        intermediate_size=2 * geo.text_hidden,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=MAX_TOKENS,
        vocab_size=len(tokenizer),
    )
    text_encoder = CLIPTextModel(text_config)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    return StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sdxl_pipeline(*, seed: int = 0, workdir: Path):
    """A tiny ``StableDiffusionXLInpaintPipeline`` (two text encoders, size conditioning), native 32 px."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=9,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=6 * 8 + 32,  # six size numbers + the pooled text embedding
        cross_attention_dim=64,  # both text encoders' hidden states, concatenated
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        sample_size=32,
    )
    vocab = str(write_vocab(workdir / "vocab"))
    tokenizers = [CLIPTokenizer.from_pretrained(vocab, model_max_length=MAX_TOKENS) for _ in range(2)]
    config = CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, projection_dim=32, intermediate_size=64,
        num_attention_heads=4, num_hidden_layers=2, max_position_embeddings=MAX_TOKENS, vocab_size=len(tokenizers[0]),
    )  # fmt: skip
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading"
    )
    return StableDiffusionXLInpaintPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(config),
        text_encoder_2=CLIPTextModelWithProjection(config),
        tokenizer=tokenizers[0],
        tokenizer_2=tokenizers[1],
        unet=unet,
        scheduler=scheduler,
        requires_aesthetics_score=False,
        add_watermarker=False,
    )


def save_tiny_pipeline(
    folder: Path, size: SizeName | Literal["sdxl"] = "tiny", *, in_channels: int = 9, seed: int = 0
) -> Path:
    """Build a random pipeline and ``save_pretrained`` it (safetensors) into ``folder``; returns it.

    ``size="sdxl"`` builds the tiny SDXL inpainting pipeline instead (``in_channels`` is then 9).
    """
    workdir = folder.parent / f"{folder.name}-work"
    if size == "sdxl":
        pipe = build_sdxl_pipeline(seed=seed, workdir=workdir)
    else:
        pipe = build_pipeline(size, in_channels=in_channels, seed=seed, workdir=workdir)
    pipe.save_pretrained(str(folder), safe_serialization=True)
    return folder


CONTROL_EMBEDDING: dict[str, tuple[int, ...]] = {
    "tiny": (16, 32),  # one stride-2 step: the tiny VAE's factor 2
    "sdxl": (16, 32),
    "medium": (16, 16, 16, 16),  # three steps: SD 1.5's factor 8
    "sd15": (16, 32, 96, 256),  # SD 1.5's own conditioning embedding
}


def build_controlnet(size: SizeName | Literal["sdxl"] = "tiny", *, seed: int = 0, conditioning_channels: int = 3):
    """A random ``ControlNetModel`` matching the UNet of ``build_pipeline(size)`` (or the tiny SDXL one).

    Its input is the 4-channel noisy latent (the inpainting UNet's extra mask channels are not
    the ControlNet's); its conditioning embedding downsamples by the VAE's factor. The output
    convolutions, zero at the start of a real training, get small random weights, so that the
    control image reaches the UNet as a trained ControlNet's does.
    """
    import torch

    torch.manual_seed(seed)
    net = _controlnet(size, conditioning_channels)
    with torch.no_grad():
        zeroed = [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]
        for module in zeroed:
            for parameter in module.parameters():
                parameter.normal_(0.0, 0.05)
    return net


def _controlnet(size: str, conditioning_channels: int):
    from diffusers import ControlNetModel

    if size == "sdxl":
        return ControlNetModel(
            in_channels=4,
            conditioning_channels=conditioning_channels,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            attention_head_dim=(2, 4),
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            transformer_layers_per_block=(1, 2),
            projection_class_embeddings_input_dim=6 * 8 + 32,
            cross_attention_dim=64,
            conditioning_embedding_out_channels=CONTROL_EMBEDDING["sdxl"],
        )
    geo = GEOMETRIES[size]
    return ControlNetModel(
        in_channels=4,
        conditioning_channels=conditioning_channels,
        block_out_channels=geo.unet_channels,
        layers_per_block=geo.unet_layers,
        down_block_types=geo.unet_down,
        cross_attention_dim=geo.cross_dim,
        attention_head_dim=geo.head_dim,
        norm_num_groups=geo.groups,
        conditioning_embedding_out_channels=CONTROL_EMBEDDING[size],
    )


def save_tiny_controlnet(folder: Path, size: SizeName | Literal["sdxl"] = "tiny", *, seed: int = 0) -> Path:
    """Build a random ControlNet (``build_controlnet``) and ``save_pretrained`` it into ``folder``; returns it."""
    build_controlnet(size, seed=seed).save_pretrained(str(folder), safe_serialization=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny models run faster on one thread, above all on a shared machine. A test module that
    imports this fixture runs every test on one torch thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
