"""The exemplar engine: fills a hole with real texture copied from around it (no weights).

Smooth fills (Telea, Navier-Stokes, push-pull) leave a blurred smear where texture was. This
engine copies patches of the photo instead, as content-aware fill does (Wexler et al. 2007,
"Space-time completion"; Barnes et al. 2009, "PatchMatch"):

1. Each connected hole is filled in its own crop: its box plus a margin, where the source
   patches come from. Crops larger than ``work_side_px`` are worked on at a 2^k smaller size.
2. A pyramid of the crop halves it down to about ``COARSE_SIDE_PX``; a coarse pixel counts as
   hole unless all of its footprint is known, but keeps the mean colour and share of its known
   part, which it is pulled back to after every vote (the thin islands of photo inside a hairy
   hole steer the fill, as they steer Telea's). At the coarsest level the hole starts as Telea's
   fill (each side's colour carried inward, where a mean would blend them).
3. At each level, from coarse to fine, expectation-maximisation: PatchMatch finds for every patch
   touching the hole its most similar wholly known patch (``patchmatch.improve_field``), then
   each hole pixel becomes the weighted mean of what the overlapping matches say
   (``patchmatch.weighted_vote``; Wexler's weights: a close match outvotes a poor one, so the copy
   stays sharp). A match also pays for disagreeing with a *guide*, the smooth engine's fill
   blurred: a source must sit in surroundings of the colour the hole's edges predict there, so a
   plausible but wrong texture (the other dog's fur, sky in a bench) loses to the right one.
   Sources near the target are preferred (``near_grey``), and a source region that more targets
   copy than one coherent copy of it would pays for each extra one (``reuse_grey``), so a big
   hole is not filled with the same plausible patch again and again.
   The field is carried up to the next level, so large structure is settled where it is cheap.
4. From the work size to full size the field is scaled up (each match copies a block of full-size
   pixels) and one vote reads only real, full-size pixels: the fill has the photo's own grain.
5. The votes' averaging still softens the copy a little; ``detail_gain`` scales the copied
   detail above ``smooth_sigma_px`` back up (1.2 chosen on the benchmark's tune half).
6. The copy is joined to the photo at the hole's edge: where the copy's low frequencies differ
   from the smooth fill's on the hole's rim (the smooth fill continues the photo there), the
   difference is spread inward by push-pull and fades over ``join_px``, so the copied texture
   sits on the surrounding brightness without a step and keeps its own low frequencies inside.

Pixels where the mask is 0 come back unchanged (``edits.remove.keep_outside`` blends the rest).
Prompts are ignored. The result is the same for the same input (fixed random seeds).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import InvalidInput
from pipeline.inpaint.classic import ClassicInpainter, _pad_to, _shrink_known, smooth_fill
from pipeline.inpaint.exemplar_levels import Step, complete_level, final_vote
from pipeline.inpaint.holes import FillsEachHole
from pipeline.types import Image

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]

COARSE_SIDE_PX = 96
"""The pyramid stops halving once the crop's longer side is at most this."""

FINAL_RADIUS_PX = 3
"""Patch radius of the one full-size vote: the field there copies whole blocks, so a 7 px
patch smooths seams as well as a larger one, for less work on big holes."""

GUIDE_SIGMA_PX = 2.0
"""Blur (at each level) of the smooth fill that guides the choice of sources."""

JOIN_RIM_PX = 2.0
"""Depth of the hole's rim (work-level px) where the copy's low frequencies are pulled onto the
smooth fill's (``ExemplarInpainter.join_px``)."""


class ExemplarInpainter(FillsEachHole):
    """PatchMatch completion, coarse to fine (see the module docstring).

    - ``patch_px``: side of a patch (odd, 5 to 15).
    - ``work_side_px``: longest side of a crop at the finest level PatchMatch runs on (128 to 2048).
    - ``margin``: source context around a hole, as a fraction of its longer side (at least 16 px).
    - ``em_iterations``: expectation-maximisation rounds at the coarsest level; finer levels run
      half as many (at least 2).
    - ``near_grey``: preference for nearby sources: a source one crop-width away costs as much as
      a colour difference of this many grey levels over the whole patch (0 = no preference).
    - ``reuse_grey``: charge for copying the same source region more than once: a bin one patch
      wide that twice as many targets match as it has pixels costs each of them as much as a colour
      difference of this many grey levels over the whole patch (0 = free reuse).
    - ``guide_weight``: cost of a grey level of disagreement with the guide, per patch pixel,
      relative to a grey level of patch difference (0 = no guide).
    - ``vote_sharpness``: votes weigh exp(-sharpness * cost / the 75th percentile cost) (0 = mean).
    - ``detail_gain``: the copied detail above ``smooth_sigma_px`` is scaled by this (1 = as copied).
    - ``smooth_weight``: share of the low frequencies taken from the smooth fill instead of the
      copy (0 = none; the benchmark's tune half preferred 0 once the guide was there).
    - ``join_px``: how far (work-level px) the correction that joins the copy to the photo's
      brightness at the hole's edge reaches into the hole (0 = no correction).

    Defaults were chosen on the tune half of ``bench/removal.py`` (see docs/BENCHMARKS.md).
    """

    name = "exemplar"
    min_pad_px = 16

    def __init__(
        self,
        *,
        patch_px: int = 9,
        work_side_px: int = 512,
        margin: float = 0.6,
        em_iterations: int = 6,
        near_grey: float = 40.0,
        guide_weight: float = 0.5,
        vote_sharpness: float = 3.0,
        detail_gain: float = 1.2,
        smooth_weight: float = 0.0,
        smooth_sigma_px: float = 2.0,
        reuse_grey: float = 5.0,
        join_px: float = 16.0,
    ) -> None:
        if patch_px % 2 == 0 or not 5 <= patch_px <= 15:
            raise InvalidInput(f"patch_px is {patch_px}; use an odd size from 5 to 15 (9 is the default)")
        if not 128 <= work_side_px <= 2048:
            raise InvalidInput(f"work_side_px is {work_side_px}; use 128 to 2048 (512 is the default)")
        if not 0.0 <= margin <= 4.0:
            raise InvalidInput(f"margin is {margin}; use 0 to 4 (a fraction of the hole's size)")
        if not 1 <= em_iterations <= 50:
            raise InvalidInput(f"em_iterations is {em_iterations}; use 1 to 50 (6 is the default)")
        if not 0.0 <= guide_weight <= 100.0 or not 0.0 <= vote_sharpness <= 100.0:
            raise InvalidInput(f"guide_weight {guide_weight} / vote_sharpness {vote_sharpness}: use 0 to 100 (0 = off)")
        if not 0.0 <= reuse_grey <= 255.0:
            raise InvalidInput(f"reuse_grey is {reuse_grey}; use 0 to 255 grey levels (0 = reuse is free)")
        if not 0.0 <= detail_gain <= 3.0:
            raise InvalidInput(f"detail_gain is {detail_gain}; use 0 to 3 (1 = the copied detail as it is)")
        if not 0.0 <= smooth_weight <= 1.0 or not 0.5 <= smooth_sigma_px <= 50.0:
            raise InvalidInput(f"smooth_weight {smooth_weight} / smooth_sigma_px {smooth_sigma_px}: use 0..1 / 0.5..50")
        if not 0.0 <= join_px <= 256.0:
            raise InvalidInput(f"join_px is {join_px}; use 0 to 256 (0 = no join correction, 16 is the default)")
        self.radius = patch_px // 2
        self.work_side_px = work_side_px
        self.margin = margin
        self.em_iterations = em_iterations
        self.near_grey = near_grey
        self.guide_weight = guide_weight
        self.vote_sharpness = vote_sharpness
        self.detail_gain = detail_gain
        self.smooth_weight = smooth_weight
        self.smooth_sigma_px = smooth_sigma_px
        self.reuse_grey = reuse_grey
        self.join_px = join_px

    def fill_hole(self, crop: Image, hole: Bools) -> Image:
        """Fill ``hole`` (H x W bool) of ``crop`` (H x W x 3 uint8); returns a new crop."""
        height, width = hole.shape
        if hole.all():
            return np.full_like(crop, 127)
        factor = 1
        while max(height, width) > self.work_side_px * factor:
            factor *= 2
        known = (~hole).astype(np.float32)
        work, share = _shrink_known(crop.astype(np.float32) * known[..., None], known, factor)
        levels = [(work, share)]  # (mean colour of the known part, known share) per pixel
        while max(levels[-1][0].shape[:2]) > COARSE_SIDE_PX:
            image, share = levels[-1]
            levels.append(_shrink_known(image * share[..., None], share, 2))
        work_hole = levels[0][1] < 0.999
        reshape = self.detail_gain != 1.0 or self.smooth_weight > 0 or self.join_px > 0
        smooth = _smooth_work(work, work_hole) if self.guide_weight > 0 or reshape else None
        field, filled, weight = None, None, None
        for depth in range(len(levels) - 1, -1, -1):
            image, share = levels[depth]
            rounds = self.em_iterations if depth == len(levels) - 1 else max(2, self.em_iterations // 2)
            guide: Floats | None = None
            if smooth is not None and self.guide_weight > 0:
                small = cv2.resize(smooth, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
                guide = np.ascontiguousarray(cv2.GaussianBlur(small, (0, 0), GUIDE_SIGMA_PX), dtype=np.float32)
            step = Step(
                self.radius, rounds, self.near_grey, self.guide_weight, self.vote_sharpness, depth, self.reuse_grey
            )
            level_filled, field, weight = complete_level(image, share, field, filled, guide, step)
            if level_filled is None:  # no wholly known patch: fall back to a smooth fill
                return _smooth(crop, hole)
            filled = level_filled
        assert filled is not None and field is not None and weight is not None  # levels is never empty
        gain, shift = 1.0, None
        if reshape:
            assert smooth is not None
            gain, shift = self.detail_gain, self._detail_shift(smooth, filled, work_hole)
        out = crop.copy()
        if factor == 1:
            if shift is not None:
                filled = gain * filled + shift
            cv2.copyTo(np.clip(filled + 0.5, 0, 255).astype(np.uint8), hole.view(np.uint8), out)
            return out
        full = _pad_to(crop, factor).astype(np.float32)
        full_hole = _pad_to(hole.view(np.uint8), factor).astype(bool)
        # Full-size work only inside the hole's box (one work cell wider, so the interpolation
        # inside matches a whole-crop resize): the box is a fraction of the crop.
        x, y, w, h = cv2.boundingRect(full_hole.view(np.uint8))
        cells = (slice(max(0, y // factor - 1), min(filled.shape[0], -(-(y + h) // factor) + 1)),
                 slice(max(0, x // factor - 1), min(filled.shape[1], -(-(x + w) // factor) + 1)))  # fmt: skip
        box = (
            slice(cells[0].start * factor, cells[0].stop * factor),
            slice(cells[1].start * factor, cells[1].stop * factor),
        )
        size = (box[1].stop - box[1].start, box[0].stop - box[0].start)
        np.copyto(
            full[box], cv2.resize(filled[cells], size, interpolation=cv2.INTER_LINEAR), where=full_hole[box][..., None]
        )
        final_vote(full, full_hole, field, weight, factor, min(self.radius, FINAL_RADIUS_PX))
        region = full[box]
        if shift is not None:
            region = gain * region + cv2.resize(shift[cells], size, interpolation=cv2.INTER_LINEAR)
        region = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        out_box = (slice(box[0].start, min(box[0].stop, height)), slice(box[1].start, min(box[1].stop, width)))
        inside = region[: out_box[0].stop - out_box[0].start, : out_box[1].stop - out_box[1].start]
        np.copyto(out[out_box], inside, where=hole[out_box][..., None])
        return out

    def _detail_shift(self, smooth: Floats, filled: Floats, hole: Bools) -> Floats:
        """What to add to ``detail_gain * filled`` (work level) so that the result is the copied
        detail above ``smooth_sigma_px``, times ``detail_gain`` (which restores the contrast the
        votes' averaging takes off the copied texture), on low frequencies that are
        ``smooth_weight`` the smooth fill's and the rest the copy's own, joined to the smooth
        fill's at the hole's rim (``join_px``)."""
        sigma = self.smooth_sigma_px
        low = cv2.GaussianBlur(filled, (0, 0), sigma)
        joined = self.smooth_weight > 0 or self.join_px > 0
        smooth_low = cv2.GaussianBlur(smooth, (0, 0), sigma) if joined else low
        base = (self.smooth_weight * smooth_low + (1.0 - self.smooth_weight) * low).astype(np.float32)
        shift = (base - self.detail_gain * low).astype(np.float32)
        if self.join_px > 0:
            shift += rim_correction((smooth_low - base).astype(np.float32), hole, self.join_px)
        return shift


def rim_correction(mismatch: Floats, hole: Bools, reach_px: float) -> Floats:
    """A correction that is ``mismatch`` (H x W x C) on the hole's rim (the pixels at most
    ``JOIN_RIM_PX`` inside it), spread inward by push-pull and fading as exp(-depth / reach_px)
    beyond the rim: added to a copied fill, it removes the fill's step against the photo at the
    hole's edge and leaves the copy's own shading deeper inside (on the benchmark's tune half a
    correction that does not fade, as in seamless cloning, scored lower)."""
    depth = cv2.distanceTransform(np.ascontiguousarray(hole).view(np.uint8), cv2.DIST_L2, 3)
    rim = hole & (depth <= JOIN_RIM_PX)
    if not rim.any():
        return np.zeros_like(mismatch)
    spread = smooth_fill(np.where(rim[..., None], mismatch, 0).astype(np.float32), rim.astype(np.float32))
    fade = np.exp(-np.maximum(depth - JOIN_RIM_PX, 0.0) / np.float32(reach_px)).astype(np.float32)
    return spread * fade[..., None]


def _smooth_work(work: Floats, hole: Bools) -> Floats:
    """The smooth engine's fill of the work-level crop: the guide's and the low frequencies' source."""
    known_only = np.where(hole[..., None], 0, np.clip(work + 0.5, 0, 255)).astype(np.uint8)
    return ClassicInpainter().fill_hole(known_only, hole).astype(np.float32)


def _smooth(crop: Image, hole: Bools) -> Image:
    filled = smooth_fill(crop.astype(np.float32), (~hole).astype(np.float32))
    out = crop.copy()
    cv2.copyTo(np.clip(filled + 0.5, 0, 255).astype(np.uint8), hole.view(np.uint8), out)
    return out
