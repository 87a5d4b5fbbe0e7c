"""Move a binary mask towards a target without changing its topology (simple-point flips).

The full-size edge band (``edges``) decides each band pixel from local colours. Left alone, that
decision can cut a thin strip of the object and so open an enclosed region (a bottle's light
label, a hole of background colour) to the outside, join two pieces, or leave a speck. Here the
mask is changed one pixel at a time, and a pixel changes only when it is *simple*: flipping it
leaves the number of object pieces, of background pieces and which touches which as they were
(digital topology, object 8-connected, background 4-connected, as ``masks.fill_holes`` counts
them). So a thin strip the photo would cut stays as a line one pixel wide, a hole stays a hole,
and no island appears or vanishes.

Simple is decided from the 8 neighbours alone (a 256-entry table): the object pixels among them
form exactly one 8-connected group, and the background pixels among them that touch the centre
along an edge form exactly one 4-connected group. Every pass visits the pixels still unlike the
target, surest first; a pixel that is not simple now may become simple once its neighbours move.
Outside the image counts as background, so "touches the frame" stays as it was too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# neighbour offsets (dy, dx) in clockwise order from the top-left; bit k of a code is neighbour k
_RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _groups(members: list[int], adjacent) -> list[set[int]]:  # noqa: ANN001 - a predicate on two ring indices
    """The connected groups among ring indices ``members`` under ``adjacent``."""
    left, groups = set(members), []
    while left:
        group, stack = set(), [left.pop()]
        while stack:
            k = stack.pop()
            group.add(k)
            for j in [j for j in left if adjacent(k, j)]:
                left.remove(j)
                stack.append(j)
        groups.append(group)
    return groups


def simple_table() -> np.ndarray:
    """``table[code]``: is the centre simple when its 8 neighbours' object bits are ``code``."""

    def touching8(k: int, j: int) -> bool:
        (ay, ax), (by, bx) = _RING[k], _RING[j]
        return max(abs(ay - by), abs(ax - bx)) == 1

    def touching4(k: int, j: int) -> bool:
        (ay, ax), (by, bx) = _RING[k], _RING[j]
        return abs(ay - by) + abs(ax - bx) == 1

    table = np.zeros(256, np.bool_)
    for code in range(256):
        fg = [k for k in range(8) if code >> k & 1]
        bg = [k for k in range(8) if not code >> k & 1]
        # only background groups that reach the centre through an edge neighbour count
        bg_groups = [g for g in _groups(bg, touching4) if any(0 in _RING[k] for k in g)]
        table[code] = len(_groups(fg, touching8)) == 1 and len(bg_groups) == 1
    return table


SIMPLE = simple_table()


@njit(cache=True, nogil=True)
def _settle(mask, decision, order, simple):  # pragma: no cover - compiled
    """Flip ``mask`` at the flat indices ``order`` towards ``decision >= 0.5`` while simple, until nothing moves.

    ``mask`` (0.0 / 1.0) is changed in place; outside it counts as background. Returns the number
    of pixels left unlike the decision.
    """
    height, width = mask.shape
    pending = order.copy()
    count = pending.size
    while True:
        kept = 0
        moved = False
        for i in range(count):
            k = pending[i]
            y, x = k // width, k % width
            want = 1.0 if decision[y, x] >= 0.5 else 0.0
            if mask[y, x] == want:
                continue
            code = 0
            for bit in range(8):
                ny, nx = y + RING_Y[bit], x + RING_X[bit]
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] > 0.5:
                    code |= 1 << bit
            if simple[code]:
                mask[y, x] = want
                moved = True
            else:
                pending[kept] = k
                kept += 1
        count = kept
        if not moved or count == 0:
            return count


RING_Y = np.array([dy for dy, _ in _RING], np.int64)
RING_X = np.array([dx for _, dx in _RING], np.int64)


def settle(mask: np.ndarray, decision: np.ndarray, order: np.ndarray) -> int:
    """Move ``mask`` towards ``decision >= 0.5`` at the flat indices ``order`` by simple flips only, in place.

    ``mask`` is a float32 0.0 / 1.0 array (a view is fine), ``decision`` a float32 array of the
    same shape. The pixels are tried in the given order (put the surest first). Afterwards
    ``mask`` has the same connected-component structure as before (object 8-connected,
    background 4-connected, outside the array counting as background: so pixels next to the
    array's edge should be the photo's edge). Returns the number of pixels left unlike the decision.
    """
    return int(_settle(mask, decision, order.astype(np.int64), SIMPLE))
