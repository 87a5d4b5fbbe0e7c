"""Layers of the lean SAM decoder (``sam_fast``): weights laid out for few tokens, folded attention.

Shapes: ``N`` image tokens (4096) of ``C`` channels (256), ``t`` prompt tokens, ``h`` heads of
``d`` channels (the cross attentions project to ``h * d = 128``). Every function takes
unbatched ``(rows, channels)`` float32 tensors.

``Linear`` keeps a layer's weight transposed and contiguous: for a few rows, MKL multiplies
``x @ W^T`` through a transposed view four times slower than through a contiguous ``(in, out)``
matrix (about 570 against 120 microseconds for 16 x 256 -> 2048 on two cores).

The folded forms never project the ``N`` image tokens. Token-to-image attention scores are
``(q Wk) keys^T`` and its values ``(attn keys) Wv^T``; image-to-token attention scores are
``keys (Wq^T k)`` and its values ``attn (v Wo^T)``. Products with the image tokens then have
``h * t`` columns instead of 128 or 256, which is cheaper while ``t`` is small.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from segment_anything.modeling.transformer import Attention


FEW_QUERY_ROWS = 32  # heads x tokens up to which scores are computed as (N, rows), then transposed
EXP_SAFE = 80.0  # exp of float32 values within this of zero is finite and normal (the limits are about 88 and -87)


@dataclass(frozen=True)
class Linear:
    """``x @ weight_t + bias`` for ``(rows, in)`` inputs; ``weight_t`` is ``(in, out)``, contiguous."""

    weight_t: torch.Tensor
    bias: torch.Tensor

    @classmethod
    def of(cls, layer: torch.nn.Linear) -> Linear:
        return cls(layer.weight.detach().T.contiguous(), layer.bias.detach())

    @classmethod
    def stacked(cls, layers: list[torch.nn.Linear]) -> Linear:
        """Several layers on the same input as one: their outputs side by side."""
        import torch

        return cls(torch.cat([layer.weight.detach() for layer in layers], 0).T.contiguous(),
                   torch.cat([layer.bias.detach() for layer in layers]))  # fmt: skip

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.addmm(self.bias, x, self.weight_t)


@dataclass(frozen=True)
class Heads:
    """An ``Attention`` module's projections as ``Linear``s, plus the raw weights that folding needs."""

    q: Linear
    k: Linear
    v: Linear
    out: Linear
    count: int
    module: Attention

    @classmethod
    def of(cls, m: Attention) -> Heads:
        return cls(Linear.of(m.q_proj), Linear.of(m.k_proj), Linear.of(m.v_proj), Linear.of(m.out_proj),
                   m.num_heads, m)  # fmt: skip

    @property
    def depth(self) -> int:
        """Channels per head."""
        return self.module.internal_dim // self.count


def heads(x: torch.Tensor, count: int) -> torch.Tensor:
    """``(n, count * d)`` -> ``(count, n, d)`` (a view)."""
    return x.view(x.shape[0], count, -1).transpose(0, 1)


def attend(a: Heads, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Attention from already projected ``q``, ``k``, ``v`` (rows x ``h * d``), then ``out_proj``."""
    import torch.nn.functional as F

    out = F.scaled_dot_product_attention(heads(q, a.count), heads(k, a.count), heads(v, a.count))
    return a.out(out.transpose(0, 1).reshape(q.shape[0], -1))


def self_attention(a: Heads, qk: Linear, q_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    """Attention among the prompt tokens, queries and keys from the same input; ``qk`` is ``a``'s
    query and key projections stacked."""
    q, k = qk(q_in).chunk(2, 1)
    return attend(a, q, k, a.v(v_in))


def token_to_image(
    a: Heads,
    q_in: torch.Tensor,
    keys: torch.Tensor,
    *,
    keys_pe: torch.Tensor | None = None,
    pe: torch.Tensor | None = None,
) -> torch.Tensor:
    """Folded token-to-image attention: ``t`` query tokens over ``N`` image tokens -> ``(t, C)``.

    The keys are ``keys_pe`` if given, else ``keys + pe``. ``k_proj.bias`` adds the same amount
    to every score of a query row, so softmax drops it.
    """
    import torch

    h, d, t = a.count, a.depth, q_in.shape[0]
    m = a.module
    qk = torch.bmm(heads(a.q(q_in), h), m.k_proj.weight.view(h, d, -1)).mul_(1.0 / math.sqrt(d))  # (h, t, C)
    qk = qk.view(h * t, -1)
    if h * t <= FEW_QUERY_ROWS:  # MKL multiplies faster with the image tokens as rows; pe @ qk^T beats a pass
        scores = (keys_pe @ qk.T if keys_pe is not None else torch.addmm(pe @ qk.T, keys, qk.T)).T
    else:
        scores = qk @ (keys_pe if keys_pe is not None else keys + pe).T
    mixed = (torch.softmax(scores, dim=-1) @ keys).view(h, t, -1)  # (h, t, C); rows sum to one: v_proj.bias stays
    out = torch.baddbmm(m.v_proj.bias.view(h, 1, d), mixed, m.v_proj.weight.view(h, d, -1).transpose(1, 2))
    return a.out(out.transpose(0, 1).reshape(t, -1))


def token_values(a: Heads, v_in: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Each token's value through ``out_proj``: ``(h * t, C)``, head-major rows, ``bias / h`` added.

    Each head's attention row sums to one, so a ``bias / h`` on every value row adds ``bias``
    once to every output row: ``out_proj.bias`` and any residual constant ride along for free.
    """
    import torch

    v = heads(a.v(v_in), a.count)  # (h, t, d)
    wo = a.out.weight_t.view(a.count, a.depth, -1)  # (h, d, C)
    return torch.baddbmm((bias / a.count).view(1, 1, -1), v, wo).view(-1, wo.shape[2])


def key_blocks(a: Heads, k_in: torch.Tensor) -> torch.Tensor:
    """The tokens' keys as a block-diagonal ``(h * d, h * t)`` matrix, scaled: image queries
    ``(N, h * d)`` times it are image-to-token scores ``(N, h * t)``, head-major columns."""
    import torch

    k = heads(a.k(k_in), a.count).mul(1.0 / math.sqrt(a.depth))  # (h, t, d)
    return torch.block_diag(*k.transpose(1, 2))


def image_scores_folded(a: Heads, keys_pe: torch.Tensor, k_in: torch.Tensor) -> torch.Tensor:
    """Image-to-token scores ``(N, h * t)``, head-major columns, scaled; ``q_proj`` folded into the keys."""
    import torch

    h, d = a.count, a.depth
    m = a.module
    k = heads(a.k(k_in), h).mul(1.0 / math.sqrt(d))  # (h, t, d)
    folded = torch.bmm(k, m.q_proj.weight.view(h, d, -1)).view(-1, keys_pe.shape[1])  # (h * t, C)
    bias = torch.bmm(k, m.q_proj.bias.view(h, d, 1)).view(-1)  # (h * t,)
    return torch.addmm(bias, keys_pe, folded.T)


def head_softmax(scores: torch.Tensor, count: int) -> torch.Tensor:
    """Softmax over each of ``count`` equal column groups of ``scores`` ``(n, count * t)``.

    Scores within ``EXP_SAFE`` of zero are exponentiated as they are; otherwise each row is first
    shifted by its maximum over all groups (softmax is shift-invariant per group). Then each
    group is divided by its sum: about three times faster than ``torch.softmax`` over a last
    dimension of a few tokens. Should a group's sum underflow towards float32's smallest normal
    values, the rows are redone with ``torch.softmax``.
    """
    import torch

    n = scores.shape[0]
    low, high = torch.aminmax(scores)
    if float(low) > -EXP_SAFE and float(high) < EXP_SAFE:  # no shift needed: one pass fewer
        e = scores.exp()
    else:
        e = torch.sub(scores, scores.amax(1, keepdim=True)).exp_()
    groups = torch.eye(count, dtype=e.dtype, device=e.device).repeat_interleave(e.shape[1] // count, 0)
    sums = e @ groups  # (n, count): a product with a 0/1 matrix beats summing groups of a few columns
    if float(sums.min()) < 1e-30:
        return torch.softmax(scores.view(n, count, -1), dim=-1).reshape(n, -1)
    return e.view(n, count, -1).div_(sums.view(n, count, 1)).view(n, -1)


def image_to_token_stock(a: Heads, q_img: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    """Image-to-token attention as stock computes it (many tokens), image queries projected."""
    return attend(a, q_img, a.k(k_in), a.v(v_in))


@dataclass(frozen=True)
class Block:
    """One two-way attention block's weights, laid out for this runtime."""

    self_attn: Heads
    self_qk: Linear
    t2i: Heads
    i2t: Heads
    mlp: tuple[Linear, torch.nn.Module, Linear]
    norms: tuple[torch.nn.LayerNorm, ...]

    @classmethod
    def of(cls, block) -> Block:
        attn = block.self_attn
        return cls(Heads.of(attn), Linear.stacked([attn.q_proj, attn.k_proj]),
                   Heads.of(block.cross_attn_token_to_image), Heads.of(block.cross_attn_image_to_token),
                   (Linear.of(block.mlp.lin1), block.mlp.act, Linear.of(block.mlp.lin2)),
                   (block.norm1, block.norm2, block.norm3, block.norm4))  # fmt: skip

    def token_side(self, queries: torch.Tensor, t2i_out: torch.Tensor) -> torch.Tensor:
        """After token-to-image attention: its residual and norm, then the MLP with its own."""
        queries = norm(self.norms[1], queries + t2i_out)
        lin1, act, lin2 = self.mlp
        return norm(self.norms[2], queries + lin2(act(lin1(queries))))


def norm(ln: torch.nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return F.layer_norm(x, ln.normalized_shape, ln.weight, ln.bias, ln.eps)


def channel_norm(ln: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """SAM's ``LayerNorm2d`` on ``(channels, pixels)``: each column normalised over the rows."""
    import torch

    centred = x - x.mean(0)
    scale = torch.rsqrt((centred * centred).mean(0) + ln.eps)
    return torch.addcmul(ln.bias[:, None], centred.mul_(scale), ln.weight[:, None])


@functools.cache
def _fused_linear_gelu() -> bool:
    """Whether this torch build has oneDNN's linear with a GELU epilogue (the op Inductor fuses into)."""
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


def linear_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, *, fused: bool = True) -> torch.Tensor:
    """``gelu(x @ weight^T + bias)`` (exact GELU). On the CPU, one oneDNN call where the build has it:
    the GELU runs on each block of the product while it is in cache (2.1 ms instead of 3.5 ms for
    the upscaling's 16384 x 64 -> 128 on two cores)."""
    import torch
    import torch.nn.functional as F

    if fused and x.device.type == "cpu" and _fused_linear_gelu():
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "gelu", [], "none")
    return F.gelu(F.linear(x, weight, bias))


@dataclass(frozen=True)
class Batched:
    """Same-shaped layers, one per batch entry (a mask), applied by one ``baddbmm`` to ``(k, rows, in)``."""

    weight_t: torch.Tensor  # (k, in, out)
    bias: torch.Tensor  # (k, 1, out)

    @classmethod
    def of(cls, layers: list[torch.nn.Linear]) -> Batched:
        import torch

        return cls(torch.stack([layer.weight.detach().T for layer in layers]).contiguous(),
                   torch.stack([layer.bias.detach()[None] for layer in layers]))  # fmt: skip

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.baddbmm(self.bias, x, self.weight_t)


def relu_mlp(layers: list[Linear] | list[Batched], x: torch.Tensor) -> torch.Tensor:
    """SAM's ``MLP``: ReLU between layers, none after the last."""
    for layer in layers[:-1]:
        x = layer(x).relu_()
    return layers[-1](x)


def upscaling_weights(upscaling):
    """``ConvTranspose2d(k=2, s=2)`` weights ``(in, out, 2, 2)`` as ``F.linear`` weights over (dy, dx, out)."""
    conv1, ln, _, conv2, _ = upscaling

    def as_linear(conv):
        weight = conv.weight.permute(2, 3, 1, 0).reshape(-1, conv.weight.shape[0]).contiguous()
        return weight, conv.bias.repeat(4)

    w1, b1 = as_linear(conv1)
    w2, b2 = as_linear(conv2)
    return w1, b1, ln, w2, b2
