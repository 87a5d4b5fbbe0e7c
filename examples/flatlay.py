"""Products with free-form silhouettes: a sneaker (side view) and, seen from above for flat lays,
headphones, a wristwatch, a lipstick, a bar of soap and a jar lid.

Shapes are polygons and ellipses drawn with anti-aliasing at ``ss`` x resolution and "inflated"
into puffy surfaces (:func:`examples.shading.inflate`) so that they catch the studio light.
"""

from __future__ import annotations

import cv2
import numpy as np

from examples.backdrops import RGB, smooth_noise, srgb_to_linear
from examples.products import capsule, text_texture
from examples.shading import Lighting, Material, Part, ellipse_mask, flat, inflate, lathe, polygon_mask
from examples.studio import Sprite

Array = np.ndarray
LIGHT = Lighting()
TOP_LIGHT = Lighting(key=(-0.45, -0.5, 0.75), softbox_left=2.2, softbox_right=1.0)


def chaikin(points: list[tuple[float, float]], rounds: int = 4) -> Array:
    """Smooth a closed polygon by corner cutting; returns (N, 2) float points."""
    p = np.asarray(points, np.float64)
    for _ in range(rounds):
        q = np.roll(p, -1, axis=0)
        p = np.stack([0.75 * p + 0.25 * q, 0.25 * p + 0.75 * q], axis=1).reshape(-1, 2)
    return p


def _scaled(points: list[tuple[float, float]], W: float, H: float) -> Array:
    return chaikin(points) * np.array([W, H])


def _textured(size: tuple[int, int], color: RGB, rng: np.random.Generator, cell: float, amount: float) -> Array:
    grain = smooth_noise(rng, size, cell) - 0.5
    return srgb_to_linear(color) * (1 + amount * grain)[..., None]


def _emboss(part: Part, relief: Array, depth: float) -> Part:
    gy, gx = np.gradient(cv2.GaussianBlur(relief, (0, 0), 2.0))
    n = part.normal + np.stack([-gx, -gy, np.zeros_like(gx)], axis=-1) * depth
    return Part(part.coverage, n / np.linalg.norm(n, axis=-1, keepdims=True), part.u, part.v)


UPPER = [
    (0.02, 0.80),
    (0.03, 0.66),
    (0.12, 0.58),
    (0.27, 0.50),
    (0.40, 0.37),
    (0.50, 0.22),
    (0.53, 0.08),
    (0.62, 0.05),
    (0.66, 0.16),
    (0.74, 0.24),
    (0.84, 0.20),
    (0.93, 0.16),
    (0.98, 0.26),
    (0.99, 0.55),
    (0.98, 0.80),
    (0.5, 0.82),
]
SOLE = [
    (0.0, 0.80),
    (0.04, 0.73),
    (0.3, 0.76),
    (0.7, 0.76),
    (0.99, 0.72),
    (1.0, 0.88),
    (0.96, 0.96),
    (0.5, 0.975),
    (0.1, 0.965),
    (0.02, 0.9),
]
STRIPE = [(0.28, 0.72), (0.5, 0.52), (0.74, 0.34), (0.8, 0.36), (0.6, 0.6), (0.42, 0.73)]


def sneaker(w: int, h: int, ss: int, *, upper: RGB, accent: RGB, rng: np.random.Generator) -> Sprite:
    """A low-top sneaker seen from the side, toe to the left: mesh upper, accent stripe, laces, white sole."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    mesh = Material(upper, gloss=0.02, roughness=0.7)
    up_cov = polygon_mask(sp.size, _scaled(UPPER, W, H))
    up = inflate(up_cov, 0.16 * H, roundness=0.8)
    sp.paint(up, mesh, LIGHT, albedo=_textured(sp.size, upper, rng, 1.2 * ss, 0.5))
    heel = up_cov * polygon_mask(sp.size, _scaled([(0.8, 0.0), (1.0, 0.0), (1.0, 0.85), (0.85, 0.85)], W, H))
    sp.paint(Part(heel, up.normal), Material(accent, gloss=0.04, roughness=0.4), LIGHT)
    stripe = polygon_mask(sp.size, _scaled(STRIPE, W, H)) * up_cov
    sp.paint(inflate(stripe, 0.02 * H), Material(accent, gloss=0.05, roughness=0.35), LIGHT)
    lace = Material((244, 242, 236), gloss=0.03, roughness=0.6)
    for i in range(5):
        t = i / 4.0
        x, y = 0.40 + 0.12 * t, 0.40 - 0.26 * t
        eyelet = ellipse_mask(sp.size, ((x + 0.035) * W, (y + 0.05) * H), (0.008 * W, 0.016 * H))
        sp.paint(inflate(eyelet, 0.008 * H), Material((40, 40, 44), gloss=0.3, roughness=0.3), LIGHT)
        bar = polygon_mask(
            sp.size,
            [
                ((x - 0.03) * W, (y - 0.01) * H),
                ((x + 0.035) * W, (y + 0.03) * H),
                ((x + 0.03) * W, (y + 0.07) * H),
                ((x - 0.035) * W, (y + 0.03) * H),
            ],
        )
        sp.paint(inflate(bar, 0.02 * H), lace, LIGHT)
    sole_cov = polygon_mask(sp.size, _scaled(SOLE, W, H))
    sole = inflate(sole_cov, 0.05 * H, roundness=0.6)
    rubber = Material((246, 244, 238), gloss=0.04, roughness=0.45)
    yy = np.arange(sp.size[0], dtype=np.float32)[:, None] / H
    groove = 1 - 0.25 * np.exp(-(((yy - 0.845) / 0.006) ** 2))
    sp.paint(
        sole, rubber, LIGHT, albedo=np.broadcast_to(srgb_to_linear(rubber.color) * groove[..., None], (*sp.size, 3))
    )
    gum = sole_cov * np.clip((yy - 0.925) * H / 2, 0, 1)
    sp.paint(Part(gum, sole.normal), Material((150, 104, 62), gloss=0.03, roughness=0.6), LIGHT)
    return sp


def headphones(w: int, h: int, ss: int, *, shell: RGB, cushion: RGB, metal: RGB) -> Sprite:
    """Over-ear headphones lying flat, seen from above: padded band, metal sliders, two ear cups."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    band_cov = ellipse_mask(
        sp.size, (0.5 * W, 0.56 * H), (0.36 * W, 0.46 * H), arc=(188, 352), stroke_px=int(0.075 * W)
    )
    sp.paint(inflate(band_cov, 0.04 * W), Material(cushion, gloss=0.03, roughness=0.55), LIGHT)
    steel = Material(metal, gloss=0.7, roughness=0.25, metal=True)
    matte = Material(shell, gloss=0.04, roughness=0.45)
    for sx in (-1, 1):
        cx = 0.5 + sx * 0.35
        slider = polygon_mask(
            sp.size,
            [
                ((cx - 0.012) * W, 0.42 * H),
                ((cx + 0.012) * W, 0.42 * H),
                ((cx + 0.012) * W, 0.62 * H),
                ((cx - 0.012) * W, 0.62 * H),
            ],
        )
        sp.paint(inflate(slider, 0.01 * W), steel, LIGHT)
        cup = ellipse_mask(sp.size, (cx * W, 0.74 * H), (0.145 * W, 0.2 * H))
        sp.paint(inflate(cup, 0.06 * W), Material(cushion, gloss=0.04, roughness=0.5), LIGHT)
        shell_cov = ellipse_mask(sp.size, (cx * W, 0.735 * H), (0.12 * W, 0.17 * H))
        sp.paint(inflate(shell_cov, 0.09 * W, roundness=0.7), matte, LIGHT)
        ring = ellipse_mask(sp.size, (cx * W, 0.735 * H), (0.06 * W, 0.085 * H), stroke_px=int(0.008 * W))
        sp.paint(inflate(ring, 0.004 * W), steel, LIGHT)
    return sp


def watch(w: int, h: int, ss: int, *, strap: RGB, dial: RGB, case: RGB, rng: np.random.Generator) -> Sprite:
    """A wristwatch lying flat, seen from above: leather strap, polished case, dial, hands, crystal sheen."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    cx, cy, rc = 0.5 * W, 0.5 * H, 0.46 * W
    leather = Material(strap, gloss=0.05, roughness=0.5)
    grain = _textured(sp.size, strap, rng, 2.0 * ss, 0.25)
    for end, inner in [(0.02, 0.5), (0.98, 0.5)]:
        tip = end + (0.1 if end < 0.5 else -0.1) * W / H
        cov = polygon_mask(
            sp.size, [(0.2 * W, inner * H), (0.8 * W, inner * H), (0.75 * W, tip * H), (0.25 * W, tip * H)]
        )
        cov = np.maximum(cov, ellipse_mask(sp.size, (0.5 * W, tip * H), (0.25 * W, 0.1 * W)))
        sp.paint(inflate(cov, 0.08 * W, roundness=0.6), leather, LIGHT, albedo=grain)
    for k in range(5):
        hole = ellipse_mask(sp.size, (0.5 * W, (0.78 + 0.035 * k) * H), (0.022 * W, 0.022 * W))
        sp.paint(flat(hole, (0, 0, 1)), Material((20, 16, 14), roughness=0.8), LIGHT)
    crown = polygon_mask(
        sp.size,
        [
            (cx + rc - 4, cy - 0.05 * W),
            (cx + rc + 0.09 * W, cy - 0.05 * W),
            (cx + rc + 0.09 * W, cy + 0.05 * W),
            (cx + rc - 4, cy + 0.05 * W),
        ],
    )
    polished = Material(case, gloss=0.8, roughness=0.2, metal=True)
    sp.paint(inflate(crown, 0.03 * W), polished, TOP_LIGHT)
    sp.paint(inflate(ellipse_mask(sp.size, (cx, cy), (rc, rc)), 0.14 * W), polished, TOP_LIGHT)
    yy, xx = np.mgrid[0 : sp.size[0], 0 : sp.size[1]].astype(np.float32)
    angle = np.arctan2(yy - cy, xx - cx)
    sunray = srgb_to_linear(dial) * (0.9 + 0.12 * np.cos(2 * angle + 0.6))[..., None]
    face = ellipse_mask(sp.size, (cx, cy), (0.78 * rc, 0.78 * rc))
    sp.paint(flat(face, (0, 0, 1)), Material(dial, gloss=0.03, roughness=0.4), TOP_LIGHT, albedo=sunray)
    _hands_and_markers(sp, cx, cy, rc)
    sheen = np.clip(1 - np.abs((xx - cx) + (yy - cy) + 0.3 * rc) / (0.25 * rc), 0, 1) ** 2 * face
    sp.over(np.ones((*sp.size, 3), np.float32), 0.22 * sheen)
    return sp


def _hands_and_markers(sp: Sprite, cx: float, cy: float, rc: float) -> None:
    """Gilt hour markers and two hands on a dial centred at (cx, cy) with case radius ``rc`` (sprite px)."""
    ss = sp.ss
    gilt = Material((228, 214, 180), gloss=0.7, roughness=0.2, metal=True)
    for k in range(12):
        a = k * np.pi / 6
        c, s = np.cos(a), np.sin(a)
        r0, r1, half = 0.6 * rc, (0.72 if k % 3 else 0.74) * rc, (0.018 if k % 3 else 0.03) * rc
        pts = [
            (cx + c * r0 - s * half, cy + s * r0 + c * half),
            (cx + c * r1 - s * half, cy + s * r1 + c * half),
            (cx + c * r1 + s * half, cy + s * r1 - c * half),
            (cx + c * r0 + s * half, cy + s * r0 - c * half),
        ]
        sp.paint(inflate(polygon_mask(sp.size, pts), 2.0 * ss), gilt, TOP_LIGHT)
    for a_deg, length, width in [(-60, 0.45, 0.035), (70, 0.66, 0.022)]:
        a = np.radians(a_deg - 90)
        c, s = np.cos(a), np.sin(a)
        tip = (cx + c * length * rc, cy + s * length * rc)
        pts = [
            (cx - s * width * rc - c * 0.1 * rc, cy + c * width * rc - s * 0.1 * rc),
            tip,
            (cx + s * width * rc - c * 0.1 * rc, cy - c * width * rc - s * 0.1 * rc),
        ]
        sp.paint(inflate(polygon_mask(sp.size, pts), 2.0 * ss), gilt, TOP_LIGHT)
    sp.paint(inflate(ellipse_mask(sp.size, (cx, cy), (0.05 * rc, 0.05 * rc)), 2.0 * ss), gilt, TOP_LIGHT)


def lipstick(w: int, h: int, ss: int, *, tube: RGB, bullet: RGB) -> Sprite:
    """A lipstick lying on its side (long axis horizontal): gold tube and a coloured bullet to the right."""
    sp = Sprite(w, h, ss)
    L, D = w * ss, h * ss
    size = (L, D)
    tilt = 0.05
    gold = Material(tube, gloss=0.7, roughness=0.22, metal=True)
    ys, rs = capsule(0.02 * L, 0.66 * L, 0.46 * D, r_top=0.44 * D, shoulder=0.01 * L, base=0.01 * L)
    body, _ = lathe(size, ys, rs, cx=D / 2, tilt=tilt)
    t = np.linspace(0, 1, 400, dtype=np.float32)
    ys_b = 0.64 * L + t * 0.34 * L
    rs_b = 0.36 * D * np.sqrt(np.clip(1 - np.clip((t - 0.55) / 0.45, 0, 1) ** 2.2, 0, 1))
    tip, _ = lathe(size, ys_b, rs_b, cx=D / 2, tilt=tilt)
    satin = Material(bullet, gloss=0.05, roughness=0.3)
    for part, mat in [(tip, satin), (body, gold)]:
        flipped = part.transposed()
        sp.paint(flipped, mat, TOP_LIGHT)
    return sp


def soap(w: int, h: int, ss: int, *, color: RGB, word: str) -> Sprite:
    """A rounded bar of soap with its name pressed into the top."""
    sp = Sprite(w, h, ss)
    W, H = w * ss, h * ss
    r = 0.3 * H
    cov = np.zeros(sp.size, np.uint8)
    cv2.rectangle(cov, (int(r), int(0.04 * H)), (int(W - r), int(0.96 * H)), 255, -1)
    for x in (r, W - r):
        cv2.ellipse(cov, (int(x), int(H / 2)), (int(r), int(0.46 * H)), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cov = cv2.GaussianBlur(cov, (0, 0), 1.0).astype(np.float32) / 255.0
    bar = inflate(cov, 0.25 * H, roundness=0.7)
    tex = text_texture((H, W), (0, 0, 0), (255, 255, 255), [(word, 0.0045 * W, 0.5)])
    relief = -tex[..., 0]
    sp.paint(_emboss(bar, relief, 1.6 * ss), Material(color, gloss=0.03, roughness=0.6), TOP_LIGHT)
    return sp


def lid(d: int, ss: int, *, color: RGB, word: str) -> Sprite:
    """A round cosmetic jar seen straight from above: a ridged metal rim and a printed top."""
    sp = Sprite(d, d, ss)
    D = d * ss
    metal = Material(color, gloss=0.7, roughness=0.3, metal=True)
    disc = ellipse_mask(sp.size, (D / 2, D / 2), (0.48 * D, 0.48 * D))
    sp.paint(inflate(disc, 0.08 * D, roundness=0.6), metal, TOP_LIGHT)
    top = ellipse_mask(sp.size, (D / 2, D / 2), (0.4 * D, 0.4 * D))
    tex = text_texture((D, D), (246, 240, 236), (120, 90, 84), [(word, 0.0032 * D, 0.5)])
    sp.paint(flat(top, (0, 0, 1)), Material((246, 240, 236), gloss=0.04, roughness=0.3), TOP_LIGHT, albedo=tex)
    return sp
