"""The classical subject extractor: the product of a product photo, with no clicks and no weights.

Product shots share a layout: a backdrop (seamless paper, a table, a wall) fills the photo's
border and the product sits inside it, usually near the centre. So:

1. **Backdrop model**: a colour histogram of a strip along the border (a side that looks unlike
   the other three, where the product touches that edge, counts for less), and a Gaussian
   mixture of the same strip in Lab that ranks how rare each colour is there (``backdrop``).
   The strip itself is backdrop for certain.
2. **Priors**: how hard each pixel is to reach from the border without crossing a colour edge
   (a geodesic border saliency), plus how unlike the backdrop its colour is (the histogram's
   coarse view mixed with the mixture's fine one, which tells a pale product from a pale
   backdrop), minus a centre prior, gives the first guess of the subject.
3. **Graph cut**: Gaussian-mixture colour models of the guess and the rest, a contrast-sensitive
   smoothness term, solved exactly (``graph.min_cut``); the models are re-fitted to the cut and
   it runs again, GrabCut-style, on a copy ``work_side_px`` on its longer side.
4. **Clean-up**: regions far smaller than the largest are dropped and holes filled (a label is
   still product) unless their colours are as common on the border as the backdrop's own (the
   backdrop seen through a handle); a guided filter on the photo brings the cut to full
   resolution along the product's own edges.

Its limits: a busy scene (no backdrop along the border), a product the colour of its backdrop
(a label exactly its colour is taken for a hole), a product far from the centre beside others
(the centre prior), or a product that fills or crosses the frame. Transparent glass comes out
as a hard mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.select.classic import colour
from pipeline.select.classic.graph import HARD_COST, geodesic_distance, geodesic_graph, min_cut, pair_weights
from pipeline.select.subject import backdrop as backdrop_model
from pipeline.select.subject import gmm
from pipeline.select.subject.upsample import guided_upsample
from pipeline.types import Image, Mask, check_image

LIMITS = (
    "The classical subject extractor expects a product on a backdrop (studio paper, a table, a wall) "
    "that fills the photo's border; busy scenes, a product the colour of its backdrop, or one that "
    "crosses the frame need clicks or a subject model. A hole showing the backdrop (a mug's handle) "
    "stays open, so a label exactly the backdrop's colour may too."
)


@dataclass(frozen=True)
class SubjectTuning:
    """The extractor's settings (chosen by leave-half-out on GrabCut and the examples; see bench/subject.py).

    - ``work_side_px``: the photo's longer side while it is segmented.
    - ``border_share``: width of the backdrop strip, as a share of the shorter side.
    - ``centre_weight``: how much the first guess discounts a pixel at a corner against the centre.
    - ``prior_threshold``: the first guess of the subject is where the prior (border saliency,
      colour unlikeness, minus the centre term) exceeds this.
    - ``components``: Gaussians in each colour model.
    - ``backdrop_saliency``: the backdrop's colours are learnt only from pixels below this border
      saliency (and the strip), so a salient region left out of the first guess teaches neither
      model; 1 (off) is what the validation chose.
    - ``smoothness``: weight of the contrast-sensitive term between neighbours.
    - ``iterations``: graph cuts, each re-fitting the colour models to the one before.
    - ``fine_colour_share``: how much of the colour unlikeness comes from the backdrop's Gaussian
      mixture (``backdrop.rare_colour``) rather than its coarse histogram.
    - ``min_region_share``: regions smaller than this share of the largest one are dropped.
    - ``max_hole_share``: holes up to this share of the subject's area are filled.
    - ``see_through_rarity``: a hole whose median colour rarity on the rest of the backdrop is
      below this is the backdrop seen through the subject and stays open (0: fill every hole).
    - ``saliency_weight``: cost of labelling subject a pixel the border reaches without an edge.
    - ``saliency_side_px``: the longer side of the copy the border saliency is measured on.
    """

    work_side_px: int = 320
    border_share: float = 0.04
    centre_weight: float = 3.0
    smoothness: float = 50.0
    iterations: int = 3
    min_region_share: float = 0.05
    max_hole_share: float = 1.0
    saliency_weight: float = 2.0
    saliency_side_px: int = 96
    prior_threshold: float = 0.9
    components: int = 5
    backdrop_saliency: float = 1.0
    fine_colour_share: float = 1.0
    see_through_rarity: float = 0.75


class ClassicSubject:
    """The classical extractor as a ``SubjectFinder`` (binary masks, no weights)."""

    name = "classical"

    def __init__(self, tuning: SubjectTuning | None = None) -> None:
        self.tuning = tuning or SubjectTuning()

    def find(self, image: Image) -> Mask:
        return find_subject(image, self.tuning)


def find_subject(image: Image, tuning: SubjectTuning = SubjectTuning()) -> Mask:
    """The subject of ``image`` (``(H, W, 3)`` uint8 RGB) as a binary mask, 1 = subject, at full size."""
    check_image(image)
    small = working_copy(image, tuning.work_side_px)
    subject = segment(small, tuning)
    return guided_upsample(subject.astype(np.float32), image)


def segment(small: Image, tuning: SubjectTuning) -> np.ndarray:
    """The subject of a working-size photo: boolean ``(h, w)``."""
    return clean(cut(small, tuning), tuning, small)


def clean(subject: np.ndarray, tuning: SubjectTuning, small: Image | None = None) -> np.ndarray:
    """``subject`` without small regions, its holes filled as ``tuning`` says.

    ``small``: the working-size photo, which tells a hole showing the backdrop (kept open) from
    one of another colour (filled); without it every hole up to the share fills.
    """
    kept = drop_small_regions(subject, tuning.min_region_share)
    lab = None if small is None else cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    return backdrop_model.fill_holes(kept, tuning.max_hole_share, lab, tuning.see_through_rarity)


def colour_rarity(small: Image, tuning: SubjectTuning) -> np.ndarray:
    """How rare each pixel's colour is on the border strip, ``(h, w)`` float32 in [0, 1] (``backdrop.rarity``).

    The strip's sides that look like the other three are the sample (all of it if none does).
    """
    h, w = small.shape[:2]
    strip = border_strip((h, w), tuning.border_share) > 0
    sample = strip & (side_weights(colour.colour_bins(small), strip.astype(np.float32)) >= 0.5)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    return backdrop_model.rarity(lab, sample if sample.any() else strip)


def cut(small: Image, tuning: SubjectTuning, rarity: np.ndarray | None = None) -> np.ndarray:
    """The graph cut of a working-size photo into subject and backdrop: boolean ``(h, w)``.

    ``rarity``: ``colour_rarity(small, tuning)`` when the caller has it already.
    """
    h, w = small.shape[:2]
    strip = border_strip((h, w), tuning.border_share) > 0
    bins = colour.colour_bins(small)
    backdrop = colour.histogram(bins, strip * side_weights(bins, strip.astype(np.float32)))
    centre = centre_cost((h, w))
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    salient = border_saliency(lab, tuning.saliency_side_px)
    unlike = _unlikeness(bins, backdrop)
    if tuning.fine_colour_share > 0:
        fine = backdrop_model.rare_colour(colour_rarity(small, tuning) if rarity is None else rarity)
        unlike = (1.0 - tuning.fine_colour_share) * unlike + tuning.fine_colour_share * fine
    prior = tuning.saliency_weight * salient + unlike - tuning.centre_weight * centre
    subject = (prior > tuning.prior_threshold) & ~strip
    if not subject.any():
        return subject
    pixels = small.reshape(-1, 3).astype(np.float32)
    weights = pair_weights(lab)
    hard = np.where(strip, HARD_COST, 0.0).astype(np.float32)
    quiet = (salient < tuning.backdrop_saliency).ravel()
    for _ in range(max(tuning.iterations, 1)):
        flat = subject.ravel()
        if not flat.any():
            break
        fg = gmm.fit(pixels[flat], tuning.components)
        backdrop = ~flat & (quiet | strip.ravel())
        bg = gmm.fit(pixels[backdrop if backdrop.any() else ~flat], tuning.components)
        cost_fg = -gmm.log_likelihood(fg, pixels).reshape(h, w)
        cost_bg = -gmm.log_likelihood(bg, pixels).reshape(h, w)
        subject = min_cut(cost_fg + hard, cost_bg, weights, tuning.smoothness)
    return subject


def working_copy(image: Image, side_px: int) -> Image:
    h, w = image.shape[:2]
    scale = side_px / max(h, w)
    if scale >= 1:
        return image
    size = (max(round(w * scale), 8), max(round(h * scale), 8))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def border_strip(shape: tuple[int, int], share: float) -> np.ndarray:
    """``(h, w)`` float32: 1 on a strip ``share`` of the shorter side wide along the border."""
    h, w = shape
    width = max(int(round(share * min(h, w))), 1)
    strip = np.zeros((h, w), np.float32)
    strip[:width], strip[-width:], strip[:, :width], strip[:, -width:] = 1, 1, 1, 1
    return strip


def side_weights(bins: np.ndarray, strip: np.ndarray) -> np.ndarray:
    """Per-pixel weights of the strip: a side unlike the other three (the subject touches it) weighs less.

    Each side's histogram is compared with the three others' (Bhattacharyya overlap); its weight
    is that overlap, so a side showing only backdrop keeps weight 1.
    """
    h, w = bins.shape
    sides = [np.zeros((h, w), bool) for _ in range(4)]
    band_h, band_w = max(int(strip[:, w // 2].sum() // 2), 1), max(int(strip[h // 2].sum() // 2), 1)
    sides[0][:band_h], sides[1][-band_h:], sides[2][:, :band_w], sides[3][:, -band_w:] = True, True, True, True
    hists = [colour.histogram(bins, side.astype(np.float32)) for side in sides]
    weights = np.ones((h, w), np.float32)
    for index, side in enumerate(sides):
        others = sum(hists[j] for j in range(4) if j != index) / 3.0
        overlap = float(np.sqrt(hists[index] * others).sum())
        weights[side] = np.minimum(weights[side], np.clip(overlap, 0.05, 1.0))
    return weights


def centre_cost(shape: tuple[int, int]) -> np.ndarray:
    """``(h, w)`` float32: squared distance from the centre, 0 there and 1 at the corners."""
    h, w = shape
    y = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / (h / 2)
    x = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / (w / 2)
    return ((y[:, None] ** 2 + x[None, :] ** 2) / 2).astype(np.float32)


def _unlikeness(bins: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """How unlike the backdrop each pixel's colour is, in [0, 1] (1: a colour the border never shows)."""
    p = backdrop[bins]
    return (1.0 - p / (p + 1.0 / colour.BINS**3)).astype(np.float32)


def border_saliency(lab: np.ndarray, side_px: int) -> np.ndarray:
    """How hard each pixel is to reach from the border without crossing a colour edge, in [0, 1].

    The geodesic distance from the photo's border (``graph.geodesic_distance``) on a copy
    ``side_px`` on its longer side: a backdrop connects to the border through pixels of its own
    colour, a subject lies behind its outline. Normalised by its 95th percentile.
    """
    h, w = lab.shape[:2]
    scale = min(side_px / max(h, w), 1.0)
    size = (max(round(w * scale), 4), max(round(h * scale), 4))
    tiny = cv2.resize(lab, size, interpolation=cv2.INTER_AREA)
    graph = geodesic_graph(tiny, edge_weight=8.0, border_cost_px=1.0)
    distance = geodesic_distance(graph, [], border=True)
    top = float(np.percentile(distance, 95))
    salient = np.clip(distance / top, 0, 1) if top > 0 else np.zeros_like(distance)
    return cv2.resize(salient.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def drop_small_regions(subject: np.ndarray, share: float) -> np.ndarray:
    """``subject`` without regions smaller than ``share`` of its largest one, holes in it kept."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(subject.astype(np.uint8), connectivity=8)
    if count <= 2:
        return subject
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.concatenate([[False], areas >= share * areas.max()])
    return keep[labels]
