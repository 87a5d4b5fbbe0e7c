"""Attention pieces of the lean SAM decoder (``sam_fast``): weights laid out for few tokens, folded forms.

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

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from segment_anything.modeling.transformer import Attention


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


def token_to_image(a: Heads, q_in: torch.Tensor, keys_pe: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Folded token-to-image attention: ``t`` query tokens over ``N`` image tokens -> ``(t, C)``.

    ``k_proj.bias`` adds the same amount to every score of a query row, so softmax drops it.
    """
    import torch

    h, d, t = a.count, a.depth, q_in.shape[0]
    m = a.module
    qk = torch.bmm(heads(a.q(q_in), h), m.k_proj.weight.view(h, d, -1)).mul_(1.0 / math.sqrt(d))  # (h, t, C)
    attn = torch.softmax(qk.view(h * t, -1) @ keys_pe.T, dim=-1)  # (h * t, N)
    mixed = (attn @ keys).view(h, t, -1)  # (h, t, C); softmax rows sum to one, so v_proj.bias stays a bias
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

    Each row is shifted by its maximum over all groups (softmax is shift-invariant per group),
    exponentiated and divided by per-group sums: about three times faster than ``torch.softmax``
    over a last dimension of a few tokens. Should a group's sum underflow towards float32's
    smallest normal values, the rows are redone with ``torch.softmax``.
    """
    import torch

    n = scores.shape[0]
    e = torch.sub(scores, scores.amax(1, keepdim=True)).exp_()
    groups = torch.eye(count, dtype=e.dtype, device=e.device).repeat_interleave(e.shape[1] // count, 0)
    sums = e @ groups  # (n, count): a product with a 0/1 matrix beats summing groups of a few columns
    if float(sums.min()) < 1e-30:
        return torch.softmax(scores.view(n, count, -1), dim=-1).reshape(n, -1)
    return e.view(n, count, -1).div_(sums.view(n, count, 1)).view(n, -1)


def image_to_token_stock(a: Heads, q_img: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    """Image-to-token attention as stock computes it (many tokens), image queries projected."""
    return attend(a, q_img, a.k(k_in), a.v(v_in))
