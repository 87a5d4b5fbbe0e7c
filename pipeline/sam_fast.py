"""A lean runtime for SAM's prompt-to-mask path: same weights, same maths, less work per click.

Segment Anything's mask decoder costs about 3.6 GFLOP per click, nearly all of it in
projections of the 4096 image tokens. This runtime computes the same function with less:

- **Once per photo** (``PhotoFeatures``): the block-0 key, value and image-to-token query
  projections of the image embedding. They are linear in the embedding, and the dense prompt
  (no-mask embedding, or the mask input's 16-channel features through the folded last 1x1
  convolution) only adds a cheap term per click.
- **Folded attention** while the prompt has few tokens: token-to-image attention scores are
  computed as ``(q Wk) keys^T`` and its values as ``(attn keys) Wv^T``; image-to-token attention
  as ``keys (Wq^T k)`` and ``attn (Wo v)``. Products with the 4096 x 256 token matrix then have
  ``8 * tokens`` columns instead of 128-256, and the projected 4096-row matrices never exist.
- **Fewer passes over 4096-row tensors**: the image-to-token softmax runs on one contiguous
  ``(4096, heads * tokens)`` matrix, the residual and biases ride in the ``addmm`` that applies
  attention, and the upscaling runs per output offset so no pixel-shuffle copy is needed.
- **Only what is returned**: the final attention and the hypernetworks run for the IoU token
  and the mask tokens that are returned; the transposed convolutions are plain matrix products.

The result matches stock ``Sam.mask_decoder`` to float32 rounding (checked by the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from segment_anything.modeling import Sam
    from segment_anything.modeling.transformer import Attention

FOLD_MAX_TOKENS = 28  # above this many tokens (5 output + prompt) the folded products cost more than stock's
LOW_RES = 256  # side of SAM's low-resolution mask logits


@dataclass(frozen=True)
class PhotoFeatures:
    """Per-photo decoder inputs: image tokens ``(4096, 256)`` and their block-0 projections.

    ``keys_k`` / ``keys_q`` are ``(embedding + pe)`` through the block-0 token-to-image key and
    image-to-token query projections, ``values`` the embedding through the value projection,
    each ``(4096, 128)`` float32, biases and the no-mask dense prompt's share included.
    """

    tokens: torch.Tensor
    keys_k: torch.Tensor
    keys_q: torch.Tensor
    values: torch.Tensor

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.tokens, self.keys_k, self.keys_q, self.values))


class DecoderRuntime:
    """SAM's prompt encoder and mask decoder for one loaded model, on its device, float32."""

    def __init__(self, sam: Sam) -> None:
        import torch

        self.sam = sam
        decoder = sam.mask_decoder
        self.transformer = decoder.transformer
        block0 = self.transformer.layers[0]
        with torch.inference_mode():
            pe = sam.prompt_encoder.get_dense_pe()  # (1, 256, 64, 64)
            self.grid = tuple(pe.shape[-2:])
            self.pe = pe.flatten(2)[0].T.contiguous()  # (4096, 256)
            self.output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], 0)
            t2i, i2t = block0.cross_attn_token_to_image, block0.cross_attn_image_to_token
            self._w0 = [(t2i.k_proj.weight, t2i.k_proj.bias), (t2i.v_proj.weight, t2i.v_proj.bias),
                        (i2t.q_proj.weight, i2t.q_proj.bias)]  # fmt: skip
            # The dense prompt enters block 0 through these linear maps only.
            conv = sam.prompt_encoder.mask_downscaling[-1]  # 1x1 conv, 16 -> 256 channels
            wc, bc = conv.weight.flatten(1), conv.bias  # (256, 16), (256,)
            no_mask = sam.prompt_encoder.no_mask_embed.weight[0]
            # features() adds the no-mask term; a mask input swaps it for its own (bias minus no-mask)
            self._dense_maps = [(w @ wc, w @ (bc - no_mask), w @ no_mask) for w, _ in self._w0]
            # the same maps with the bias as a 17th input column, for one addmm per projection
            self._dense_cols = [torch.cat([wh, bh[:, None]], 1).T.contiguous() for wh, bh, _ in self._dense_maps]
            self._conv = (wc, bc, no_mask)
            self._upscale = _upscaling_weights(decoder.output_upscaling)

    def features(self, embedding: torch.Tensor) -> PhotoFeatures:
        """Per-photo precomputation from the image embedding ``(1, 256, 64, 64)``."""
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            tokens = embedding.float().flatten(2)[0].T.contiguous()
            with_pe = tokens + self.pe
            (wk, bk), (wv, bv), (wq, bq) = self._w0
            (_, _, dk), (_, _, dv), (_, _, dq) = self._dense_maps
            return PhotoFeatures(
                tokens, F.linear(with_pe, wk, bk + dk), F.linear(with_pe, wq, bq + dq), F.linear(tokens, wv, bv + dv)
            )

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
            queries, keys = self._block0(features, tokens, mask_input, fold=fold)
            queries, keys = self._block1(queries, keys, tokens, fold=fold)
            picked = [0, 2, 3, 4] if multimask else [0, 1]  # IoU token, then the returned mask tokens
            final = self.transformer.final_attn_token_to_image
            qi = queries[picked] + tokens[picked]
            attn = _t2i(final, qi, keys + self.pe, keys, fold=fold)
            hs = self.transformer.norm_final_attn(queries[picked] + attn)
            decoder = self.sam.mask_decoder
            iou = decoder.iou_prediction_head(hs[:1])[0]
            iou = iou[1:] if multimask else iou[:1]
            mlps = decoder.output_hypernetworks_mlps
            hyper = torch.stack([mlps[i - 1](hs[j]) for j, i in enumerate(picked) if j > 0])  # (k, 32)
            return self._masks(keys, hyper), iou

    def _block0(self, features: PhotoFeatures, tokens: torch.Tensor, mask_input: torch.Tensor | None, *, fold: bool):
        import torch
        import torch.nn.functional as F

        block = self.transformer.layers[0]
        if mask_input is None:
            keys, dense = features.tokens, self._conv[2]  # the no-mask term joins the residual below
            k, v, q_img = features.keys_k, features.values, features.keys_q
        else:
            hidden = self.sam.prompt_encoder.mask_downscaling[:-1](mask_input[None, None].float())
            hidden = hidden.flatten(2)[0].T  # (4096, 16)
            wc, bc, _ = self._conv
            keys, dense = features.tokens + F.linear(hidden, wc, bc), None
            hidden = torch.cat([hidden, hidden.new_ones(hidden.shape[0], 1)], 1)  # (4096, 17)
            wk, wv, wq = self._dense_cols
            k, v = torch.addmm(features.keys_k, hidden, wk), torch.addmm(features.values, hidden, wv)
            q_img = torch.addmm(features.keys_q, hidden, wq)
        queries = block.norm1(_batched(block.self_attn, tokens, tokens, tokens))  # first layer: no PE, no residual
        t2i = block.cross_attn_token_to_image
        queries = block.norm2(
            queries + _attend(t2i, F.linear(queries + tokens, t2i.q_proj.weight, t2i.q_proj.bias), k, v)
        )
        queries = block.norm3(queries + block.mlp(queries))
        i2t = block.cross_attn_image_to_token
        if fold:
            return queries, block.norm4(_i2t_from_query(i2t, q_img, queries + tokens, queries, keys, dense))
        keys = keys if dense is None else keys + dense
        return queries, block.norm4(keys + _i2t_stock(i2t, q_img, queries + tokens, queries))

    def _block1(self, queries: torch.Tensor, keys: torch.Tensor, tokens: torch.Tensor, *, fold: bool):
        import torch.nn.functional as F

        block = self.transformer.layers[1]
        q = queries + tokens
        queries = block.norm1(queries + _batched(block.self_attn, q, q, queries))
        keys_pe = keys + self.pe
        queries = block.norm2(
            queries + _t2i(block.cross_attn_token_to_image, queries + tokens, keys_pe, keys, fold=fold)
        )
        queries = block.norm3(queries + block.mlp(queries))
        i2t = block.cross_attn_image_to_token
        if fold:
            return queries, block.norm4(_i2t_folded(i2t, keys_pe, queries + tokens, queries, keys))
        q_img = F.linear(keys_pe, i2t.q_proj.weight, i2t.q_proj.bias)
        return queries, block.norm4(keys + _i2t_stock(i2t, q_img, queries + tokens, queries))

    def _masks(self, keys: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        """The two transposed convolutions as matrix products, then ``hyper`` (k, 32) per pixel.

        Each product runs once per output offset (``dy``, then ``ey``), so every result is a run
        of whole 256-pixel output rows and no pixel-shuffle copy is needed.
        """
        import torch
        import torch.nn.functional as F

        w1, b1, ln, w2, b2 = self._upscale
        channels = ln.weight.shape[0]
        gh, gw = self.grid
        k, c2 = hyper.shape
        out = torch.empty(k, gh, 2, 2, gw * 4, dtype=hyper.dtype, device=hyper.device)  # (k, y, dy, ey, (x, dx, ex))
        rows1, rows2 = w1.shape[0] // 2, w2.shape[0] // 2  # weight rows: (dy, dx, channel), (ey, ex, channel)
        for dy in range(2):
            part = slice(dy * rows1, (dy + 1) * rows1)
            x = F.linear(keys, w1[part], b1[part]).view(-1, channels)  # rows: (y, x, dx)
            x = F.gelu(F.layer_norm(x, (channels,), ln.weight, ln.bias, ln.eps))
            for ey in range(2):
                part = slice(ey * rows2, (ey + 1) * rows2)
                y = F.gelu(F.linear(x, w2[part], b2[part])).view(-1, c2)  # rows: (y, x, dx, ex)
                out[:, :, dy, ey] = (hyper @ y.T).view(k, gh, gw * 4)
        return out.view(k, gh * 4, gw * 4)


def _upscaling_weights(upscaling):
    """``ConvTranspose2d(k=2, s=2)`` weights ``(in, out, 2, 2)`` as ``F.linear`` weights over (dy, dx, out)."""
    conv1, ln, _, conv2, _ = upscaling

    def as_linear(conv):
        weight = conv.weight.permute(2, 3, 1, 0).reshape(-1, conv.weight.shape[0]).contiguous()
        return weight, conv.bias.repeat(4)

    w1, b1 = as_linear(conv1)
    w2, b2 = as_linear(conv2)
    return w1, b1, ln, w2, b2


def _batched(m: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """A stock ``Attention`` module on unbatched ``(n, c)`` inputs."""
    return m(q[None], k[None], v[None])[0]


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(n, heads * d)`` -> ``(heads, n, d)``."""
    return x.view(x.shape[0], heads, -1).transpose(0, 1)


def _attend(m: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Attention from already projected ``q``, ``k``, ``v`` (rows x internal dim), then ``out_proj``."""
    import torch.nn.functional as F

    out = F.scaled_dot_product_attention(_heads(q, m.num_heads), _heads(k, m.num_heads), _heads(v, m.num_heads))
    return F.linear(out.transpose(0, 1).reshape(q.shape[0], -1), m.out_proj.weight, m.out_proj.bias)


def _i2t_stock(m: Attention, q_img: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    """Image-to-token attention as stock computes it, the image queries ``(4096, internal)`` projected."""
    import torch.nn.functional as F

    k, v = F.linear(k_in, m.k_proj.weight, m.k_proj.bias), F.linear(v_in, m.v_proj.weight, m.v_proj.bias)
    return _attend(m, q_img, k, v)


def _t2i(m: Attention, q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor, *, fold: bool) -> torch.Tensor:
    """Token-to-image attention for a few query tokens over the 4096 image tokens."""
    import torch

    if not fold:
        return _batched(m, q_in, k_in, v_in)
    h = m.num_heads
    d = m.internal_dim // h
    q = _heads(torch.nn.functional.linear(q_in, m.q_proj.weight, m.q_proj.bias), h)  # (h, t, d)
    qk = torch.bmm(q, m.k_proj.weight.view(h, d, -1)).mul_(1.0 / math.sqrt(d))  # (h, t, 256); q . bk: constant per row
    attn = torch.softmax(qk.reshape(h * q.shape[1], -1) @ k_in.T, dim=-1)
    mixed = (attn @ v_in).view(h, q.shape[1], -1)  # (h, t, 256); softmax rows sum to one
    out = torch.bmm(mixed, m.v_proj.weight.view(h, d, -1).transpose(1, 2)) + m.v_proj.bias.view(h, 1, d)
    return torch.nn.functional.linear(out.transpose(0, 1).reshape(q.shape[1], -1), m.out_proj.weight, m.out_proj.bias)


def _i2t_values(m: Attention, v_in: torch.Tensor, residual_bias: torch.Tensor | None) -> torch.Tensor:
    """Each token's value through ``out_proj``: ``(heads * t, 256)``, head-major.

    Every head's attention row sums to one, so ``(out_proj.bias + residual_bias) / heads`` added to
    each value row adds that bias once to every output row.
    """
    import torch
    import torch.nn.functional as F

    h = m.num_heads
    v = _heads(F.linear(v_in, m.v_proj.weight, m.v_proj.bias), h)  # (h, t, d)
    wo = m.out_proj.weight.T.reshape(h, v.shape[2], -1)  # (h, d, 256)
    bias = m.out_proj.bias if residual_bias is None else m.out_proj.bias + residual_bias
    return torch.bmm(v, wo).reshape(-1, wo.shape[2]).add_(bias / h)


def _mix(m: Attention, scores: torch.Tensor, v_in: torch.Tensor, residual: torch.Tensor, residual_bias=None):
    """``residual`` (+ ``residual_bias``) plus attention: softmax over each head's tokens of ``scores``
    ``(n, heads * t)`` (contiguous, head-major columns, already scaled), then the out-projected values."""
    import torch

    return torch.addmm(residual, _head_softmax(scores, m.num_heads), _i2t_values(m, v_in, residual_bias))


def _head_softmax(scores: torch.Tensor, heads: int) -> torch.Tensor:
    """Softmax over each of ``heads`` equal column groups of ``scores`` ``(n, heads * t)``.

    Each row is shifted by its maximum over all groups (softmax is shift-invariant per group),
    exponentiated and divided by per-group sums: about three times faster than ``torch.softmax``
    over a last dimension of a few tokens. Should a group's sum underflow towards float32's
    smallest normal values, the rows are redone with ``torch.softmax``.
    """
    import torch

    n = scores.shape[0]
    e = torch.sub(scores, scores.amax(1, keepdim=True)).exp_().view(n, heads, -1)
    sums = e.sum(2, keepdim=True)
    if float(sums.min()) < 1e-30:
        return torch.softmax(scores.view(n, heads, -1), dim=-1).reshape(n, -1)
    return e.div_(sums).view(n, -1)


def _i2t_from_query(m: Attention, q_img, k_in, v_in, residual, residual_bias):
    """``residual`` plus image-to-token attention when the image queries ``(4096, internal)`` are
    already projected (few tokens)."""
    import torch
    import torch.nn.functional as F

    h = m.num_heads
    k = _heads(F.linear(k_in, m.k_proj.weight, m.k_proj.bias), h)  # (h, t, d)
    blocks = k.mul(1.0 / math.sqrt(k.shape[2])).transpose(1, 2)  # (h, d, t)
    scores = q_img @ torch.block_diag(*blocks)  # (n, h * t), head-major columns
    return _mix(m, scores, v_in, residual, residual_bias)


def _i2t_folded(m: Attention, keys_pe: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor, residual: torch.Tensor):
    """``residual`` plus image-to-token attention, the query projection folded into the few token keys."""
    import torch
    import torch.nn.functional as F

    h = m.num_heads
    k = _heads(F.linear(k_in, m.k_proj.weight, m.k_proj.bias), h)  # (h, t, d)
    d = k.shape[2]
    k = k.mul(1.0 / math.sqrt(d))
    wq = m.q_proj.weight.view(h, d, -1)  # (h, d, 256)
    folded = torch.bmm(k, wq).reshape(-1, wq.shape[2])  # (h * t, 256)
    bias = torch.bmm(k, m.q_proj.bias.view(h, d, 1)).reshape(-1)  # (h * t,)
    return _mix(m, torch.addmm(bias, keys_pe, folded.T), v_in, residual)


def binary_masks(low_res: np.ndarray, input_hw: tuple[int, int], original_hw: tuple[int, int]) -> np.ndarray:
    """Low-res logits ``(k, 256, 256)`` -> binary masks ``(k, H, W)`` float32 in {0, 1}, logit > 0.

    The same two bilinear steps as stock ``Sam.postprocess_masks`` (to the 1024 input frame,
    crop the padding, to the photo size; half-pixel centres, edges clamped), done by
    ``cv2.resize`` on float32 one mask at a time, thresholded in place.
    """
    import cv2

    height, width = original_hw
    side = 4 * low_res.shape[-1]
    out = np.empty((low_res.shape[0], height, width), np.float32)
    for i, logits in enumerate(low_res):
        framed = cv2.resize(logits, (side, side), interpolation=cv2.INTER_LINEAR)[: input_hw[0], : input_hw[1]]
        if framed.shape == (height, width):
            out[i] = framed
        else:
            cv2.resize(framed, (width, height), dst=out[i], interpolation=cv2.INTER_LINEAR)
        cv2.threshold(out[i], 0.0, 1.0, cv2.THRESH_BINARY, dst=out[i])
    return out
