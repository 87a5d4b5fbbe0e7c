"""Sprites (products drawn at a supersampled resolution), shadows, and the camera that finishes a photo.

A :class:`Sprite` collects premultiplied linear RGB and alpha for one product at ``ss`` times the
photo resolution; :class:`Photo` lays sprites on a backdrop with their shadows, keeps the true
alpha and a label map, and :meth:`Photo.develop` applies defocus, vignetting, a highlight
shoulder, sensor noise and the sRGB curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from examples.shading import Lighting, Material, Part, shade

Array = np.ndarray


def bounding_slices(coverage: Array, margin: int = 0) -> tuple[slice, slice] | None:
    """Row and column slices around the pixels where ``coverage`` > 0 (grown by ``margin``), or None."""
    rows = np.flatnonzero(coverage.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(coverage.any(axis=0))
    h, w = coverage.shape
    return (
        slice(max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin)),
        slice(max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin)),
    )


class Sprite:
    """One product, ``width_px`` x ``height_px`` photo pixels drawn at ``ss`` x resolution."""

    def __init__(self, width_px: int, height_px: int, ss: int) -> None:
        self.ss = ss
        self.size = (height_px * ss, width_px * ss)
        self.premul = np.zeros((*self.size, 3), np.float32)
        self.alpha = np.zeros(self.size, np.float32)

    def over(self, rgb: Array, coverage: Array, box: tuple[slice, slice] | None = None) -> None:
        """Composite linear ``rgb`` (h, w, 3) with ``coverage`` (h, w) in [0, 1] over what is drawn,
        or, with ``box``, over that window of the sprite (``rgb`` and ``coverage`` then window-sized)."""
        box = box or (slice(None), slice(None))
        a = coverage[..., None]
        self.premul[box] = rgb * a + self.premul[box] * (1 - a)
        self.alpha[box] = coverage + self.alpha[box] * (1 - coverage)

    def paint(
        self,
        part: Part,
        material: Material,
        lighting: Lighting,
        *,
        albedo: Array | None = None,
        opacity: Array | float = 1.0,
    ) -> None:
        """Shade ``part`` with ``material`` and draw it; ``opacity`` scales its coverage (glass, liquid).

        Only the bounding box of the part's coverage is shaded.
        """
        box = bounding_slices(part.coverage)
        if box is None:
            return
        sub = Part(
            part.coverage[box],
            part.normal[box],
            part.u[box] if part.u.size else part.u,
            part.v[box] if part.v.size else part.v,
        )
        alpha = part.coverage[box] * (opacity[box] if isinstance(opacity, np.ndarray) else opacity)
        self.over(shade(sub, material, lighting, None if albedo is None else albedo[box]), alpha, box)

    def resolve(self) -> tuple[Array, Array]:
        """Downsample to photo resolution: ``(premultiplied rgb (h, w, 3), alpha (h, w))``."""
        h, w = self.size[0] // self.ss, self.size[1] // self.ss
        premul = cv2.resize(self.premul, (w, h), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(self.alpha, (w, h), interpolation=cv2.INTER_AREA)
        return premul, np.clip(alpha, 0, 1)


@dataclass(frozen=True)
class FloorShadow:
    """A product standing on a floor seen from the front: contact shadow plus a cast shadow behind it.

    The cast shadow is the silhouette squashed towards its base by ``squash`` and sheared by ``shear``
    (px to the right per px of height), blurred by ``blur_px``.
    """

    strength: float = 0.45
    squash: float = 0.22
    shear: float = 0.35
    blur_px: float = 18.0
    contact: float = 0.7


@dataclass(frozen=True)
class DropShadow:
    """A product lying on a surface seen from above: the silhouette offset by (dx, dy) and blurred."""

    dx_px: float = 14.0
    dy_px: float = 18.0
    blur_px: float = 16.0
    strength: float = 0.5
    contact: float = 0.45


class Photo:
    """A photo under construction: linear RGB (H, W, 3), true alpha (H, W) and labels (H, W) uint8."""

    def __init__(self, backdrop: Array) -> None:
        self.rgb = backdrop.astype(np.float32)
        h, w = backdrop.shape[:2]
        self.alpha = np.zeros((h, w), np.float32)
        self.labels = np.zeros((h, w), np.uint8)

    def _full(self, alpha: Array, x0: int, y0: int) -> Array:
        h, w = self.alpha.shape
        full = np.zeros((h, w), np.float32)
        sh, sw = alpha.shape
        ya, yb, xa, xb = max(0, y0), min(h, y0 + sh), max(0, x0), min(w, x0 + sw)
        full[ya:yb, xa:xb] = alpha[ya - y0 : yb - y0, xa - x0 : xb - x0]
        return full

    def darken(self, density: Array, strength: float) -> None:
        """Multiply the photo by ``1 - strength * density`` (shadows); ``density`` (H, W) in [0, 1]."""
        self.rgb *= (1 - strength * np.clip(density, 0, 1))[..., None]

    def _floor_shadow(self, full: Array, shadow: FloorShadow) -> None:
        rows = np.nonzero(full.max(axis=1) > 0.5)[0]
        cols = np.nonzero(full.max(axis=0) > 0.5)[0]
        if rows.size == 0:
            return
        base = float(rows[-1])
        h, w = full.shape
        matrix = np.float32(
            [
                [1, -shadow.shear * shadow.squash, shadow.shear * shadow.squash * base],
                [0, shadow.squash, base * (1 - shadow.squash)],
            ]
        )
        cast = cv2.warpAffine(full, matrix, (w, h), flags=cv2.INTER_LINEAR)
        yy = np.arange(h, dtype=np.float32)[:, None]
        fade = np.exp(-np.clip(base - yy, 0, None) / max(1.0, shadow.squash * (rows[-1] - rows[0])))
        cast = cv2.GaussianBlur(cast * fade, (0, 0), shadow.blur_px)
        self.darken(cast, shadow.strength)
        width = float(cols[-1] - cols[0])
        self.darken(self._foot_line(full, width), shadow.contact)

    @staticmethod
    def _foot_line(full: Array, width: float) -> Array:
        """Contact shadow density hugging the lowest covered pixel of every column."""
        h, w = full.shape
        covered = full > 0.5
        has = covered.any(axis=0)
        bottom = h - 1 - np.argmax(covered[::-1], axis=0)
        line = np.zeros((h, w), np.float32)
        xs = np.nonzero(has)[0]
        line[np.clip(bottom[xs] - 1, 0, h - 1), xs] = 1.0
        sigma = max(1.5, width * 0.012)
        line = cv2.GaussianBlur(line, (0, 0), sigmaX=sigma * 2.5, sigmaY=sigma)
        return np.clip(line * sigma * 2.5, 0, 1)

    def _drop_shadow(self, full: Array, shadow: DropShadow) -> None:
        h, w = full.shape
        matrix = np.float32([[1, 0, shadow.dx_px], [0, 1, shadow.dy_px]])
        moved = cv2.warpAffine(full, matrix, (w, h), flags=cv2.INTER_LINEAR)
        self.darken(cv2.GaussianBlur(moved, (0, 0), shadow.blur_px), shadow.strength)
        self.darken(cv2.GaussianBlur(full, (0, 0), max(1.5, shadow.blur_px / 6)), shadow.contact)

    def place(
        self, sprite: Sprite, x0: int, y0: int, *, label: int = 1, shadow: FloorShadow | DropShadow | None = None
    ) -> None:
        """Cast the sprite's shadow, then composite it with its top-left corner at (x0, y0) photo px."""
        premul, alpha = sprite.resolve()
        full = self._full(alpha, x0, y0)
        if isinstance(shadow, FloorShadow):
            self._floor_shadow(full, shadow)
        elif isinstance(shadow, DropShadow):
            self._drop_shadow(full, shadow)
        full_rgb = np.stack([self._full(premul[..., i], x0, y0) for i in range(3)], axis=-1)
        self.rgb = full_rgb + self.rgb * (1 - full)[..., None]
        self.alpha = full + self.alpha * (1 - full)
        self.labels[full >= 0.5] = label

    def develop(
        self,
        rng: np.random.Generator,
        *,
        defocus_px: float = 0.6,
        vignette: float = 0.18,
        noise: float = 0.012,
        exposure: float = 1.0,
    ) -> tuple[Array, Array]:
        """Return ``(image (H, W, 3) uint8 sRGB, true alpha (H, W) uint8)`` through a simple camera."""
        h, w = self.alpha.shape
        rgb = self.rgb * exposure
        alpha = self.alpha
        if defocus_px > 0:
            rgb = cv2.GaussianBlur(rgb, (0, 0), defocus_px)
            alpha = cv2.GaussianBlur(alpha, (0, 0), defocus_px)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d2 = ((xx - w / 2) / (w / 2)) ** 2 * 0.6 + ((yy - h / 2) / (h / 2)) ** 2 * 0.4
        rgb = rgb * (1 - vignette * d2**1.5)[..., None]
        knee = 0.82
        rgb = np.where(rgb < knee, rgb, knee + (1 - knee) * (1 - np.exp(-(rgb - knee) / (1 - knee))))
        srgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.power(np.maximum(rgb, 0), 1 / 2.4) - 0.055)
        grain = rng.normal(0, 1, (h, w, 1)).astype(np.float32) * noise
        grain = grain + rng.normal(0, 1, (h, w, 3)).astype(np.float32) * noise * 0.35
        srgb = srgb + grain * (0.6 + 0.6 * (1 - srgb))
        image = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)
        mask = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        return image, mask
