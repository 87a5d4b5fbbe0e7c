"""The classical click selector: colour-model graph cut seeded by clicks and box, no network.

How it works (details in ``solve``, ``extents``, ``edges``):

- ``prepare`` downscales the photo to a working copy of about ``work_pixels`` and computes
  what every click needs: colour histogram bins, contrast-sensitive neighbour weights, a
  geodesic graph (steps across colour edges are long) and the geodesic distance from the border.
- Every click re-solves the whole working copy: a graph cut whose per-pixel costs combine a
  colour likelihood (object against background histograms, re-estimated GrabCut-style), the
  geodesic share of each pixel (nearer to object or to background clicks; the border stands in
  for background until the first background click) and, after the first click, a prior that
  keeps the previous mask except within the new click's geodesic reach. Clicks are hard disks.
- Near a later background click, colours are judged by local samples (the click's geodesic
  neighbourhood against the object clicks'), where those can tell the labels apart: a previous
  mask that swallowed a neighbour has taught the global model the neighbour's colours.
- A later click may change the previous mask only within limits (``limits.limit_change``): near
  the click, not where an earlier click of the other label is nearer, and (per ``Tuning``) only
  in the click's own direction; settings chosen by k-fold (``bench/select_quality.py``).
- A first click on the photo's zero-click subject (``subject_prior``: the classical subject
  extractor's backdrop model, border saliency, centre prior and graph cut, run once in
  ``prepare``) takes the subject's piece under the click as extra evidence, unless the click's
  own geodesic evidence gives most of that piece to the background (a busy photo).
- A click's geodesic distances are kept in the selection's state and the photo's max-flow grid
  is built once (``cut``), so a later click costs one shortest-path solve and two max-flow
  solves of the changed terminal links (PyMaxflow when installed, else SciPy).
- A single click is ambiguous: it gets up to three candidates of different extent (part,
  object, object with neighbours; ``extents``), each scored by an estimate of its IoU.
- Each candidate is scaled to full resolution; with ``full_size_edges`` its boundary band is
  decided again there from the photo's own colours (``edges``), so a 12 MP photo gets no stair
  steps; the mask keeps its topology there (an enclosed label stays enclosed, ``topology``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.select.classic.colour import colour_bins
from pipeline.select.classic.cut import CutGraph
from pipeline.select.classic.extents import SCORES, ScoreModel
from pipeline.select.classic.graph import geodesic_distance, geodesic_graph, pair_weights
from pipeline.select.classic.solve import (
    TUNING,
    ClassicPrepared,
    Distances,
    Features,
    Seed,
    Tuning,
    hard_background,
    segment,
)
from pipeline.select.classic.subject_prior import subject_map
from pipeline.select.protocol import Candidate, Selection, check_prompt
from pipeline.types import Box, Point, check_image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _State:
    """What a later click refines from: the clicks so far and the working-scale masks."""

    seeds: tuple[Seed, ...]
    box: Box | None
    masks: tuple[np.ndarray, ...]  # (h, w) bool, one per candidate, in candidate order
    distances: Distances  # geodesic distances to the clicks, for the next click
    kinds: tuple[str, ...] = ()  # extent of each candidate ("object", "part", "neighbours"), in candidate order
    backed: bool = False  # the zero-click subject backed the first mask (``solve.segment``)


class ClassicSelector:
    """Click selection without a network (name ``"classic"``); see the module docstring."""

    name = "classic"

    def __init__(
        self, *, work_pixels: int = 150_000, tuning: Tuning | None = None, scores: ScoreModel | None = None,
        full_size_edges: bool = True, extents: bool = True,
    ) -> None:  # fmt: skip
        self.work_pixels = work_pixels
        self.tuning = tuning or TUNING
        self.scores = scores or SCORES
        self.full_size_edges = full_size_edges
        self.extents = extents

    def prepare(self, image: np.ndarray) -> ClassicPrepared:
        """Downscale ``image`` ((H, W, 3) uint8 RGB) and precompute colour bins and edge weights."""
        import cv2

        check_image(image)
        h, w = image.shape[:2]
        scale = min(1.0, float(np.sqrt(self.work_pixels / (h * w))))
        small = (
            image
            if scale >= 1.0
            else cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        )
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
        diag = float(np.hypot(*lab.shape[:2]))
        tuning = self.tuning
        graph = geodesic_graph(lab, edge_weight=tuning.edge_weight, border_cost_px=tuning.border_cost_frac * diag)
        weights = pair_weights(lab)
        border = geodesic_distance(graph, [], border=True)
        subject = subject_map(small) if tuning.subject_weight > 0 else None
        features = Features(colour_bins(small), weights, graph, border, CutGraph(weights, tuning.smoothness), subject)
        return ClassicPrepared(image, small, features, scale)

    def select(
        self,
        prepared: ClassicPrepared,
        points: Sequence[Point],
        box: Box | None = None,
        previous: Selection | None = None,
    ) -> Selection:
        """Candidate masks (full size, binary float32) for the clicks and box, best first."""
        check_prompt(prepared.size, points, box)
        h, w = prepared.small.shape[:2]
        seeds = tuple(
            Seed(min(h - 1, int(p.y * prepared.scale)), min(w - 1, int(p.x * prepared.scale)), p.positive)
            for p in points
        )
        small_box = None if box is None else Box(*(v * prepared.scale for v in (box.x0, box.y0, box.x1, box.y1)))
        state = previous.state if previous is not None and isinstance(previous.state, _State) else None
        if state is not None and (
            state.box != box or len(seeds) <= len(state.seeds) or seeds[: len(state.seeds)] != state.seeds
        ):
            state = None  # a different prompt: start again rather than refine
        before = state.masks[0] if state is not None and state.masks and state.masks[0].shape == (h, w) else None
        known = state.distances if state is not None and len(seeds) == len(state.seeds) + 1 else None
        mask, dist, backed = segment(
            prepared.features, seeds, small_box, before, known if before is not None else None, self.tuning,
            backed=state is not None and state.backed,
        )  # fmt: skip
        return self._selection(prepared, mask, seeds, box, dist, small_box, backed)

    def _selection(
        self, prepared: ClassicPrepared, mask: np.ndarray, seeds: tuple[Seed, ...], box: Box | None, dist: Distances,
        small_box: Box | None, backed: bool = False,
    ) -> Selection:  # fmt: skip
        from pipeline.select.classic.refine import candidates_of, to_full_size

        allowed = ~hard_background(mask.shape, seeds, small_box, self.tuning)
        # variants of extent answer the ambiguity of a single click; later clicks have settled it
        variants = self.extents and len(seeds) == 1
        rated = candidates_of(prepared, mask, seeds, dist, allowed, self.scores, variants)
        candidates = tuple(Candidate(to_full_size(prepared, m, self.full_size_edges), score) for _, m, score in rated)
        kinds = tuple(kind for kind, _, _ in rated)
        return Selection(candidates, _State(seeds, box, tuple(m for _, m, _ in rated), dist, kinds, backed))
