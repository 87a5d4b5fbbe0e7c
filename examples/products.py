"""Standing products seen from the front and slightly above: bottles, a mug, a jar, a perfume, a box.

Each builder returns a :class:`~examples.studio.Sprite` of ``w`` x ``h`` photo pixels drawn at
``ss`` x resolution. Geometry is analytic (surfaces of revolution, planar faces) so edges are exact.
"""

from __future__ import annotations

import cv2
import numpy as np

from examples.backdrops import RGB, image_to_linear, srgb_to_linear
from examples.shading import Lighting, Material, Part, flat, inflate, lathe, polygon_mask
from examples.studio import Sprite

Array = np.ndarray
LIGHT = Lighting()


def capsule(y0: float, y1: float, r: float, *, r_top: float, shoulder: float, base: float) -> tuple[Array, Array]:
    """Profile (ys, rs) of a cylinder of radius ``r`` from ``y0`` to ``y1`` with a rounded shoulder
    narrowing to ``r_top`` over ``shoulder`` px and a base rounded over ``base`` px."""
    ys = np.linspace(y0, y1, 800, dtype=np.float32)
    rs = np.full_like(ys, r)
    if shoulder > 0:
        t = np.clip((ys - y0) / shoulder, 0, 1)
        rs = np.where(t < 1, r_top + (r - r_top) * np.sqrt(1 - (1 - t) ** 2), rs)
    if base > 0:
        t = np.clip((y1 - ys) / base, 0, 1)
        rs = np.where(t < 1, np.minimum(rs, r - base + base * np.sqrt(1 - (1 - t) ** 2)), rs)
    return ys, rs


def text_texture(size: tuple[int, int], paper: RGB, ink: RGB, lines: list[tuple[str, float, float]]) -> Array:
    """A printed label (h, w, 3) linear: each line is (text, scale, centre height as a fraction)."""
    h, w = size
    img = np.full((h, w, 3), paper, np.uint8)
    for text, scale, frac in lines:
        font = cv2.FONT_HERSHEY_TRIPLEX if scale > 1.2 else cv2.FONT_HERSHEY_DUPLEX
        thick = max(1, int(round(scale * 1.6)))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
        org = (int((w - tw) / 2), int(frac * h + th / 2))
        cv2.putText(img, text, org, font, scale, ink, thick, cv2.LINE_AA)
    return image_to_linear(img)


def wrap(part: Part, texture: Array, v0: float, v1: float, *, u_half: float = 0.85) -> tuple[Array, Array]:
    """Map ``texture`` onto a lathe body between heights ``v0``..``v1`` and longitudes +-``u_half``.

    Returns ``(albedo (h, w, 3), weight (h, w))``; weight is 0 outside the label.
    """
    th, tw = texture.shape[:2]
    map_x = ((part.u / u_half + 1) / 2 * tw - 0.5).astype(np.float32)
    map_y = ((part.v - v0) / (v1 - v0) * th - 0.5).astype(np.float32)
    rgba = np.dstack([texture, np.ones((th, tw), np.float32)])
    out = cv2.remap(rgba, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out[..., :3], out[..., 3]


def _with_label(part: Part, body: RGB, texture: Array, v0: float, v1: float) -> Array:
    label, weight = wrap(part, texture, v0, v1)
    return srgb_to_linear(body) * (1 - weight[..., None]) + label * weight[..., None]


def _ridged(part: Part, count: int, depth: float) -> Part:
    n = part.normal.copy()
    n[..., 0] += depth * np.sin(part.u * np.pi / 2 * count)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return Part(part.coverage, n, part.u, part.v)


def pump_bottle(w: int, h: int, ss: int, *, body: RGB, label: tuple[str, str], tilt: float = 0.13) -> Sprite:
    """A glossy pump bottle (hand soap, lotion) with a wrapped paper label and a black pump."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    cx, r = W / 2, 0.44 * W
    y1 = H - tilt * r - 0.01 * H
    ys, rs = capsule(0.30 * H, y1, r, r_top=0.16 * W, shoulder=0.09 * H, base=0.02 * H)
    glossy = Material(body, gloss=0.06, roughness=0.18)
    bottle, _ = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
    tex = text_texture(
        (420, 900),
        (30, 29, 28),
        (236, 226, 204),
        [(label[0], 4.2, 0.38), (label[1], 1.1, 0.7), ("300 ml  10.1 fl oz", 0.9, 0.86)],
    )
    sp.paint(bottle, glossy, LIGHT, albedo=_with_label(bottle, body, tex, 0.52 * H, 0.83 * H))
    black = Material((28, 28, 30), gloss=0.05, roughness=0.22)
    for a, b, rad, ridges in [(0.245, 0.315, 0.18, 36), (0.12, 0.25, 0.055, 0), (0.05, 0.125, 0.13, 0)]:
        ys, rs = capsule(a * H, b * H, rad * W, r_top=rad * W * 0.93, shoulder=0.008 * H, base=0.004 * H)
        part, top = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
        sp.paint(_ridged(part, ridges, 0.25) if ridges else part, black, LIGHT)
        sp.paint(top, black, LIGHT)
    spout = polygon_mask(
        sp.size,
        [(cx - 0.05 * W, 0.06 * H), (cx - 0.44 * W, 0.072 * H), (cx - 0.44 * W, 0.095 * H), (cx - 0.05 * W, 0.108 * H)],
    )
    sp.paint(inflate(spout, 0.025 * H), black, LIGHT)
    return sp


def oil_bottle(w: int, h: int, ss: int, *, glass: RGB, label: tuple[str, str], tilt: float = 0.1) -> Sprite:
    """A tall dark-glass bottle (olive oil) with a long neck, a cork-coloured cap and a label."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    cx, r = W / 2, 0.45 * W
    ys, rs = capsule(0.08 * H, H - tilt * r - 0.01 * H, r, r_top=0.12 * W, shoulder=0.0, base=0.015 * H)
    neck = rs.copy()
    t = np.clip((ys - 0.1 * H) / (0.33 * H), 0, 1)
    neck = np.minimum(neck, 0.12 * W + (r - 0.12 * W) * (np.sin(np.pi / 2 * t) ** 2.5))
    bottle, _ = lathe(sp.size, ys, neck, cx=cx, tilt=tilt)
    tex = text_texture(
        (500, 900),
        (241, 235, 218),
        (58, 74, 40),
        [(label[0], 3.6, 0.3), (label[1], 1.2, 0.58), ("extra virgin  750 ml", 0.95, 0.8)],
    )
    green = Material(glass, gloss=0.08, roughness=0.12)
    sp.paint(bottle, green, LIGHT, albedo=_with_label(bottle, glass, tex, 0.55 * H, 0.85 * H))
    ys, rs = capsule(0.0 * H + 2, 0.1 * H, 0.135 * W, r_top=0.125 * W, shoulder=0.01 * H, base=0.002 * H)
    cap, top = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
    gold = Material((200, 160, 90), gloss=0.6, roughness=0.3, metal=True)
    sp.paint(_ridged(cap, 60, 0.2), gold, LIGHT)
    sp.paint(top, gold, LIGHT)
    return sp


def mug(w: int, h: int, ss: int, *, glaze: RGB, inside: RGB = (240, 236, 228), tilt: float = 0.28) -> Sprite:
    """A glazed ceramic mug with coffee inside and a handle on the right."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    cx, r = 0.42 * W, 0.36 * W
    y0 = tilt * r + 0.02 * H
    y1 = H - tilt * r * 0.95 - 0.01 * H
    ys = np.linspace(y0, y1, 600, dtype=np.float32)
    rs = r * (1 - 0.06 * (ys - y0) / (y1 - y0))
    rs = np.where(
        ys > y1 - 0.03 * H,
        rs - 0.03 * H * (1 - np.sqrt(np.clip(1 - ((ys - y1 + 0.03 * H) / (0.03 * H)) ** 2, 0, 1))),
        rs,
    )
    ceramic = Material(glaze, gloss=0.05, roughness=0.25)
    handle = np.zeros(sp.size, np.uint8)
    hc = (int((cx + r * 0.92) * 16), int((y0 + 0.45 * (y1 - y0)) * 16))
    cv2.ellipse(handle, hc, (int(0.22 * W * 16), int(0.26 * H * 16)), 0, -75, 75, 255, int(0.075 * W), cv2.LINE_AA, 4)
    sp.paint(inflate(handle.astype(np.float32) / 255, 0.045 * W), ceramic, LIGHT)
    body, rim = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
    sp.paint(body, ceramic, LIGHT)
    sp.paint(rim, ceramic, LIGHT)
    yy, xx = np.mgrid[0 : sp.size[0], 0 : sp.size[1]].astype(np.float32)
    inner_r = r - 0.035 * W
    inner = np.clip((1 - np.hypot((xx - cx) / inner_r, (yy - y0) / (tilt * inner_r))) * tilt * inner_r + 0.5, 0, 1)
    depth = (yy - y0) / (tilt * inner_r)
    wall = srgb_to_linear(inside) * (0.55 + 0.35 * np.clip(-depth, 0, 1))[..., None]
    sp.over(wall.astype(np.float32), inner)
    ly = y0 + 0.07 * H
    lr = inner_r * 0.96
    coffee = np.clip((1 - np.hypot((xx - cx) / lr, (yy - ly) / (tilt * lr))) * tilt * lr + 0.5, 0, 1) * inner
    liquid = flat(coffee, (0, -0.96, 0.28))
    sp.paint(liquid, Material((52, 30, 18), gloss=0.05, roughness=0.08), LIGHT)
    return sp


def jar(w: int, h: int, ss: int, *, body: RGB, lid: RGB, text: str, tilt: float = 0.3) -> Sprite:
    """A squat cosmetic jar with a ridged metal lid and a printed name."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    cx, r = W / 2, 0.47 * W
    ys, rs = capsule(0.40 * H, H - tilt * r - 0.01 * H, r, r_top=0.44 * W, shoulder=0.05 * H, base=0.04 * H)
    part, _ = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
    tex = text_texture((300, 1100), body, (90, 70, 66), [(text, 3.2, 0.3), ("rich night cream", 1.0, 0.58)])
    sp.paint(
        part, Material(body, gloss=0.05, roughness=0.3), LIGHT, albedo=_with_label(part, body, tex, 0.55 * H, 0.85 * H)
    )
    ys, rs = capsule(tilt * r + 0.02 * H, 0.43 * H, 0.47 * W, r_top=0.455 * W, shoulder=0.015 * H, base=0.005 * H)
    cap, top = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
    metal = Material(lid, gloss=0.7, roughness=0.28, metal=True)
    sp.paint(_ridged(cap, 120, 0.18), metal, LIGHT)
    sp.paint(top, metal, LIGHT)
    return sp


def perfume(w: int, h: int, ss: int, *, liquid: RGB, tilt: float = 0.18) -> Sprite:
    """A clear glass perfume flacon with tinted liquid and a gold cap; the glass is partly transparent."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    cx, r = W / 2, 0.47 * W
    y0, y1 = 0.34 * H, H - tilt * r - 0.01 * H
    ys = np.linspace(y0, y1, 800, dtype=np.float32)
    t = (ys - y0) / (y1 - y0)
    rs = np.maximum(r * np.clip(1 - np.abs(2 * t - 1) ** 5, 0, 1) ** 0.2, 0.14 * W * (t < 0.5))
    shell, _ = lathe(sp.size, ys, rs, cx=cx, tilt=tilt)
    ls = ys[(t > 0.28) & (t < 0.9)]
    inner, liquid_top = lathe(sp.size, ls, np.interp(ls, ys, rs) * 0.86, cx=cx, tilt=tilt)
    amber = Material(liquid, gloss=0.03, roughness=0.15)
    sp.paint(inner, amber, LIGHT, opacity=0.82)
    sp.paint(liquid_top, amber, LIGHT, opacity=0.7)
    premul, alpha = _glass(shell)
    thick = np.clip((shell.v - (y1 - 0.07 * H)) / (0.015 * H), 0, 1) * 0.3
    alpha = np.maximum(alpha, thick)
    a = (shell.coverage * alpha)[..., None]
    sp.premul = premul * shell.coverage[..., None] + sp.premul * (1 - a)
    sp.alpha = a[..., 0] + sp.alpha * (1 - a[..., 0])
    gold = Material((212, 172, 96), gloss=0.6, roughness=0.22, metal=True)
    for a0, b0, rad in [(0.27, 0.35, 0.16), (0.02, 0.28, 0.25)]:
        ys_c, rs_c = capsule(a0 * H, b0 * H, rad * W, r_top=rad * W * 0.96, shoulder=0.01 * H, base=0.004 * H)
        cap, top = lathe(sp.size, ys_c, rs_c, cx=cx, tilt=tilt)
        sp.paint(_ridged(cap, 24, 0.12), gold, LIGHT)
        sp.paint(top, gold, LIGHT)
    return sp


def _glass(part: Part) -> tuple[Array, Array]:
    """Clear glass as (premultiplied reflected light (h, w, 3), opacity (h, w)).

    Light passing through is ``1 - opacity`` of the background; Fresnel makes the rims reflective and
    denser, the softboxes show up as bright streaks.
    """
    from examples.shading import environment

    n = part.normal
    nz = np.clip(n[..., 2], 0, 1)
    r = np.stack([2 * nz * n[..., 0], 2 * nz * n[..., 1], 2 * nz * nz - 1], axis=-1)
    env = environment(r, Lighting(softbox_left=5.0, softbox_right=3.0), 0.05)
    fresnel = 0.05 + 0.95 * (1 - nz) ** 4
    reflect = np.clip(env * fresnel, 0, 0.97)
    tint = srgb_to_linear((200, 214, 214))
    opacity = np.clip(0.1 + 0.55 * (1 - nz) ** 2, 0, 0.95)
    premul = reflect[..., None] + opacity[..., None] * tint * 0.35
    alpha = np.clip(np.maximum(opacity, premul.max(axis=-1)), 0, 0.98)
    return np.minimum(premul, alpha[..., None]).astype(np.float32), alpha.astype(np.float32)


def box(
    w: int,
    h: int,
    ss: int,
    *,
    print_rgb: RGB,
    side_rgb: RGB,
    title: str,
    yaw_deg: float = 32.0,
    elev: float = 0.32,
    dims: tuple[float, float, float] = (1.0, 1.25, 0.55),
) -> Sprite:
    """A printed cardboard package seen at ``yaw_deg`` and from above (``elev`` = sine of the elevation)."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    front, side, top = box_faces((W, H), np.radians(yaw_deg), elev, dims)
    tex = text_texture(
        (1000, 800),
        print_rgb,
        (250, 246, 236),
        [(title, 3.0, 0.42), ("organic green tea", 1.1, 0.55), ("20 pyramid bags", 0.9, 0.9)],
    )
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [800, 0], [800, 1000], [0, 1000]]), front[0])
    printed = cv2.warpPerspective(tex, m, (W, H), flags=cv2.INTER_AREA)
    plain = np.broadcast_to(srgb_to_linear(side_rgb), (H, W, 3))
    ramp = np.linspace(1.06, 0.9, H, dtype=np.float32)[:, None, None]
    for (quad, normal), color, albedo in [(front, print_rgb, printed), (side, side_rgb, plain), (top, side_rgb, plain)]:
        face = flat(polygon_mask(sp.size, quad), normal)
        sp.paint(face, Material(color, gloss=0.04, roughness=0.55), LIGHT, albedo=albedo * ramp)
    return sp


Face = tuple[Array, tuple[float, float, float]]


def box_faces(size: tuple[int, int], yaw: float, elev: float, dims: tuple[float, float, float]) -> list[Face]:
    """The front, right and top faces of a box of ``dims`` (x, y up, z) turned by ``yaw`` radians and seen
    from above (``elev`` = sine of the elevation), fitted into ``size`` (W, H): (corner quad, camera normal)."""
    W, H = size
    ca, sa = float(np.sqrt(1 - elev * elev)), elev
    cy, sy = float(np.cos(yaw)), float(np.sin(yaw))

    def camera(x: float, y: float, z: float) -> tuple[float, float, float]:
        x1, z1 = x * cy - z * sy, x * sy + z * cy
        return x1, -y * ca + z1 * sa, y * sa + z1 * ca

    bx, by, bz = dims
    corners = {
        (i, j, k): camera((i - 0.5) * bx, j * by, (k - 0.5) * bz)[:2] for i in (0, 1) for j in (0, 1) for k in (0, 1)
    }
    pts = np.array(list(corners.values()))
    scale = min(0.96 * W / np.ptp(pts[:, 0]), 0.96 * H / np.ptp(pts[:, 1]))
    off = np.array([W / 2, H / 2]) - scale * (pts.min(0) + pts.max(0)) / 2

    def quad(keys: list[tuple[int, int, int]]) -> Array:
        return np.array([np.array(corners[k]) * scale + off for k in keys], np.float32)

    return [
        (quad([(0, 1, 1), (1, 1, 1), (1, 0, 1), (0, 0, 1)]), camera(0, 0, 1)),
        (quad([(1, 1, 1), (1, 1, 0), (1, 0, 0), (1, 0, 1)]), camera(1, 0, 0)),
        (quad([(0, 1, 0), (1, 1, 0), (1, 1, 1), (0, 1, 1)]), camera(0, 1, 0)),
    ]
