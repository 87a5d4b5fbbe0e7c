"""A lean runtime for SAM's prompt-to-mask path: same weights, same maths, less work per click.

Segment Anything's mask decoder costs about 3.6 GFLOP per click, nearly all of it in
projections of the 4096 image tokens. This runtime computes the same function with less:

- **Once per photo** (``PhotoFeatures``): the block-0 key, value and image-to-token query
  projections of the image embedding, packed beside it in one ``(4096, 640)`` matrix. They are
  linear in the embedding, so a mask input (the previous click's logits) only adds its own
  16-channel features through a ``(17, 640)`` matrix, in three thin products where block 0
  reads keys, values, scores and residual (``_block0``).
- **Folded attention** while the prompt has few tokens (``sam_layers``): products with the
  4096 image tokens get ``8 * tokens`` columns instead of 128 or 256.
- **Fewer passes over 4096-row tensors**: residuals, biases and the no-mask prompt ride in the
  ``addmm`` that applies attention (in place where the residual is this runtime's own), and the
  upscaling runs as two whole matrix products with one small pixel-shuffle at the end.
- **Only what is returned**: the final attention and the hypernetworks run for the IoU token
  and the mask tokens that are returned.
- **No page faults per click**: the decoder's temporaries are a few MiB each, above glibc's
  default ``mmap`` threshold, so every one was fresh memory the kernel had to fault in and zero.
  ``keep_freed_memory`` raises the thresholds once so freed blocks are reused.

The result matches stock ``Sam.mask_decoder`` to float32 rounding (checked by the tests).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipeline.select.sam import layers as sa

if TYPE_CHECKING:
    import torch
    from segment_anything.modeling import Sam

# Above these many tokens (5 output + prompt) folded products cost more than stock's projections:
# 8 heads x t columns against 128 (token-to-image: both sides fold), or about 256 (image-to-token,
# whose queries fold into one product and values into the one that applies attention).
FOLD_MAX_TOKENS = 28
T2I_FOLD_MAX_TOKENS = 16
PROJECTED = 384  # packed columns after the embedding: block 0's k, v and q, 128 each
MALLOC_MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's largest allowed value
MALLOC_TRIM_THRESHOLD_BYTES = 128 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc to serve blocks up to 32 MiB from its heap and keep up to 128 MiB of freed memory.

    Process-wide and idempotent; a no-op (False) off glibc. Worth about 4000 page faults, some
    7 ms, per click on a 2-core CPU.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, MALLOC_MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(m_trim_threshold, MALLOC_TRIM_THRESHOLD_BYTES)
    )


@dataclass(frozen=True)
class PhotoFeatures:
    """Per-photo decoder inputs, ``(4096, 640)`` float32: ``[embedding | k | v | q]``.

    ``embedding`` holds the image tokens ``(4096, 256)``; ``k``, ``v`` and ``q`` ``(4096, 128)``
    are block 0's token-to-image key and value and image-to-token query projections, biases and
    the no-mask dense prompt's share included.
    """

    packed: torch.Tensor

    @property
    def tokens(self) -> torch.Tensor:
        """The image embedding as ``(4096, 256)`` rows (a view)."""
        return self.packed[:, : self.packed.shape[1] - PROJECTED]

    @property
    def nbytes(self) -> int:
        return self.packed.numel() * self.packed.element_size()


class DecoderRuntime:
    """SAM's prompt encoder and mask decoder for one loaded model, on its device, float32."""

    def __init__(self, sam: Sam) -> None:
        import torch

        if sam.device.type == "cpu":
            keep_freed_memory()
        self.sam = sam
        decoder = sam.mask_decoder
        transformer = decoder.transformer
        with torch.inference_mode():
            pe = sam.prompt_encoder.get_dense_pe()  # (1, 256, 64, 64)
            self.grid = tuple(pe.shape[-2:])
            self.pe = pe.flatten(2)[0].T.contiguous()  # (4096, 256)
            self.output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], 0)
            self.blocks = [sa.Block.of(block) for block in transformer.layers]
            self.final = sa.Heads.of(transformer.final_attn_token_to_image)
            self.final_norm = transformer.norm_final_attn
            self.iou_head = [sa.Linear.of(layer) for layer in decoder.iou_prediction_head.layers]
            mlps = decoder.output_hypernetworks_mlps
            # hypernetwork layers batched over the masks returned: mask 0 alone, or masks 1 to 3
            depth = len(mlps[0].layers)
            self.hyper = {multimask: [sa.Batched.of([mlps[i].layers[j] for i in masks]) for j in range(depth)]
                          for multimask, masks in ((False, [0]), (True, [1, 2, 3]))}  # fmt: skip
            first = self.blocks[0]
            self._w0 = [(first.t2i.module.k_proj.weight, first.t2i.module.k_proj.bias),
                        (first.t2i.module.v_proj.weight, first.t2i.module.v_proj.bias),
                        (first.i2t.module.q_proj.weight, first.i2t.module.q_proj.bias)]  # fmt: skip
            conv = sam.prompt_encoder.mask_downscaling[-1]  # 1x1 conv, 16 -> 256 channels
            wc, bc = conv.weight.flatten(1), conv.bias  # (256, 16), (256,)
            self.no_mask = sam.prompt_encoder.no_mask_embed.weight[0]
            # A mask input's features (16 channels and a constant 1) -> its share of every packed
            # column; the no-mask share, already in the packed projections, is taken back out.
            maps = [torch.cat([wc, bc[:, None]], 1)]
            maps += [torch.cat([w @ wc, (w @ (bc - self.no_mask))[:, None]], 1) for w, _ in self._w0]
            self._dense = torch.cat(maps, 0).T.contiguous()  # (17, 640)
            self._upscale = sa.upscaling_weights(decoder.output_upscaling)
            down = sam.prompt_encoder.mask_downscaling
            # its stride-2 2x2 convolutions as (out, patch) matrices, patch order (channel, dy, dx)
            self._mask_convs = [(c.weight.flatten(1).contiguous(), c.bias[:, None]) for c in (down[0], down[3])]

    def features(self, embedding: torch.Tensor) -> PhotoFeatures:
        """Per-photo precomputation from the image embedding ``(1, 256, 64, 64)``."""
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            tokens = embedding.float().flatten(2)[0].T
            with_pe = tokens + self.pe
            (wk, bk), (wv, bv), (wq, bq) = self._w0
            k = F.linear(with_pe, wk, bk + wk @ self.no_mask)
            v = F.linear(tokens, wv, bv + wv @ self.no_mask)
            q = F.linear(with_pe, wq, bq + wq @ self.no_mask)
            return PhotoFeatures(torch.cat([tokens, k, v, q], 1))

    def run(
        self,
        features: PhotoFeatures,
        sparse: torch.Tensor,
        mask_input: torch.Tensor | None,
        *,
        multimask: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-res logits ``(k, 256, 256)`` and predicted IoU ``(k,)``; k = 3 if ``multimask`` else 1.

        ``sparse`` is the prompt encoder's ``(n, 256)`` point/box embedding; ``mask_input`` an
        optional ``(256, 256)`` logit map from an earlier call.
        """
        import torch

        with torch.inference_mode():
            tokens = torch.cat([self.output_tokens, sparse], 0)
            fold = tokens.shape[0] <= FOLD_MAX_TOKENS
            dense = None if mask_input is None else self._mask_features(mask_input)
            queries, keys = self._block0(features.packed, tokens, dense, fold=fold)
            queries, keys = self._block1(queries, keys, tokens, fold=fold)
            picked = [0, 2, 3, 4] if multimask else [0, 1]  # IoU token, then the returned mask tokens
            attn = sa.token_to_image(self.final, queries[picked] + tokens[picked], keys, pe=self.pe)
            hs = sa.norm(self.final_norm, queries[picked] + attn)
            iou = sa.relu_mlp(self.iou_head, hs[:1])[0]
            iou = iou[1:] if multimask else iou[:1]
            hyper = sa.relu_mlp(self.hyper[multimask], hs[1:, None])[:, 0]  # (k, 32)
            return self._masks(keys, hyper), iou

    def _mask_features(self, mask_input: torch.Tensor) -> torch.Tensor:
        """A ``(256, 256)`` logit map -> ``(4096, 17)`` (a transposed view): its 16 downscaled
        channels and a constant 1 for every image token.

        The two 2x2 stride-2 convolutions of ``mask_downscaling`` run as products with the 2x2
        patches laid out channels-first, so SAM's channel layer norms reduce over rows.
        """
        import torch

        (w1, b1), (w2, b2) = self._mask_convs
        _, ln1, act1, _, ln2, act2, _ = self.sam.prompt_encoder.mask_downscaling
        side = mask_input.shape[-1] // 2
        patches = mask_input.float().view(side, 2, side, 2).permute(1, 3, 0, 2).reshape(4, -1)  # (dy, dx) x (y, x)
        x = act1(sa.channel_norm(ln1, torch.addmm(b1, w1, patches)))
        side //= 2
        patches = x.view(-1, side, 2, side, 2).permute(0, 2, 4, 1, 3).reshape(-1, side * side)  # (c, dy, dx) x (y, x)
        x = act2(sa.channel_norm(ln2, torch.addmm(b2, w2, patches)))
        return torch.cat([x, x.new_ones(1, x.shape[1])], 0).T

    def _block0(self, packed: torch.Tensor, tokens: torch.Tensor, dense: torch.Tensor | None, *, fold: bool):
        """The first two-way block (no PE on its self-attention). ``dense``: the mask input's features."""
        import torch

        channels = packed.shape[1] - PROJECTED
        keys, kv, q_img = torch.split(packed, [channels, 256, 128], 1)
        block = self.blocks[0]
        queries = sa.norm(block.norms[0], sa.self_attention(block.self_attn, block.self_qk, tokens, tokens))
        if dense is not None:  # the mask's share of the packed projections, instead of the no-mask one
            kv = torch.addmm(kv, dense, self._dense[:, channels : channels + 256])
        k, v = kv.chunk(2, 1)
        queries = block.token_side(queries, sa.attend(block.t2i, block.t2i.q(queries + tokens), k, v))
        i2t = block.i2t
        if fold:
            blocks = sa.key_blocks(i2t, queries + tokens)  # (h * d, h * t)
            scores = q_img @ blocks
            if dense is not None:
                scores.addmm_(dense, self._dense[:, channels + 256 :] @ blocks)
            bias = i2t.out.bias if dense is not None else i2t.out.bias + self.no_mask
            keys = torch.addmm(keys, sa.head_softmax(scores, i2t.count), sa.token_values(i2t, queries, bias))
        else:
            if dense is not None:
                q_img = torch.addmm(q_img, dense, self._dense[:, channels + 256 :])
            attn = sa.image_to_token_stock(i2t, q_img, queries + tokens, queries)
            keys = keys + (attn if dense is not None else attn.add_(self.no_mask))
        if dense is not None:
            keys = keys.addmm_(dense, self._dense[:, :channels])
        return queries, sa.norm(block.norms[3], keys)

    def _block1(self, queries: torch.Tensor, keys: torch.Tensor, tokens: torch.Tensor, *, fold: bool):
        """The second two-way block; ``keys`` (this runtime's own tensor) is updated in place."""
        block = self.blocks[1]
        q = queries + tokens
        queries = sa.norm(block.norms[0], queries + sa.self_attention(block.self_attn, block.self_qk, q, queries))
        keys_pe = keys + self.pe
        if tokens.shape[0] <= T2I_FOLD_MAX_TOKENS:
            attn = sa.token_to_image(block.t2i, queries + tokens, keys, keys_pe=keys_pe)
        else:
            t2i = block.t2i
            attn = sa.attend(t2i, t2i.q(queries + tokens), t2i.k(keys_pe), t2i.v(keys))
        queries = block.token_side(queries, attn)
        i2t = block.i2t
        if fold:
            attn = sa.head_softmax(sa.image_scores_folded(i2t, keys_pe, queries + tokens), i2t.count)
            keys = keys.addmm_(attn, sa.token_values(i2t, queries, i2t.out.bias))
        else:
            keys = keys.add_(sa.image_to_token_stock(i2t, i2t.q(keys_pe), queries + tokens, queries))
        return queries, sa.norm(block.norms[3], keys)

    def _masks(self, keys: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        """The two transposed convolutions as two matrix products, then ``hyper`` (k, 32) per pixel.

        Rows of the first product are image tokens ``(y, x)`` and its columns ``(dy, dx, channel)``;
        rows of the second are ``(y, x, dy, dx)`` and its columns ``(ey, ex, channel)``: the value
        of pixel ``(4y + 2dy + ey, 4x + 2dx + ex)``, put in place by one ``pixel_shuffle``.
        """
        import torch
        import torch.nn.functional as F

        w1, b1, ln, w2, b2 = self._upscale
        channels = ln.weight.shape[0]
        x = torch.addmm(b1, keys, w1.T).view(-1, channels)  # (4 * 4096, 64)
        x = F.gelu(F.layer_norm(x, (channels,), ln.weight, ln.bias, ln.eps))
        y = sa.linear_gelu(x, w2, b2).view(-1, hyper.shape[1])  # (16 * 4096, 32)
        gh, gw = self.grid
        k = hyper.shape[0]
        # (k, y, x, dy, dx, ey, ex) -> 16 sub-pixel planes (dy, ey, dx, ex), which pixel_shuffle interleaves
        planes = (hyper @ y.T).view(k, gh, gw, 2, 2, 2, 2).permute(0, 3, 5, 4, 6, 1, 2).reshape(k, 16, gh, gw)
        return F.pixel_shuffle(planes, 4).view(k, gh * 4, gw * 4)


def binary_masks(low_res: np.ndarray, input_hw: tuple[int, int], original_hw: tuple[int, int]) -> np.ndarray:
    """Low-res logits ``(k, 256, 256)`` -> binary masks ``(k, H, W)`` float32 in {0, 1}, logit > 0.

    The same two bilinear steps as stock ``Sam.postprocess_masks`` (to the 1024 input frame,
    crop the padding, to the photo size; half-pixel centres, edges clamped), done by
    ``cv2.resize`` on float32 one mask at a time. Only the low-res rows and columns that reach
    the unpadded frame are upsampled (the 4x scale, and so every weight, is unchanged), and the
    threshold writes straight into the result.
    """
    import cv2

    height, width = original_hw
    rows = min(low_res.shape[-2], input_hw[0] // 4 + 2)  # the last frame row reads low-res row (h - 0.5) / 4
    cols = min(low_res.shape[-1], input_hw[1] // 4 + 2)
    out = np.empty((low_res.shape[0], height, width), np.float32)
    for i, logits in enumerate(low_res):
        framed = cv2.resize(logits[:rows, :cols], (4 * cols, 4 * rows), interpolation=cv2.INTER_LINEAR)
        framed = framed[: input_hw[0], : input_hw[1]]
        if framed.shape != (height, width):
            framed = cv2.resize(framed, (width, height), dst=out[i], interpolation=cv2.INTER_LINEAR)
        cv2.threshold(framed, 0.0, 1.0, cv2.THRESH_BINARY, dst=out[i])
    return out
