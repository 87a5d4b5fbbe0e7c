"""Grid graphs for the classical selector: contrast weights, graph cut and geodesic distance.

- ``min_cut``: the usual interactive-segmentation energy (per-pixel costs of labelling a pixel
  object or background plus a contrast-sensitive Potts term between 4-neighbours), solved
  exactly with Boykov-Kolmogorov max-flow from PyMaxflow when it is installed, else with
  SciPy's Dinic max-flow (same result, several times slower).
- ``GeodesicGraph`` / ``geodesic_distance``: shortest paths where a step between neighbours
  costs more across colour edges, from a set of seed pixels and optionally the photo border.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COST_SCALE = 64.0  # float costs -> integer capacities for SciPy's max-flow
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


def min_cut(cost_fg: np.ndarray, cost_bg: np.ndarray, weights: PairWeights, smoothness: float) -> np.ndarray:
    """Minimise the labelling energy over the whole grid; return the boolean ``(H, W)`` object mask.

    ``cost_fg`` / ``cost_bg`` are ``(H, W)`` float costs of labelling a pixel object /
    background (use ``HARD_COST`` for seeds); ``smoothness`` scales the pair weights.
    """
    try:
        import maxflow
    except ImportError:
        return _min_cut_scipy(cost_fg, cost_bg, weights, smoothness)
    h, w = cost_fg.shape
    graph = maxflow.Graph[float]()
    ids = graph.add_grid_nodes((h, w))
    right = np.zeros((h, w))
    right[:, :-1] = weights.right * smoothness
    down = np.zeros((h, w))
    down[:-1] = weights.down * smoothness
    graph.add_grid_edges(ids, weights=right, structure=np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]]), symmetric=True)
    graph.add_grid_edges(ids, weights=down, structure=np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0]]), symmetric=True)
    low = np.minimum(cost_fg, cost_bg)
    graph.add_grid_tedges(ids, (cost_bg - low).astype(np.float64), (cost_fg - low).astype(np.float64))
    graph.maxflow()
    return ~graph.get_grid_segments(ids)


def _min_cut_scipy(cost_fg: np.ndarray, cost_bg: np.ndarray, weights: PairWeights, smoothness: float) -> np.ndarray:
    """``min_cut`` with SciPy's Dinic max-flow on an explicit sparse graph."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    h, w = cost_fg.shape
    n = h * w
    index = np.arange(n).reshape(h, w)
    a = np.concatenate([index[:, :-1].ravel(), index[:-1].ravel()])
    b = np.concatenate([index[:, 1:].ravel(), index[1:].ravel()])
    pair = np.concatenate([weights.right.ravel(), weights.down.ravel()]) * smoothness
    low = np.minimum(cost_fg, cost_bg).ravel()
    source, sink = n, n + 1
    nodes = np.arange(n)
    rows = np.concatenate([a, b, np.full(n, source), nodes])
    cols = np.concatenate([b, a, nodes, np.full(n, sink)])
    caps = np.concatenate([pair, pair, cost_bg.ravel() - low, cost_fg.ravel() - low])
    data = np.rint(caps * COST_SCALE).astype(np.int32)
    graph = csr_matrix((data, (rows, cols)), shape=(n + 2, n + 2))
    graph.eliminate_zeros()
    residual = graph - maximum_flow(graph, source, sink, method="dinic").flow
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    side = np.zeros(n + 2, dtype=bool)
    side[breadth_first_order(residual, source, directed=True, return_predecessors=False)] = True
    return side[:n].reshape(h, w)


@dataclass(frozen=True)
class GeodesicGraph:
    """A sparse 4-neighbour graph over an ``(h, w)`` grid plus one extra node, the photo border.

    Every link is stored in both directions, so shortest paths run on it as a directed graph.
    A step costs ``1 + edge_weight * |dLab| / mean |dLab|`` (working px); the border node
    links to every border pixel with cost ``border_cost_px``.
    """

    matrix: object  # scipy.sparse.csr_matrix, (h*w + 1, h*w + 1)
    shape: tuple[int, int]


def geodesic_graph(lab: np.ndarray, *, edge_weight: float, border_cost_px: float) -> GeodesicGraph:
    """Build the geodesic graph of a ``(h, w, 3)`` float32 Lab image."""
    from scipy.sparse import coo_matrix

    h, w = lab.shape[:2]
    d_right = np.sqrt(np.sum((lab[:, 1:] - lab[:, :-1]) ** 2, axis=2))
    d_down = np.sqrt(np.sum((lab[1:] - lab[:-1]) ** 2, axis=2))
    mean = max(float((d_right.sum() + d_down.sum()) / max(d_right.size + d_down.size, 1)), 1e-6)
    index = np.arange(h * w).reshape(h, w)
    ring = np.zeros((h, w), bool)
    ring[0], ring[-1], ring[:, 0], ring[:, -1] = True, True, True, True
    rows = np.concatenate([index[:, :-1].ravel(), index[:-1].ravel(), index[ring]])
    cols = np.concatenate([index[:, 1:].ravel(), index[1:].ravel(), np.full(int(ring.sum()), h * w)])
    steps = 1.0 + edge_weight * np.concatenate([d_right.ravel(), d_down.ravel()]) / mean
    cost = np.concatenate([steps, np.full(int(ring.sum()), max(border_cost_px, 1e-3))])
    n = h * w + 1
    both = (np.concatenate([rows, cols]), np.concatenate([cols, rows]))
    return GeodesicGraph(coo_matrix((np.concatenate([cost, cost]), both), shape=(n, n)).tocsr(), (h, w))


def geodesic_distance(graph: GeodesicGraph, pixels: list[tuple[int, int]], *, border: bool = False) -> np.ndarray:
    """Geodesic distance (working px) from the nearest of ``pixels`` ((row, col)) and, if ``border``, the border.

    Returns ``(h, w)`` float32; ``inf`` everywhere when there are no sources.
    """
    from scipy.sparse.csgraph import dijkstra

    h, w = graph.shape
    sources = [y * w + x for y, x in pixels] + ([h * w] if border else [])
    if not sources:
        return np.full((h, w), np.inf, np.float32)
    dist = dijkstra(graph.matrix, directed=True, indices=sources, min_only=True)  # stored symmetric
    return dist[: h * w].reshape(h, w).astype(np.float32)
