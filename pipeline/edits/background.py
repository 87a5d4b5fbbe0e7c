"""Replace the background behind a subject: colour, gradient, blur, image or prompt.

Here the mask selects the SUBJECT to keep (1 = subject), unlike remove / inpaint. The promise,
in this op's terms: pixels where the subject mask is 1 come out byte-identical to the input;
pixels where it is 0 are new background (plus an optional shadow); the soft band between
blends the subject's decontaminated colours (``matting.estimate_foreground``) over the new
background, so no halo of the old background remains. ``feather_px`` softens the edge outward
only (into the background), so the subject's pixels stay exact.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from pipeline import masks
from pipeline.colors import RGB, check_rgb
from pipeline.edits.matting import estimate_foreground
from pipeline.edits.remove import EditResult, read_only, require_selection, run_engine, selected_box
from pipeline.errors import InvalidInput
from pipeline.inpaint.classic import smooth_fill
from pipeline.inpaint.control import Control
from pipeline.inpaint.protocol import CancelFlag, Inpainter, InpaintRequest, ProgressFn, Prompting
from pipeline.limits import MAX_BLUR_PX, MAX_FEATHER_PX, MAX_SHADOW_PX
from pipeline.masks import compose
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

log = logging.getLogger(__name__)

ShadowKind = Literal["drop", "contact"]
Fit = Literal["cover", "fit"]


@dataclass(frozen=True)
class SolidColor:
    """A flat colour, ``(r, g, b)`` in 0..255."""

    rgb: RGB

    def __post_init__(self) -> None:
        check_rgb(self.rgb, "colour")


@dataclass(frozen=True)
class Gradient:
    """A linear two-colour gradient from ``start`` to ``end``; ``angle_deg`` 90 runs top to bottom, 0 left to right."""

    start: RGB
    end: RGB
    angle_deg: float = 90.0

    def __post_init__(self) -> None:
        check_rgb(self.start, "gradient start colour")
        check_rgb(self.end, "gradient end colour")
        _check_angle(self.angle_deg, "gradient angle")


def _check_angle(angle: object, name: str) -> None:
    if isinstance(angle, bool) or not isinstance(angle, (int, float)) or not math.isfinite(angle):
        raise InvalidInput(f"{name} is {angle!r}; use a number of degrees such as 90")


@dataclass(frozen=True)
class BlurredOriginal:
    """The original background, blurred (Gaussian, sigma = ``radius_px`` / 2), subject filled out first."""

    radius_px: float

    def __post_init__(self) -> None:
        if not 0.0 < self.radius_px <= MAX_BLUR_PX:
            raise InvalidInput(f"blur is {self.radius_px} px; use more than 0 and at most {MAX_BLUR_PX:g}")


@dataclass(frozen=True, eq=False)
class ImageBackground:
    """An uploaded ``(h, w, 3)`` uint8 image, scaled to ``cover`` the frame (cropped, centred) or
    to ``fit`` inside it (letterboxed on ``pad_rgb``)."""

    image: Image
    fit: Fit = "cover"
    pad_rgb: RGB = (255, 255, 255)

    def __post_init__(self) -> None:
        check_image(self.image, "background image")
        if self.fit not in ("cover", "fit"):
            raise InvalidInput(f"fit {self.fit!r} is not one of cover, fit")
        check_rgb(self.pad_rgb, "padding colour")


@dataclass(frozen=True)
class PromptBackground:
    """A background painted by an inpainting engine from ``prompting.prompt`` (the subject is not repainted)."""

    prompting: Prompting

    def __post_init__(self) -> None:
        if not self.prompting.prompt.strip():
            raise InvalidInput("the background prompt is empty; describe the new background")


Background = SolidColor | Gradient | BlurredOriginal | ImageBackground | PromptBackground


@dataclass(frozen=True)
class Shadow:
    """A soft shadow under the subject, drawn on the new background only.

    - ``kind``: ``"drop"`` (the silhouette, offset) or ``"contact"`` (a flat ellipse at the base).
    - ``angle_deg``: direction the shadow falls, 0 = right, 90 = down (image axes).
    - ``distance_px``: offset of a drop shadow; ``softness_px``: blur radius (sigma = radius / 2).
    - ``opacity``: darkness in [0, 1] where the shadow is full.
    """

    kind: ShadowKind = "drop"
    angle_deg: float = 60.0
    distance_px: float = 20.0
    softness_px: float = 16.0
    opacity: float = 0.45

    def __post_init__(self) -> None:
        if self.kind not in ("drop", "contact"):
            raise InvalidInput(f"shadow kind {self.kind!r} is not one of drop, contact")
        _check_angle(self.angle_deg, "shadow angle")
        if not 0.0 <= self.opacity <= 1.0:
            raise InvalidInput(f"shadow opacity is {self.opacity}; use 0 to 1")
        if not (0.0 <= self.softness_px <= MAX_FEATHER_PX and 0.0 <= self.distance_px <= MAX_SHADOW_PX):
            raise InvalidInput(
                f"shadow softness_px must be 0 to {MAX_FEATHER_PX:g} and distance_px 0 to {MAX_SHADOW_PX:g}"
            )


def replace_background(
    image: Image,
    subject: Mask,
    background: Background,
    *,
    feather_px: float = 0.0,
    shadow: Shadow | None = None,
    inpainter: Inpainter | None = None,
    controls: tuple[Control, ...] = (),
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> EditResult:
    """Put a new ``background`` behind the subject selected by ``subject`` (1 = keep).

    ``image``: ``(H, W, 3)`` uint8; ``subject``: ``(H, W)`` float32 in [0, 1]. Pixels where
    ``subject`` is 1 stay byte-identical. ``feather_px`` (>= 0) softens the edge outward;
    ``inpainter`` is required for a ``PromptBackground`` (it fills the inverted mask, guided by
    ``controls`` when given; see ``pipeline.inpaint.control``). The
    result's ``mask`` is the compositing alpha (1 = subject), ``engine`` the engine that ran.
    Raises ``EmptyMask`` when no subject is selected.
    """
    check_image(image)
    check_mask(subject, "subject mask")
    check_same_size(subject, image, "subject mask")
    require_selection(subject)
    if not 0.0 <= feather_px <= MAX_FEATHER_PX:
        raise InvalidInput(f"feather is {feather_px} px; use 0 to {MAX_FEATHER_PX:g}")
    if controls and not isinstance(background, PromptBackground):
        raise InvalidInput("guidance (controls) steers a generated background only; use a prompt background")
    plate = render_plate(
        background, image, subject, inpainter=inpainter, controls=controls, progress=progress, cancel=cancel
    )
    if shadow is not None:
        plate = cast_shadow(plate, subject, shadow)
    alpha = edge_alpha(subject, feather_px)
    foreground = decontaminated(image, subject, alpha)
    out = compose.composite(foreground, plate, alpha)
    np.copyto(out, image, where=(subject >= 1.0)[..., None])  # the promise, whatever the blend rounds
    engine = inpainter.name if isinstance(background, PromptBackground) and inpainter is not None else "none"
    return EditResult(out, alpha, engine)


def render_plate(
    background: Background,
    image: Image,
    subject: Mask,
    *,
    inpainter: Inpainter | None = None,
    controls: tuple[Control, ...] = (),
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> Image:
    """The new background alone, ``(H, W, 3)`` uint8 of ``image``'s size."""
    height, width = subject.shape
    if isinstance(background, SolidColor):
        return compose.solid((height, width), background.rgb)
    if isinstance(background, Gradient):
        return _gradient(background, width, height)
    if isinstance(background, BlurredOriginal):
        return _blurred(image, subject, background.radius_px)
    if isinstance(background, ImageBackground):
        return _fitted(background, width, height)
    if isinstance(background, PromptBackground):
        if inpainter is None:
            raise InvalidInput("a prompt background needs an inpainting engine; pass one (make_inpainter)")
        # The engine repaints the background (the inverted mask); the subject is pasted back exactly.
        region = (1.0 - subject).astype(np.float32)
        request = InpaintRequest(read_only(image), read_only(region), background.prompting, controls)
        return run_engine(inpainter, request, progress=progress, cancel=cancel)
    raise InvalidInput(f"unknown background {type(background).__name__}; use one of {Background}")


def _gradient(gradient: Gradient, width: int, height: int) -> Image:
    angle = np.deg2rad(gradient.angle_deg)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    along = xs * np.cos(angle) + ys * np.sin(angle)
    t = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
    start, end = np.array(gradient.start, np.float32), np.array(gradient.end, np.float32)
    return np.clip(start + t[..., None] * (end - start) + 0.5, 0, 255).astype(np.uint8)


def _blurred(image: Image, subject: Mask, radius_px: float) -> Image:
    """Blur of the original with the subject first filled from its surroundings (no colour bleed)."""
    height, width = subject.shape
    # Work at a scale where the blur is about 8 px: cheap at any radius, identical to the eye.
    scale = min(1.0, 8.0 / max(radius_px, 1e-6)) if radius_px > 8 else 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    solid = cv2.resize(subject, size, interpolation=cv2.INTER_AREA)
    known = (solid <= 0.0).astype(np.float32)
    filled = smooth_fill(small, known) if known.any() else small
    sigma = max(radius_px * scale / 2.0, 0.1)
    blurred = cv2.GaussianBlur(filled, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    if size != (width, height):
        blurred = cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(blurred + 0.5, 0, 255).astype(np.uint8)


def _fitted(background: ImageBackground, width: int, height: int) -> Image:
    source = background.image
    sh, sw = source.shape[:2]
    cover = background.fit == "cover"
    scale = max(width / sw, height / sh) if cover else min(width / sw, height / sh)
    new_w, new_h = max(1, round(sw * scale)), max(1, round(sh * scale))
    shrinking = scale < 1.0
    resized = cv2.resize(source, (new_w, new_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    if cover:
        x0, y0 = (new_w - width) // 2, (new_h - height) // 2
        return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
    out = compose.solid((height, width), background.pad_rgb)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    out[y0 : y0 + new_h, x0 : x0 + new_w] = resized[:height, :width]
    return out


def edge_alpha(subject: Mask, feather_px: float) -> Mask:
    """Compositing alpha: ``subject`` softened outward by ``feather_px`` (never below ``subject``)."""
    if feather_px <= 0:
        return subject.copy()
    return masks.feather_outward(subject, feather_px)


def decontaminated(image: Image, subject: Mask, alpha: Mask) -> Image:
    """``image`` with the edge band's colours replaced by foreground estimates (see ``matting``).

    Only the box around pixels that are composited but not pure subject is worked on.
    """
    edge = (alpha > 0) & (subject < 1.0)
    out = image.copy()
    if not edge.any():
        return out
    window = selected_box(edge.astype(np.float32), pad_px=32)
    part = estimate_foreground(np.ascontiguousarray(image[window]), np.ascontiguousarray(subject[window]))
    out[window] = part
    return out


def cast_shadow(plate: Image, subject: Mask, shadow: Shadow) -> Image:
    """Darken ``plate`` by a soft shadow of the subject; returns a new image."""
    height, width = subject.shape
    if shadow.kind == "drop":
        angle = np.deg2rad(shadow.angle_deg)
        dx, dy = shadow.distance_px * np.cos(angle), shadow.distance_px * np.sin(angle)
        shift = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        moved = np.asarray(cv2.warpAffine(subject, shift, (width, height)), np.float32)
    else:
        moved = _contact_shape(subject, shadow)
    shade = masks.feather(np.clip(moved, 0, 1).astype(np.float32), shadow.softness_px) if shadow.softness_px else moved
    factor = 1.0 - shadow.opacity * np.clip(shade, 0.0, 1.0)[..., None]
    return np.clip(plate.astype(np.float32) * factor + 0.5, 0, 255).astype(np.uint8)


def _contact_shape(subject: Mask, shadow: Shadow) -> Mask:
    """A flat ellipse under the subject's base, as wide as the subject's bottom fifth."""
    out = np.zeros_like(subject)
    rows = np.flatnonzero((subject >= 0.5).any(axis=1))
    if not len(rows):
        return out
    top, bottom = int(rows[0]), int(rows[-1])
    base = subject[bottom - max(1, (bottom - top) // 5) : bottom + 1] >= 0.5
    cols = np.flatnonzero(base.any(axis=0))
    centre = (int((cols[0] + cols[-1]) // 2), bottom)
    axes = (max(1, int((cols[-1] - cols[0]) // 2 + shadow.softness_px / 2)), max(1, int(shadow.softness_px / 2 + 2)))
    offset = int(shadow.distance_px * 0.1)
    cv2.ellipse(out, (centre[0], centre[1] + offset), axes, 0, 0, 360, 1.0, thickness=-1)
    return out
