"""Binary graph cut on (part of) a pixel grid, for the classical selector.

The energy is the usual one of interactive segmentation: per-pixel costs of labelling a
pixel object or background plus a contrast-sensitive Potts term between 4-neighbours. Only
the ``active`` pixels are free; the others keep the label given in ``fixed`` and act on their
active neighbours through the pairwise term. The cut is solved exactly with SciPy's maximum
flow (Dinic), so no extra native dependency is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COST_SCALE = 64.0  # float costs -> integer capacities
HARD_COST = 1e4  # a cost that no other term outweighs (seeds)


@dataclass(frozen=True)
class PairWeights:
    """Contrast-sensitive neighbour weights in [0, 1]: ``right`` is ``(H, W-1)``, ``down`` ``(H-1, W)``."""

    right: np.ndarray
    down: np.ndarray


def pair_weights(lab: np.ndarray) -> PairWeights:
    """GrabCut-style weights ``exp(-beta * |dLab|^2)`` for a ``(H, W, 3)`` float32 Lab image."""
    d_right = np.sum((lab[:, 1:] - lab[:, :-1]) ** 2, axis=2)
    d_down = np.sum((lab[1:] - lab[:-1]) ** 2, axis=2)
    mean = (d_right.sum() + d_down.sum()) / max(d_right.size + d_down.size, 1)
    beta = 1.0 / (2.0 * mean) if mean > 0 else 0.0
    return PairWeights(np.exp(-beta * d_right).astype(np.float32), np.exp(-beta * d_down).astype(np.float32))


def _pairs(active: np.ndarray, fixed: np.ndarray, weight: np.ndarray, axis: int, index: np.ndarray):
    """Split the neighbour pairs along ``axis`` into active-active links and active-fixed terminal terms."""
    if axis == 1:
        a_act, b_act = active[:, :-1], active[:, 1:]
        a_idx, b_idx = index[:, :-1], index[:, 1:]
        a_fix, b_fix = fixed[:, :-1], fixed[:, 1:]
    else:
        a_act, b_act = active[:-1], active[1:]
        a_idx, b_idx = index[:-1], index[1:]
        a_fix, b_fix = fixed[:-1], fixed[1:]
    both = a_act & b_act
    links = (a_idx[both], b_idx[both], weight[both])
    only_a = a_act & ~b_act  # b is fixed: a pays weight when it differs from b's label
    only_b = b_act & ~a_act
    border = (
        np.concatenate([a_idx[only_a], b_idx[only_b]]),
        np.concatenate([b_fix[only_a], a_fix[only_b]]),
        np.concatenate([weight[only_a], weight[only_b]]),
    )
    return links, border


def min_cut(
    active: np.ndarray,
    cost_fg: np.ndarray,
    cost_bg: np.ndarray,
    weights: PairWeights,
    smoothness: float,
    fixed: np.ndarray,
) -> np.ndarray:
    """Minimise the labelling energy over the ``active`` pixels; return the boolean object mask.

    ``cost_fg`` / ``cost_bg`` are ``(H, W)`` float costs of labelling a pixel object /
    background (use ``HARD_COST`` for seeds); ``smoothness`` scales the pair weights;
    ``fixed`` gives the labels of the inactive pixels (and is copied for the result).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    result = fixed.copy()
    n = int(np.count_nonzero(active))
    if n == 0:
        return result
    index = np.full(active.shape, -1, dtype=np.int64)
    index[active] = np.arange(n)
    to_source = cost_bg[active].astype(np.float64)  # paid when the pixel ends up background
    to_sink = cost_fg[active].astype(np.float64)  # paid when the pixel ends up object
    rows, cols, caps = [], [], []
    for axis, weight in ((1, weights.right), (0, weights.down)):
        (a, b, w), (node, label, wb) = _pairs(active, fixed, weight, axis, index)
        cap = w * smoothness
        rows += [a, b]
        cols += [b, a]
        caps += [cap, cap]
        np.add.at(to_source, node[label], wb[label] * smoothness)
        np.add.at(to_sink, node[~label], wb[~label] * smoothness)
    low = np.minimum(to_source, to_sink)
    to_source -= low
    to_sink -= low
    source, sink = n, n + 1
    nodes = np.arange(n)
    rows += [np.full(n, source), nodes]
    cols += [nodes, np.full(n, sink)]
    caps += [to_source, to_sink]
    data = np.rint(np.concatenate(caps) * COST_SCALE).astype(np.int32)
    graph = csr_matrix((data, (np.concatenate(rows), np.concatenate(cols))), shape=(n + 2, n + 2))
    graph.eliminate_zeros()
    flow = maximum_flow(graph, source, sink, method="dinic").flow
    residual = graph - flow
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    reached = breadth_first_order(residual, source, directed=True, return_predecessors=False)
    side = np.zeros(n + 2, dtype=bool)
    side[reached] = True
    result[active] = side[:n]
    return result


@dataclass(frozen=True)
class EdgeLengths:
    """Colour distances between 4-neighbours, relative to their mean: ``right`` ``(H, W-1)``, ``down`` ``(H-1, W)``."""

    right: np.ndarray
    down: np.ndarray


def edge_lengths(lab: np.ndarray) -> EdgeLengths:
    """``|dLab| / mean |dLab|`` between neighbours of a ``(H, W, 3)`` float32 Lab image."""
    d_right = np.sqrt(np.sum((lab[:, 1:] - lab[:, :-1]) ** 2, axis=2))
    d_down = np.sqrt(np.sum((lab[1:] - lab[:-1]) ** 2, axis=2))
    mean = max(float((d_right.sum() + d_down.sum()) / max(d_right.size + d_down.size, 1)), 1e-6)
    return EdgeLengths((d_right / mean).astype(np.float32), (d_down / mean).astype(np.float32))


def geodesic_distance(
    lengths: EdgeLengths, window: tuple[slice, slice], start: tuple[int, int], *, edge_weight: float
) -> np.ndarray:
    """Geodesic distance (px-like units) from ``start`` (row, col, inside ``window``) over the window.

    A step between 4-neighbours costs ``1 + edge_weight * max(0, relative colour distance - 1)``, so paths
    that cross strong edges are long. Returns a float32 array of the window's shape.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    right = lengths.right[window[0], window[1].start : window[1].stop - 1]
    down = lengths.down[window[0].start : window[0].stop - 1, window[1]]
    h, w = right.shape[0], right.shape[1] + 1
    index = np.arange(h * w).reshape(h, w)
    rows = np.concatenate([index[:, :-1].ravel(), index[:-1].ravel()])
    cols = np.concatenate([index[:, 1:].ravel(), index[1:].ravel()])
    cost = 1.0 + edge_weight * np.maximum(np.concatenate([right.ravel(), down.ravel()]) - 1.0, 0.0)
    graph = coo_matrix((cost, (rows, cols)), shape=(h * w, h * w)).tocsr()
    dist = dijkstra(graph, directed=False, indices=start[0] * w + start[1])
    return dist.reshape(h, w).astype(np.float32)
