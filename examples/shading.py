"""Geometry buffers and a small studio shading model for the example renderer.

Coordinates: camera space, x to the right, y down, z towards the viewer; every array is at the
sprite's supersampled resolution. A :class:`Part` is one surface (coverage, normals, texture
coordinates); :func:`shade` turns it into linear-light RGB under a softbox-lit studio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from examples.backdrops import RGB, srgb_to_linear

Array = np.ndarray


@dataclass(frozen=True)
class Material:
    """Surface look: ``color`` sRGB albedo, ``gloss`` reflectance at normal incidence (0..1),
    ``roughness`` (0 mirror .. 1 matte) widens highlights, ``metal`` tints reflections by the colour."""

    color: RGB
    gloss: float = 0.04
    roughness: float = 0.35
    metal: bool = False


@dataclass(frozen=True)
class Lighting:
    """A key light (``key`` points towards it), a sky fill and two softboxes seen in reflections."""

    key: tuple[float, float, float] = (-0.55, -0.6, 0.6)
    key_power: float = 0.85
    fill_power: float = 0.32
    softbox_left: float = 3.2
    softbox_right: float = 1.4


@dataclass
class Part:
    """One surface: ``coverage`` (h, w) in [0, 1], unit ``normal`` (h, w, 3), texture coords ``u``, ``v``."""

    coverage: Array
    normal: Array
    u: Array = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    v: Array = field(default_factory=lambda: np.zeros((0, 0), np.float32))

    def transposed(self) -> Part:
        """The same part lying on its side (rows and columns swapped, normals swapped to match)."""
        n = self.normal.transpose(1, 0, 2)[..., [1, 0, 2]]
        return Part(self.coverage.T.copy(), np.ascontiguousarray(n), self.v.T.copy(), self.u.T.copy())


def _normalize(n: Array) -> Array:
    return (n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)).astype(np.float32)


def _smooth_box(value: Array, center: float, half: float, soft: float) -> Array:
    t = np.clip((half - np.abs(value - center)) / soft + 0.5, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def environment(r: Array, lighting: Lighting, roughness: float) -> Array:
    """Radiance seen along reflection directions ``r`` (h, w, 3): two tall softboxes, a ceiling, a dim room."""
    rx, ry, rz = r[..., 0], r[..., 1], r[..., 2]
    soft = 0.04 + 0.5 * roughness
    front = np.clip(rz + 0.3, 0, 1)
    left = _smooth_box(rx, -0.62, 0.16 + 0.1 * roughness, soft) * _smooth_box(ry, -0.15, 0.55, soft)
    right = _smooth_box(rx, 0.72, 0.1 + 0.1 * roughness, soft) * _smooth_box(ry, -0.1, 0.5, soft)
    ceiling = np.clip(-ry - 0.55, 0, 1) * 1.6
    room = 0.16 + 0.14 * np.clip(-ry, -1, 1)
    value = room + front * (lighting.softbox_left * left + lighting.softbox_right * right) + ceiling
    return value.astype(np.float32)


def shade(part: Part, material: Material, lighting: Lighting, albedo: Array | None = None) -> Array:
    """Linear RGB (h, w, 3) of ``part``: wrapped Lambert key + sky fill + Fresnel-weighted reflections.

    ``albedo`` (h, w, 3) linear overrides the material colour (printed labels, textures).
    """
    n = part.normal
    base = srgb_to_linear(material.color) if albedo is None else albedo
    key = np.asarray(lighting.key, np.float32)
    key = key / np.linalg.norm(key)
    ndl = n @ key
    diffuse = lighting.key_power * np.clip((ndl + 0.25) / 1.25, 0, 1) ** 1.3
    ambient = lighting.fill_power * (0.75 - 0.3 * n[..., 1])
    nz = np.clip(n[..., 2], 0, 1)
    r = np.stack([2 * nz * n[..., 0], 2 * nz * n[..., 1], 2 * nz * nz - 1], axis=-1)
    env = environment(r, lighting, material.roughness)
    half = key + np.array([0, 0, 1], np.float32)
    half /= np.linalg.norm(half)
    shininess = 2.0 / max(material.roughness, 0.03) ** 2
    spec = lighting.key_power * np.clip(n @ half, 0, 1) ** shininess * (1.0 - material.roughness)
    fresnel = material.gloss + (1 - material.gloss) * (1 - nz) ** 5 * (1 - material.roughness) ** 2
    light = (diffuse + ambient)[..., None]
    if material.metal:
        refl = (env + spec)[..., None] * base
        return (base * light * 0.15 + refl * 0.85).astype(np.float32)
    body = base * light * (1 - fresnel)[..., None]
    return (body + ((env + spec) * fresnel)[..., None]).astype(np.float32)


def lathe(size: tuple[int, int], ys: Array, rs: Array, *, cx: float, tilt: float) -> tuple[Part, Part]:
    """A surface of revolution seen slightly from above: ``(body, top_face)``.

    ``ys`` (increasing, px from the sprite top) and ``rs`` (radius px) give the profile; ``tilt`` is
    the sine of the camera elevation, so a circle of radius r looks like an ellipse r by tilt*r.
    ``u`` is the longitude in [-1, 1] (0 faces the camera), ``v`` the profile height in px.
    Only the window that can hold the shape is computed.
    """
    h, w = size
    ys = np.asarray(ys, np.float32)
    rs = np.asarray(rs, np.float32)
    r_max = float(rs.max())
    r0, r1 = max(0, int(ys[0] - tilt * r_max) - 2), min(h, int(ys[-1] + tilt * r_max) + 3)
    c0, c1 = max(0, int(cx - r_max) - 2), min(w, int(cx + r_max) + 3)
    body, top = _lathe_window((r0, r1, c0, c1), ys, rs, cx=cx, tilt=tilt)
    return _embed(body, size, (r0, c0)), _embed(top, size, (r0, c0))


def _embed(part: Part, size: tuple[int, int], origin: tuple[int, int]) -> Part:
    h, w = size
    y0, x0 = origin
    ph, pw = part.coverage.shape
    box = (slice(y0, y0 + ph), slice(x0, x0 + pw))
    full = [np.zeros((h, w), np.float32) for _ in range(3)]
    normal = np.zeros((h, w, 3), np.float32)
    normal[..., 2] = 1.0
    normal[box] = part.normal
    for dst, src in zip(full, (part.coverage, part.u, part.v), strict=True):
        dst[box] = src
    return Part(full[0], normal, full[1], full[2])


def _lathe_window(
    window: tuple[int, int, int, int], ys: Array, rs: Array, *, cx: float, tilt: float
) -> tuple[Part, Part]:
    r0, r1, c0, c1 = window
    dr_prof = np.gradient(rs, ys).astype(np.float32)
    py, px = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    py += 0.5
    x = px + 0.5 - cx
    y = py.copy()
    for _ in range(10):  # extend the profile past its ends so the curved rims are found
        r = np.interp(y, ys, rs).astype(np.float32)
        s = np.clip(x / np.maximum(r, 1e-3), -1, 1)
        y = py - tilt * r * np.sqrt(1 - s * s)
    r = np.interp(y, ys, rs).astype(np.float32)
    s = np.clip(x / np.maximum(r, 1e-3), -1, 1)
    c = np.sqrt(1 - s * s)
    cov = np.clip(r - np.abs(x) + 0.5, 0, 1) * np.clip(y - ys[0] + 0.5, 0, 1) * np.clip(ys[-1] - y + 0.5, 0, 1)
    dr = np.interp(y, ys, dr_prof).astype(np.float32)
    cos_a = float(np.sqrt(1 - tilt * tilt))
    normal = _normalize(np.stack([s, -dr * cos_a + c * tilt, dr * tilt + c * cos_a], axis=-1))
    u = (np.arcsin(s) / (np.pi / 2)).astype(np.float32)
    body = Part(cov.astype(np.float32), normal, u, y.astype(np.float32))
    r_top = max(float(rs[0]), 1e-3)
    q = np.sqrt((x / r_top) ** 2 + ((py - ys[0]) / (tilt * r_top)) ** 2)
    top_cov = np.clip((1 - q) * tilt * r_top + 0.5, 0, 1) if rs[0] > 0.5 else np.zeros_like(q)
    up = np.broadcast_to(np.array([0, -cos_a, tilt], np.float32), (r1 - r0, c1 - c0, 3)).copy()
    top = Part(top_cov.astype(np.float32), up, (x / r_top).astype(np.float32), ((py - ys[0]) / (tilt * r_top)))
    return body, top


def inflate(coverage: Array, bevel_px: float, *, roundness: float = 1.0) -> Part:
    """A puffy surface over a flat silhouette: edges roll off over ``bevel_px`` (cushions, soles, straps).

    ``coverage`` (h, w) in [0, 1]; ``roundness`` < 1 flattens the profile.
    """
    h, w = coverage.shape
    normal = np.zeros((h, w, 3), np.float32)
    normal[..., 2] = 1.0
    rows = np.flatnonzero(coverage.any(axis=1))
    if rows.size == 0:
        return Part(coverage.astype(np.float32), normal)
    cols = np.flatnonzero(coverage.any(axis=0))
    m = int(bevel_px / 4) + 4
    box = (slice(max(0, rows[0] - m), rows[-1] + 1 + m), slice(max(0, cols[0] - m), cols[-1] + 1 + m))
    binary = (coverage[box] > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(binary, cv2.DIST_L2, 5).astype(np.float32)
    t = np.clip(dist / max(bevel_px, 1.0), 0, 1)
    height = bevel_px * np.sqrt(1 - (1 - t) ** 2) * roundness
    height = cv2.GaussianBlur(height, (0, 0), max(1.0, bevel_px / 12))
    gy, gx = np.gradient(height)
    normal[box] = _normalize(np.stack([-gx, -gy, np.ones_like(gx)], axis=-1))
    return Part(coverage.astype(np.float32), normal)


def flat(coverage: Array, normal: tuple[float, float, float]) -> Part:
    """A planar face with one ``normal`` (box faces, dials), covering ``coverage`` (h, w)."""
    n = np.asarray(normal, np.float32)
    n = n / np.linalg.norm(n)
    h, w = coverage.shape
    return Part(coverage.astype(np.float32), np.broadcast_to(n, (h, w, 3)).copy())


def polygon_mask(size: tuple[int, int], points: Array, *, stroke_px: int = 0) -> Array:
    """Anti-aliased coverage (h, w) float32 of a filled polygon, or of its outline if ``stroke_px`` > 0."""
    h, w = size
    canvas = np.zeros((h, w), np.uint8)
    pts = np.round(np.asarray(points, np.float64) * 16).astype(np.int32).reshape(-1, 1, 2)
    if stroke_px > 0:
        cv2.polylines(canvas, [pts], False, 255, stroke_px, cv2.LINE_AA, shift=4)
    else:
        cv2.fillPoly(canvas, [pts], 255, cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255.0


def ellipse_mask(
    size: tuple[int, int],
    center: tuple[float, float],
    axes: tuple[float, float],
    angle_deg: float = 0.0,
    *,
    arc: tuple[float, float] = (0, 360),
    stroke_px: int = -1,
) -> Array:
    """Anti-aliased coverage (h, w) float32 of an ellipse (filled, or an arc ``stroke_px`` thick)."""
    canvas = np.zeros(size, np.uint8)
    c = (int(round(center[0] * 16)), int(round(center[1] * 16)))
    a = (int(round(axes[0] * 16)), int(round(axes[1] * 16)))
    cv2.ellipse(canvas, c, a, angle_deg, arc[0], arc[1], 255, stroke_px, cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255.0
