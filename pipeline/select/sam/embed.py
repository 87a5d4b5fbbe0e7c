"""SAM's image embedding, computed like ``SamPredictor.set_image`` but with fused attention.

Stock SAM materialises every attention map, adds the decomposed relative-position terms to it
in two more full passes, then runs softmax as a third; in the four global-attention blocks of
ViT-B each map is 12 x 4096 x 4096 floats. Here the relative-position terms become the
``attn_mask`` of ``torch.nn.functional.scaled_dot_product_attention``, whose fused kernel does
scaling, masking, softmax and the value product in one pass; the bias is built one head and a
band of query rows at a time, so it is read back from cache and memory stays bounded. The
weights, input transform and all other layers are stock, so the embedding equals stock's to
float32 rounding. On CUDA the encoder runs under bfloat16 autocast (float16 where bfloat16 is
missing); on the CPU in float32 (bfloat16 is only emulated on CPUs without AVX512-BF16 and was
slower there, see docs/BENCHMARKS.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from segment_anything.modeling import Sam
    from segment_anything.modeling.image_encoder import Attention, Block, ImageEncoderViT

BIAS_BLOCK_FLOATS = 1 << 21  # 8 MiB: one head, 512 query rows of a global block


def input_size(height: int, width: int, side: int = 1024) -> tuple[int, int]:
    """``(h, w)`` of a ``height`` x ``width`` photo resized so its longest side is ``side`` (SAM's rule)."""
    scale = side / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


def embed(sam: Sam, image: np.ndarray) -> torch.Tensor:
    """The ``(1, 256, 64, 64)`` float32 embedding of an ``(H, W, 3)`` uint8 RGB image."""
    import torch
    from segment_anything.utils.transforms import ResizeLongestSide

    device = sam.device
    resized = ResizeLongestSide(sam.image_encoder.img_size).apply_image(image)
    pixels = torch.as_tensor(resized, device=device).permute(2, 0, 1).contiguous()[None]
    with torch.inference_mode():
        x = sam.preprocess(pixels.float())
        if device.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            with torch.autocast("cuda", dtype=dtype):
                return encode(sam.image_encoder, x).float()
        return encode(sam.image_encoder, x)


def encode(encoder: ImageEncoderViT, x: torch.Tensor) -> torch.Tensor:
    """``ImageEncoderViT.forward`` with fused attention; ``x`` is the normalised, padded input."""
    x = encoder.patch_embed(x)
    if encoder.pos_embed is not None:
        x = x + encoder.pos_embed
    for block in encoder.blocks:
        x = _block(block, x)
    return encoder.neck(x.permute(0, 3, 1, 2))


def _block(block: Block, x: torch.Tensor) -> torch.Tensor:
    from segment_anything.modeling.image_encoder import window_partition, window_unpartition

    shortcut = x
    x = block.norm1(x)
    if block.window_size > 0:
        height, width = x.shape[1], x.shape[2]
        x, padded = window_partition(x, block.window_size)
        x = window_unpartition(_attention(block.attn, x), block.window_size, padded, (height, width))
    else:
        x = _attention(block.attn, x)
    x = shortcut + x
    return x + block.mlp(block.norm2(x))


def _attention(attn: Attention, x: torch.Tensor) -> torch.Tensor:
    """Multi-head attention over ``x`` (B, H, W, C) with decomposed relative positions.

    Runs one head and a band of query rows at a time, so each additive bias block (at most
    ``BIAS_BLOCK_FLOATS``) stays in cache between being written and being read by the kernel.
    """
    import torch
    import torch.nn.functional as F

    batch, height, width, _ = x.shape
    heads = attn.num_heads
    qkv = attn.qkv(x).reshape(batch, height * width, 3, heads, -1).permute(2, 0, 3, 1, 4).contiguous()
    q, k, v = qkv.unbind(0)  # (B, heads, N, d)
    if not attn.use_rel_pos:
        out = F.scaled_dot_product_attention(q, k, v, scale=attn.scale)
    else:
        rel_h, rel_w = _rel_pos_terms(attn, q, (height, width))
        rows = max(1, BIAS_BLOCK_FLOATS // (batch * width * height * width))
        out = torch.empty_like(q)
        for head in range(heads):
            for top in range(0, height, rows):
                band = slice(top * width, min(top + rows, height) * width)
                bias = rel_h[:, head, top : top + rows, :, :, None] + rel_w[:, head, top : top + rows, :, None, :]
                out[:, head, band] = F.scaled_dot_product_attention(
                    q[:, head, band],
                    k[:, head],
                    v[:, head],
                    attn_mask=bias.view(batch, -1, height * width),
                    scale=attn.scale,
                )
    out = out.permute(0, 2, 1, 3).reshape(batch, height, width, -1)
    return attn.proj(out)


def _rel_pos_terms(attn: Attention, q: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stock SAM's decomposed relative-position terms: ``(B, h, H, W, kH)`` and ``(B, h, H, W, kW)``.

    The bias for query ``(y, x)`` and key ``(ky, kx)`` is ``rel_h[..., y, x, ky] + rel_w[..., y, x, kx]``.
    """
    import torch
    from segment_anything.modeling.image_encoder import get_rel_pos

    height, width = size
    batch, heads, _, dim = q.shape
    r_q = q.reshape(batch, heads, height, width, dim)
    rel_h = torch.einsum("bnhwc,hkc->bnhwk", r_q, get_rel_pos(height, height, attn.rel_pos_h)).contiguous()
    rel_w = torch.einsum("bnhwc,wkc->bnhwk", r_q, get_rel_pos(width, width, attn.rel_pos_w)).contiguous()
    return rel_h, rel_w
