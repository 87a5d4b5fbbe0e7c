"""A tiny, randomly initialised SAM 2 video model saved like a user's download (``save_pretrained``).

Real ``Sam2VideoModel`` code at toy sizes: a 5-block Hiera on 256x256 inputs, 128-wide prompt,
decoder and memory layers (the memory attention's 64-channel keys are fixed in the model, and
its object pointers need a wider hidden size than that). Random weights track nothing useful,
so tests check the path (loading, streaming, shapes, bounded memory), never quality.
"""

from __future__ import annotations

from pathlib import Path

SIDE = 256


def save_tiny_sam2(folder: Path) -> Path:
    import torch
    from transformers import Sam2ImageProcessor, Sam2VideoConfig, Sam2VideoModel, Sam2VideoProcessor
    from transformers.models.sam2.configuration_sam2 import Sam2HieraDetConfig, Sam2VisionConfig
    from transformers.models.sam2_video import Sam2VideoVideoProcessor

    s = SIDE
    backbone = Sam2HieraDetConfig(
        hidden_size=16, blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 1, 1, 1], global_attention_blocks=[3], window_size_per_stage=[4, 4, 4, 4],
        image_size=[s, s], window_positional_embedding_background_size=[4, 4],
    )  # fmt: skip
    vision = Sam2VisionConfig(
        backbone_config=backbone, backbone_channel_list=[128, 64, 32, 16],
        backbone_feature_sizes=[[s // 4, s // 4], [s // 8, s // 8], [s // 16, s // 16]], fpn_hidden_size=128,
    )  # fmt: skip
    config = Sam2VideoConfig(
        vision_config=vision, image_size=s,
        prompt_encoder_config={"hidden_size": 128, "image_size": s, "mask_input_channels": 4},
        mask_decoder_config={"hidden_size": 128, "mlp_dim": 64, "num_attention_heads": 2, "iou_head_hidden_dim": 32},
        memory_attention_hidden_size=128, memory_attention_num_layers=1, memory_attention_feed_forward_hidden_size=64,
        memory_attention_rope_feat_sizes=[s // 16, s // 16], memory_encoder_hidden_size=128,
        memory_encoder_output_channels=64, mask_downsampler_embed_dim=128, memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=64,
    )  # fmt: skip
    torch.manual_seed(0)
    Sam2VideoModel(config).save_pretrained(folder)
    images = Sam2ImageProcessor(size={"height": s, "width": s}, mask_size={"height": s // 4, "width": s // 4})
    processor = Sam2VideoProcessor(
        image_processor=images,
        video_processor=Sam2VideoVideoProcessor(size={"height": s, "width": s}),
    )
    processor.save_pretrained(folder)
    return folder
