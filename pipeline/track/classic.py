"""The classical tracker (no weights): DIS optical flow carries the mask, a graph cut snaps it.

Each new frame gets two predictions of the subject: the previous mask warped along the dense
flow (follows any motion, but loses parts that were hidden) and the keyframe's mask moved by the
subject's fitted similarity transform, chained frame to frame (keeps the whole shape through
occlusions, but only for motion that is close to rigid). Their blend is the prior of the cut
(``snap``), which settles on the frame's edges and drops occluders whose colours are not the
subject's. Confidence compares the result with what the motion predicted and with the area the
keyframe's mask should have at the fitted scale; occlusion, the subject leaving the frame and
drift all lower it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.track import flow as motion
from pipeline.track.protocol import Tracked
from pipeline.track.snap import ColourModel, SnapTuning, colour_model, snap
from pipeline.types import Image, Mask


@dataclass(frozen=True)
class ClassicTuning:
    """Knobs of the classical tracker; the defaults were chosen on ``bench.track``'s tuning sequences.

    - ``shape_share``: weight of the keyframe's shape (moved by the fitted motion) in the prior,
      used when at least ``rigid_inliers`` of the flow agrees with one similarity transform.
    - ``model_update``: share of each frame's colours mixed into the colour model, on frames whose
      confidence is at least ``model_trust``.
    - ``motion_cost``: cost of labelling subject a pixel whose flow is unlike the subject's motion.
    - ``min_island``: islands smaller than this share of the mask are dropped.
    """

    snap: SnapTuning = field(default_factory=SnapTuning)
    shape_share: float = 0.6
    rigid_inliers: float = 0.5
    model_update: float = 0.3
    model_trust: float = 0.8
    min_island: float = 0.02
    motion_cost: float = 2.0
    flow_preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST


class ClassicTracker:
    """Flow + graph-cut tracking; read-only and shared, one ``ClassicSession`` per pass."""

    name = "classic"

    def __init__(self, tuning: ClassicTuning | None = None) -> None:
        self.tuning = tuning or ClassicTuning()

    def start(self, frame: Image, mask: Mask) -> ClassicSession:
        return ClassicSession(frame, mask, self.tuning)


def _gray(frame: Image) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


def _mismatch(flow: np.ndarray, step: np.ndarray, coords: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """How far (0 to 1, saturating at 5 px) each pixel's flow is from the subject's motion ``step``.

    Pixels that do not move with the subject (an occluder crossing it, the background under a
    pan) score high; the cut counts that against labelling them subject.
    """
    inverse = cv2.invertAffineTransform(step)
    xs, ys = coords
    expected_x = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    expected_y = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    distance = np.hypot(xs + flow[..., 0] - expected_x, ys + flow[..., 1] - expected_y)
    return np.clip((distance - 1.0) / 4.0, 0.0, 1.0).astype(np.float32)


def drop_islands(mask: Mask, min_share: float) -> Mask:
    """``mask`` without connected pieces smaller than ``min_share`` of its area."""
    binary = (mask > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 2:
        return binary.astype(np.float32)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, bool)
    keep[1:] = areas >= min_share * areas.sum()
    return keep[labels].astype(np.float32)


class ClassicSession:
    """One pass of the classical tracker from a keyframe (mutable; not shared between threads)."""

    def __init__(self, frame: Image, mask: Mask, tuning: ClassicTuning) -> None:
        self.tuning = tuning
        self.solver = motion.dis(tuning.flow_preset)
        self.coords = motion.grid(mask.shape)
        self.gray = _gray(frame)
        self.key_mask = (mask > 0.5).astype(np.float32)
        self.mask = self.key_mask
        self.key_area = float(self.key_mask.sum())
        self.chain = motion.IDENTITY
        self.step = motion.IDENTITY
        self.key_model = colour_model(frame, self.key_mask)
        self.model: ColourModel = self.key_model

    def next(self, frame: Image) -> Tracked:
        gray = _gray(frame)
        flow = motion.backward_flow(self.solver, gray, self.gray)
        warped = motion.warp_mask(self.mask, flow, self.coords)
        step, inliers = motion.fit_motion(self.gray, gray, self.mask)
        if inliers < self.tuning.rigid_inliers:  # too few corners agree (hidden, blurred): keep the last motion
            step = self.step
        self.step = step
        self.chain = motion.compose(step, self.chain)
        height, width = warped.shape
        shaped: Mask = cv2.warpAffine(self.key_mask, self.chain, (width, height), flags=cv2.INTER_LINEAR)  # type: ignore[assignment]
        share = self.tuning.shape_share
        prior = (1 - share) * warped + share * shaped
        against = self.tuning.motion_cost * _mismatch(flow, step, self.coords)
        mask = drop_islands(snap(frame, prior, self.model, self.tuning.snap, against), self.tuning.min_island)
        tracked = self._judge(mask, warped, shaped)
        self.gray = gray
        if tracked.mask.any():
            self.mask = tracked.mask
        if tracked.confidence >= self.tuning.model_trust:  # an occluder must not teach the model its colours
            self.model = self.key_model.blend(colour_model(frame, tracked.mask), self.tuning.model_update)
        return tracked

    def _judge(self, mask: Mask, warped: Mask, shaped: Mask) -> Tracked:
        """Confidence from agreement with the motion and the area the keyframe predicts."""
        inside = mask > 0.5
        if not inside.any():
            return Tracked(mask, 0.0, "the subject was lost (nothing left to follow)")
        agreement = _iou(inside, warped > 0.5)
        scale = abs(float(np.linalg.det(self.chain[:, :2])))
        expected = self.key_area * max(scale, 1e-6)
        ratio = float(inside.sum()) / expected if expected > 0 else 0.0
        size_score = float(np.clip(min(ratio, 1 / max(ratio, 1e-6)), 0.0, 1.0))
        confidence = min(agreement, size_score)
        if size_score < agreement:
            reason = (
                "the subject is partly hidden or leaving the frame" if ratio < 1 else "the mask grew past the subject"
            )
        else:
            reason = "the edges moved unlike the motion (fast motion or drift)"
        return Tracked(mask, confidence, reason if confidence < 0.7 else "")
