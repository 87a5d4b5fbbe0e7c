"""Procedural backdrops for the example photos: studio sweep, coloured paper, wood, marble, fabric.

Every function returns a linear-light RGB array ``(H, W, 3)`` float32, roughly in [0, 1], and draws
its randomness only from the ``numpy.random.Generator`` it is given, so a seed fixes the result.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Array = np.ndarray
RGB = tuple[int, int, int]


def srgb_to_linear(color: RGB) -> Array:
    """Convert an 8-bit sRGB colour to a linear-light float32 triple in [0, 1]."""
    c = np.asarray(color, dtype=np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> Array:
    """Value noise in [0, 1] of ``shape`` (H, W) whose features are about ``cell_px`` pixels wide."""
    h, w = shape
    cell = max(1.0, float(cell_px))
    gh, gw = int(h / cell) + 4, int(w / cell) + 4
    grid = rng.random((gh, gw), dtype=np.float32)
    big = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)
    off = int(cell)
    return big[off : off + h, off : off + w]


def fbm(rng: np.random.Generator, shape: tuple[int, int], cell_px: float, octaves: int = 4) -> Array:
    """Fractal sum of ``octaves`` value-noise layers, halving the cell size each time; range ~[0, 1]."""
    total = np.zeros(shape, np.float32)
    weight = 0.0
    for i in range(octaves):
        amp = 0.5**i
        total += amp * smooth_noise(rng, shape, max(1.0, cell_px / 2**i))
        weight += amp
    return total / weight


def stretched_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float, stretch: float) -> Array:
    """Value noise whose features are ``stretch`` times longer along x than along y (wood fibres, slubs)."""
    h, w = shape
    small = smooth_noise(rng, (h, max(2, int(math.ceil(w / stretch)))), cell_px)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _grid(shape: tuple[int, int]) -> tuple[Array, Array]:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


def sweep(
    shape: tuple[int, int], color: RGB, *, horizon: float = 0.55, wall_tone: float = 0.78, rng: np.random.Generator
) -> Array:
    """A seamless paper sweep: darker wall at the top curving into a brighter floor, lit from the left.

    ``horizon`` is where the curve sits as a fraction of the height; ``wall_tone`` the wall's brightness
    relative to the floor.
    """
    h, w = shape
    yy, xx = _grid(shape)
    y = yy / h
    x = xx / w
    t = np.clip((y - horizon + 0.22) / 0.44, 0.0, 1.0)
    t = t * t * (3 - 2 * t)
    tone = wall_tone + (1.0 - wall_tone) * t
    tone *= 1.0 - 0.10 * ((x - 0.45) / 0.55) ** 2
    tone *= 1.0 + 0.05 * (0.5 - x)
    tone *= 1.0 - 0.04 * np.clip(y - 0.85, 0, 1) / 0.15
    grain = 0.006 * (fbm(rng, shape, max(4.0, w / 300), 3) - 0.5)
    base = srgb_to_linear(color)
    return (tone + grain)[..., None] * base


def wood(
    shape: tuple[int, int],
    *,
    rng: np.random.Generator,
    plank_px: float,
    light: RGB = (196, 148, 104),
    dark: RGB = (112, 70, 42),
) -> Array:
    """Planks of wood running along x, ``plank_px`` wide, with growth rings, fibres and dark seams."""
    h, w = shape
    yy, xx = _grid(shape)
    plank = np.floor(yy / plank_px).astype(np.int32)
    n_planks = int(plank.max()) + 1
    offsets = rng.uniform(0, 1000, n_planks).astype(np.float32)
    tones = rng.uniform(0.82, 1.12, n_planks).astype(np.float32)
    warp = stretched_noise(rng, shape, plank_px / 3, 12.0)
    ring_px = plank_px / rng.uniform(5.0, 7.0)
    phase = (yy + offsets[plank]) / ring_px + 3.0 * warp + 0.002 * xx
    rings = (0.5 + 0.5 * np.sin(2 * np.pi * phase)) ** 4
    fibre = stretched_noise(rng, shape, 1.5, 60.0)
    blotch = fbm(rng, shape, plank_px, 3)
    mix = np.clip(0.55 * rings + 0.35 * fibre + 0.3 * (blotch - 0.5), 0, 1)
    lo, hi = srgb_to_linear(light), srgb_to_linear(dark)
    out = lo + (hi - lo) * mix[..., None]
    out *= tones[plank][..., None]
    seam_dist = np.abs(((yy + 0.5) % plank_px) - 0.5)
    seam = np.clip(seam_dist / 1.6, 0, 1)
    out *= (0.35 + 0.65 * seam)[..., None]
    return out


def marble(
    shape: tuple[int, int],
    *,
    rng: np.random.Generator,
    base: RGB = (236, 234, 229),
    vein: RGB = (120, 118, 116),
    scale_px: float = 900.0,
) -> Array:
    """White marble with wavy diagonal grey veins that fade in and out; ``scale_px`` sets their spacing."""
    yy, xx = _grid(shape)
    turb = fbm(rng, shape, scale_px / 1.5, 5)
    turb2 = fbm(rng, shape, scale_px / 3, 5)
    p1 = (0.8 * xx + 0.6 * yy) / scale_px * 2 * np.pi + 7.0 * turb
    p2 = (0.45 * xx - 0.9 * yy) / (scale_px * 0.7) * 2 * np.pi + 5.0 * turb2
    v1 = (1 - np.abs(np.sin(p1))) ** 10 * fbm(rng, shape, scale_px / 2, 3) ** 1.5 * 2.2
    v2 = (1 - np.abs(np.sin(p2))) ** 30 * fbm(rng, shape, scale_px / 3, 3) ** 2 * 2.5
    haze = cv2.GaussianBlur(v1, (0, 0), scale_px / 40)
    cloud = fbm(rng, shape, scale_px / 1.5, 4)
    b, v = srgb_to_linear(base), srgb_to_linear(vein)
    amount = np.clip(0.7 * v1 + 0.4 * v2 + 0.5 * haze + 0.18 * (cloud - 0.5), 0, 1)
    return b + (v - b) * amount[..., None]


def fabric(shape: tuple[int, int], *, rng: np.random.Generator, color: RGB, thread_px: float = 5.0) -> Array:
    """Plain-woven cloth (linen, felt): interlaced threads ``thread_px`` wide with slubs and soft folds."""
    h, w = shape
    yy, xx = _grid(shape)
    cols = np.floor(xx / thread_px).astype(np.int32)
    rows = np.floor(yy / thread_px).astype(np.int32)
    warp_tone = rng.normal(1.0, 0.07, int(cols.max()) + 1).astype(np.float32)[cols]
    weft_tone = rng.normal(1.0, 0.07, int(rows.max()) + 1).astype(np.float32)[rows]
    warp_prof = 0.55 + 0.45 * np.sin(np.pi * (xx % thread_px) / thread_px)
    weft_prof = 0.55 + 0.45 * np.sin(np.pi * (yy % thread_px) / thread_px)
    slub_x = stretched_noise(rng, shape, thread_px * 0.8, 25.0)
    slub_y = stretched_noise(rng, (w, h), thread_px * 0.8, 25.0).T
    over = ((cols + rows) % 2) == 0
    weave = np.where(over, warp_prof * warp_tone * (0.9 + 0.2 * slub_y), weft_prof * weft_tone * (0.9 + 0.2 * slub_x))
    folds = fbm(rng, shape, max(h, w) / 4, 3)
    tone = weave * (0.88 + 0.24 * folds)
    return tone[..., None].astype(np.float32) * srgb_to_linear(color)


def tabletop(surface: Array, out_shape: tuple[int, int], *, y_far: float, squeeze: float = 0.55) -> Array:
    """Lay a flat ``surface`` texture on a table receding to row ``y_far`` (fraction of the height).

    The texture's top edge lands on ``y_far`` narrowed by ``squeeze`` and its bottom edge on the last
    row; returns ``(H, W, 3)``, the rows above ``y_far`` repeating the far edge (cover them with a wall,
    see :func:`on_table`).
    """
    h, w = out_shape
    th, tw = surface.shape[:2]
    near_half = max(tw / 2.0, w * 0.8)
    far_half = max(w * 0.55, near_half * squeeze)
    src = np.float32([[0, 0], [tw, 0], [tw, th], [0, th]])
    y0 = y_far * h
    dst = np.float32([[w / 2 - far_half, y0], [w / 2 + far_half, y0], [w / 2 + near_half, h], [w / 2 - near_half, h]])
    homography = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(surface, homography, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def depth_blur(image: Array, weight: Array, sigma_px: float) -> Array:
    """Blend ``image`` with a Gaussian-blurred copy by ``weight`` (H, W) in [0, 1]: a cheap depth of field."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigma_px)
    return image + (blurred - image) * weight[..., None]


def image_to_linear(image: Array) -> Array:
    """Convert an 8-bit sRGB image (..., 3) uint8 to linear-light float32."""
    c = image.astype(np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def on_table(wall: Array, table: Array, y_far: float, *, blur_px: float = 6.0) -> Array:
    """Join a ``wall`` (top) and a receding ``table`` (bottom) at row ``y_far`` (fraction of the height);
    the far table is softly out of focus, as with a shallow depth of field."""
    h = wall.shape[0]
    rows = np.arange(h, dtype=np.float32)[:, None]
    edge = y_far * h
    weight = np.clip((rows - edge) / 2.0 + 0.5, 0, 1)
    out = wall * (1 - weight[..., None]) + table * weight[..., None]
    far = np.clip(1 - (rows - edge) / (0.45 * (h - edge)), 0, 1) ** 1.5
    out *= (1 - 0.25 * np.exp(-np.clip(rows - edge, 0, None) / 6.0) * (rows >= edge))[..., None]
    return depth_blur(out.astype(np.float32), np.broadcast_to(far, (h, wall.shape[1])), blur_px)
