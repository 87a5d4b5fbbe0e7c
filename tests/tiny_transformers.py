"""Builders of random-weight SAM 3 and ViTMatte models for tests and benchmarks.

``save_sam3(folder)``, ``save_sam3_full(folder)`` and ``save_vitmatte(folder)`` write complete ``transformers`` folders
(config, weights, processor and, for SAM 3, a tokenizer) that load through the same
``from_pretrained(..., local_files_only=True)`` path as a user's model. Nothing is downloaded: the
tokenizer's vocabulary is written here (one token per byte, no merges, CLIP's special tokens).

Sizes: ``tiny`` (tests, well under a second a call on the CPU) and ``real`` (the published
architectures' sizes with random weights: the same compute as the trained models, for timings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

Size = Literal["tiny", "real"]


def byte_vocabulary() -> dict[str, int]:
    """CLIP's start and end tokens, then one token per byte (printable stand-in characters), alone and word-final."""
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    others = [b for b in range(256) if b not in printable]
    chars = {b: chr(b) for b in printable} | {b: chr(256 + i) for i, b in enumerate(others)}
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for byte in range(256):
            vocab[chars[byte] + suffix] = len(vocab)
    return vocab


def sam3_config(size: Size = "tiny") -> Any:
    from transformers import Sam3Config
    from transformers.models.sam3.configuration_sam3 import Sam3ViTConfig

    if size == "real":
        return Sam3Config()
    vit = Sam3ViTConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=56,
        patch_size=14, window_size=2, global_attn_indexes=[1], pretrain_image_size=56,
    )  # fmt: skip
    small = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64, "num_layers": 1}
    return Sam3Config(
        vision_config={
            "backbone_config": vit, "fpn_hidden_size": 32, "backbone_feature_sizes": [[16, 16], [8, 8], [4, 4]],
        },
        text_config={
            "vocab_size": 520, "hidden_size": 32, "intermediate_size": 64, "projection_dim": 32,
            "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 32,
            "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1,
        },
        geometry_encoder_config=small,
        detr_encoder_config=small,
        detr_decoder_config=small | {"num_queries": 8},
        mask_decoder_config={"hidden_size": 32, "num_attention_heads": 2},
    )  # fmt: skip


def sam3_processor(size: Size = "tiny") -> Any:
    from transformers import CLIPTokenizer, Sam3Processor
    from transformers.models.sam3.image_processing_sam3 import Sam3ImageProcessor

    tokenizer = CLIPTokenizer(vocab=byte_vocabulary(), merges=[])
    if size == "real":
        return Sam3Processor(image_processor=Sam3ImageProcessor(), tokenizer=tokenizer)
    images = Sam3ImageProcessor(size={"height": 56, "width": 56}, mask_size={"height": 16, "width": 16})
    return Sam3Processor(image_processor=images, tokenizer=tokenizer)


def sam3_model(size: Size = "tiny", seed: int = 0, device: str = "cpu") -> Any:
    """A random-weight ``Sam3Model``, initialised on ``device`` (fast for the real size on a GPU)."""
    import torch
    from transformers import Sam3Model

    torch.manual_seed(seed)
    with torch.device(device):
        return Sam3Model(sam3_config(size)).eval()


def save_sam3(folder: Path, seed: int = 0) -> Path:
    """A tiny SAM 3 folder (model, processor, tokenizer) at ``folder``; returns ``folder``."""
    sam3_model("tiny", seed).save_pretrained(folder)
    sam3_processor("tiny").save_pretrained(folder)
    return folder


def sam3_tracker_config(size: Size = "tiny") -> Any:
    """The point-prompt tracker of SAM 3 (``Sam3TrackerConfig``); ``real`` is the published size."""
    from transformers import Sam3TrackerConfig

    if size == "real":
        return Sam3TrackerConfig()
    return Sam3TrackerConfig(**_tiny_tracker_parts())


def _tiny_tracker_parts() -> dict[str, Any]:
    """The tracker's sub-configs at the tiny detector's sizes (56 px input, 4 x 4 patches, width 32)."""
    return {
        "vision_config": sam3_config("tiny").vision_config.to_dict(),
        "prompt_encoder_config": {"hidden_size": 32, "image_size": 56, "patch_size": 14},
        "mask_decoder_config": {"hidden_size": 32, "num_attention_heads": 2, "mlp_dim": 64, "iou_head_hidden_dim": 32},
    }


def sam3_tracker_model(size: Size = "tiny", seed: int = 0, device: str = "cpu") -> Any:
    """A random-weight ``Sam3TrackerModel`` (SAM 3's clicks), initialised on ``device``."""
    import torch
    from transformers import Sam3TrackerModel

    torch.manual_seed(seed)
    with torch.device(device):
        return Sam3TrackerModel(sam3_tracker_config(size)).eval()


def save_sam3_full(folder: Path, seed: int = 0) -> Path:
    """A tiny SAM 3 folder laid out like the published ``facebook/sam3``: a ``sam3_video`` config and
    one weights file holding the detector (``detector_model.*``), the tracker (``tracker_model.*``) and
    the tracker's neck (``tracker_neck.*``), with the processor and tokenizer. Both ``Sam3Model``
    (find by name) and ``Sam3TrackerModel`` (clicks) load from it.

    The weights are written from the module tree directly: this transformers' ``save_pretrained`` of a
    ``Sam3VideoModel`` writes the tracker as ``tracker_model.tracker_model.*``, which only
    ``Sam3VideoModel`` reads back.
    """
    import torch
    from safetensors.torch import save_file
    from transformers import Sam3VideoConfig, Sam3VideoModel

    memory = {
        "memory_attention_hidden_size": 32, "memory_attention_feed_forward_hidden_size": 64,
        "memory_attention_num_layers": 1, "memory_encoder_hidden_size": 32, "memory_encoder_output_channels": 16,
        "mask_downsampler_embed_dim": 32, "memory_fuser_embed_dim": 32, "memory_fuser_intermediate_dim": 64,
        "memory_attention_rope_feat_sizes": [4, 4], "image_size": 56,
    }  # fmt: skip
    torch.manual_seed(seed)
    config = Sam3VideoConfig(detector_config=sam3_config("tiny"), tracker_config=_tiny_tracker_parts() | memory)
    model = Sam3VideoModel(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(folder)
    weights = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    sam3_processor("tiny").save_pretrained(folder)
    return folder


def vitmatte_config(size: Size = "tiny") -> Any:
    from transformers import VitDetConfig, VitMatteConfig

    if size == "real":  # ViTMatte-S: a ViT-S/16 backbone on 4 channels, windowed and residual blocks
        backbone = VitDetConfig(
            hidden_size=384, num_attention_heads=6, num_hidden_layers=12, mlp_ratio=4, num_channels=4,
            image_size=512, pretrain_image_size=224, patch_size=16, use_relative_position_embeddings=True,
            window_size=14, window_block_indices=[0, 1, 3, 4, 6, 7, 9, 10], residual_block_indices=[2, 5, 8, 11],
            out_features=["stage12"],
        )  # fmt: skip
        # the decoder sizes of the published model, as lists: this transformers' defaults are tuples,
        # which its own decoder cannot concatenate to a list
        return VitMatteConfig(
            backbone_config=backbone, hidden_size=384, convstream_hidden_sizes=[48, 96, 192],
            fusion_hidden_sizes=[256, 128, 64, 32],
        )  # fmt: skip
    backbone = VitDetConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, image_size=64, patch_size=16,
        num_channels=4, out_features=["stage2"], pretrain_image_size=64,
    )  # fmt: skip
    return VitMatteConfig(
        backbone_config=backbone, hidden_size=32, convstream_hidden_sizes=[8, 16, 16],
        fusion_hidden_sizes=[32, 16, 8, 8],
    )  # fmt: skip


def vitmatte_model(size: Size = "tiny", seed: int = 0, device: str = "cpu") -> Any:
    """A random-weight ``VitMatteForImageMatting``, initialised on ``device``."""
    import torch
    from transformers import VitMatteForImageMatting

    torch.manual_seed(seed)
    with torch.device(device):
        return VitMatteForImageMatting(vitmatte_config(size)).eval()


def save_vitmatte(folder: Path, seed: int = 0) -> Path:
    """A tiny ViTMatte folder (model and image processor) at ``folder``; returns ``folder``."""
    from transformers import VitMatteImageProcessor

    vitmatte_model("tiny", seed).save_pretrained(folder)
    VitMatteImageProcessor().save_pretrained(folder)
    return folder
