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
def _settle(mask, target, rows, cols, simple):  # pragma: no cover - compiled
    """Flip ``mask[rows, cols]`` towards ``target`` while simple, in the given order, until nothing moves.

    ``mask`` and ``target`` are uint8 (0/1) with a one-pixel frame that never changes. Returns the
    number of pixels left unlike the target.
    """
    n = rows.size
    pending = np.arange(n)
    count = n
    while True:
        kept = 0
        moved = False
        for i in range(count):
            k = pending[i]
            y, x = rows[k], cols[k]
            want = target[y, x]
            if mask[y, x] == want:
                continue
            code = (
                mask[y - 1, x - 1]
                | mask[y - 1, x] << 1
                | mask[y - 1, x + 1] << 2
                | mask[y, x + 1] << 3
                | mask[y + 1, x + 1] << 4
                | mask[y + 1, x] << 5
                | mask[y + 1, x - 1] << 6
                | mask[y, x - 1] << 7
            )
            if simple[code]:
                mask[y, x] = want
                moved = True
            else:
                pending[kept] = k
                kept += 1
        count = kept
        if not moved or count == 0:
            return count


def settle(mask: np.ndarray, target: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``mask`` (bool) moved towards ``target`` (bool, same shape) at ``(rows, cols)`` by simple flips only.

    The pixels are tried in the given order (put the surest first). Returns a new bool array with
    the same connected-component structure as ``mask`` (object 8-connected, background
    4-connected, the frame outside counting as background).
    """
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    goal = np.zeros_like(padded)
    goal[1:-1, 1:-1] = target
    _settle(padded, goal, rows.astype(np.int64) + 1, cols.astype(np.int64) + 1, SIMPLE)
    return padded[1:-1, 1:-1].astype(bool)
