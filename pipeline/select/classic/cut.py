"""A max-flow grid kept for one photo: its neighbour links are built once, its terminal links change.

Building PyMaxflow's grid (two ``add_grid_edges`` over about 0.15 MP) costs more than solving
it, and the neighbour links depend only on the photo. Boykov-Kolmogorov max-flow lets the
terminal links change after a solve (add the difference, solve again: the residual graph stays
valid and the new cut is exact), so every later cut of the photo only pays for the flow that
changed. One solve at a time per grid; a concurrent caller builds a fresh one rather than wait.
Without PyMaxflow every cut is ``graph.min_cut`` (SciPy).
"""

from __future__ import annotations

import threading

import numpy as np

from pipeline.select.classic.graph import PairWeights, min_cut


class CutGraph:
    """Repeated graph cuts of one photo with fixed neighbour weights (``smoothness`` * ``weights``)."""

    def __init__(self, weights: PairWeights, smoothness: float) -> None:
        self.weights = weights
        self.smoothness = smoothness
        self._lock = threading.Lock()
        self._graph = None  # built on first use
        self._terminal: tuple[np.ndarray, np.ndarray] | None = None  # (source, sink) capacities in the graph

    def cut(self, cost_fg: np.ndarray, cost_bg: np.ndarray) -> np.ndarray:
        """The boolean object mask minimising the energy, as ``graph.min_cut`` (same costs, same cut)."""
        try:
            import maxflow  # noqa: F401
        except ImportError:
            return min_cut(cost_fg, cost_bg, self.weights, self.smoothness)
        if not self._lock.acquire(blocking=False):
            return min_cut(cost_fg, cost_bg, self.weights, self.smoothness)
        try:
            return self._cut(cost_fg, cost_bg)
        finally:
            self._lock.release()

    def _cut(self, cost_fg: np.ndarray, cost_bg: np.ndarray) -> np.ndarray:
        import maxflow

        low = np.minimum(cost_fg, cost_bg)
        source = (cost_bg - low).astype(np.float64)
        sink = (cost_fg - low).astype(np.float64)
        if self._graph is None:
            h, w = cost_fg.shape
            graph = maxflow.Graph[float]()
            ids = graph.add_grid_nodes((h, w))
            right = np.zeros((h, w))
            right[:, :-1] = self.weights.right * self.smoothness
            down = np.zeros((h, w))
            down[:-1] = self.weights.down * self.smoothness
            graph.add_grid_edges(
                ids, weights=right, structure=np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]]), symmetric=True
            )
            graph.add_grid_edges(
                ids, weights=down, structure=np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0]]), symmetric=True
            )
            self._graph, self._ids = graph, ids
            graph.add_grid_tedges(ids, source, sink)
        else:
            old_source, old_sink = self._terminal
            self._graph.add_grid_tedges(self._ids, source - old_source, sink - old_sink)
        self._terminal = (source, sink)
        self._graph.maxflow()
        return ~self._graph.get_grid_segments(self._ids)
