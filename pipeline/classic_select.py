"""The classical click selector: colour-model graph cut seeded by clicks and box, no network.

How it works:

- ``prepare`` downscales the photo to a working copy of about ``work_pixels`` and computes
  what every click needs: colour histogram bins and contrast-sensitive neighbour weights.
- A first selection (no ``previous``) is a GrabCut-like loop at the working scale: colour
  histograms for object and background (from the clicks, the box and the photo border) and a
  graph cut, re-estimated a few times.
- With a ``previous`` selection every new click is a local correction: inside a window sized
  by the distance from the click to the region it contradicts, the previous mask is a prior
  that weakens towards the click, colour models come from the surroundings, and every click so
  far is a hard seed. Outside the window nothing changes.
- The working-scale mask is scaled back to full resolution (bilinear, thresholded at 0.5;
  ``classic_select_refine``). There is one candidate for now, scored by its edge contrast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.classic_select_colour import colour_bins
from pipeline.classic_select_graph import edge_lengths, pair_weights
from pipeline.classic_select_solve import Features, Seed, correct, first_cut
from pipeline.segment import Candidate, Selection, check_prompt
from pipeline.types import Box, Point, check_image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassicPrepared:
    """A photo ready for clicks: the full image and its working-scale copy and features."""

    image: np.ndarray  # (H, W, 3) uint8, full size
    small: np.ndarray  # (h, w, 3) uint8 working copy
    features: Features
    scale: float  # working pixels per image pixel (<= 1)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True)
class _State:
    """What a later click refines from: the clicks so far and the working-scale masks."""

    seeds: tuple[Seed, ...]
    box: Box | None
    masks: tuple[np.ndarray, ...]  # (h, w) bool, one per candidate, in candidate order


class ClassicSelector:
    """Click selection without a network (name ``"classic"``); see the module docstring."""

    name = "classic"

    def __init__(self, *, work_pixels: int = 300_000) -> None:
        self.work_pixels = work_pixels

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
        half = cv2.resize(lab, (max(2, lab.shape[1] // 2), max(2, lab.shape[0] // 2)), interpolation=cv2.INTER_AREA)
        features = Features(colour_bins(small), pair_weights(lab), edge_lengths(lab), edge_lengths(half))
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
        if state is not None and (state.box != box or seeds[: len(state.seeds)] != state.seeds):
            state = None  # a different prompt: start again rather than refine
        if state is None or not state.masks or state.masks[0].shape != (h, w):
            mask = first_cut(prepared.features, seeds, small_box)
        else:
            mask = state.masks[0]
            for k in range(len(state.seeds), len(seeds)):
                mask = correct(prepared.features, seeds[: k + 1], mask)
        return self._selection(prepared, mask, seeds, box)

    def _selection(self, prepared: ClassicPrepared, mask: np.ndarray, seeds: tuple[Seed, ...], box: Box | None):
        from pipeline.classic_select_refine import candidates_of, to_full_size

        small_masks = candidates_of(mask, seeds, prepared.features.weights)
        candidates = [Candidate(to_full_size(prepared, m), score) for m, score in small_masks]
        order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
        return Selection(
            tuple(candidates[i] for i in order),
            _State(seeds, box, tuple(small_masks[i][0] for i in order)),
        )
