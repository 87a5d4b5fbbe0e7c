"""The example photos: one function per scene, each fully determined by its seed.

Every scene returns a :class:`Rendered` photo: the image, its true alpha (255 = product) and a
label map (one id per product, 0 = background).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from examples import backdrops as bd
from examples import flatlay as fl
from examples import products as pr
from examples.studio import DropShadow, FloorShadow, Photo

Array = np.ndarray


@dataclass(frozen=True)
class Rendered:
    """``image`` (H, W, 3) uint8 sRGB, ``mask`` (H, W) uint8 true alpha, ``labels`` (H, W) uint8 ids."""

    image: Array
    mask: Array
    labels: Array


def _done(photo: Photo, rng: np.random.Generator, **camera: float) -> Rendered:
    image, mask = photo.develop(rng, **camera)
    return Rendered(image, mask, photo.labels.copy())


def _table(shape: tuple[int, int], surface: Callable[[tuple[int, int]], Array], wall: Array, y_far: float) -> Array:
    h, w = shape
    tex = surface((int(w * 1.8), int(h * (1 - y_far) * 1.3)))  # boards run along x here ...
    table = bd.tabletop(np.ascontiguousarray(tex.transpose(1, 0, 2)), shape, y_far=y_far)  # ... and away from us
    return bd.on_table(wall, table, y_far, blur_px=max(3.0, w / 400))


def studio_bottle(rng: np.random.Generator, ss: int) -> Rendered:
    """Amber pump bottle on a white seamless sweep."""
    photo = Photo(bd.sweep((1200, 1600), (250, 249, 247), rng=rng, horizon=0.62, wall_tone=0.8))
    sprite = pr.pump_bottle(330, 900, ss, body=(170, 86, 44), label=("LUMEN", "hand wash  citrus & cedar"))
    photo.place(sprite, 635, 190, shadow=FloorShadow(strength=0.3, blur_px=22))
    return _done(photo, rng, exposure=1.08)


def mug_paper(rng: np.random.Generator, ss: int) -> Rendered:
    """Teal mug of coffee on a mustard paper backdrop."""
    photo = Photo(bd.sweep((1200, 1600), (222, 172, 64), rng=rng, horizon=0.5, wall_tone=0.72))
    photo.place(pr.mug(560, 520, ss, glaze=(28, 112, 122)), 540, 440, shadow=FloorShadow(strength=0.4, blur_px=26))
    return _done(photo, rng)


def sneaker_wood(rng: np.random.Generator, ss: int) -> Rendered:
    """A 12-megapixel (4000x3000) sneaker on an oak table against a warm grey wall."""
    shape = (3000, 4000)
    wall = bd.sweep(shape, (200, 194, 186), rng=rng, horizon=0.2, wall_tone=0.85)

    def oak(size: tuple[int, int]) -> Array:
        return bd.wood(size, rng=rng, plank_px=size[0] / 16)

    photo = Photo(_table(shape, oak, wall, 0.34))
    sprite = fl.sneaker(2700, 1140, ss, upper=(38, 50, 82), accent=(226, 104, 48), rng=rng)
    photo.place(sprite, 640, 1180, shadow=FloorShadow(strength=0.5, squash=0.12, shear=0.6, blur_px=40))
    return _done(photo, rng, defocus_px=0.9, noise=0.009)


def jar_marble(rng: np.random.Generator, ss: int) -> Rendered:
    """Pink cosmetic jar with a gold lid on a marble counter."""
    shape = (1200, 1600)
    wall = bd.sweep(shape, (232, 226, 220), rng=rng, horizon=0.25, wall_tone=0.8)

    def stone(size: tuple[int, int]) -> Array:
        return bd.marble(size, rng=rng, scale_px=size[0] / 3)

    photo = Photo(_table(shape, stone, wall, 0.38))
    sprite = pr.jar(560, 470, ss, body=(236, 200, 192), lid=(214, 172, 100), text="AURA")
    photo.place(sprite, 520, 520, shadow=FloorShadow(strength=0.45, blur_px=20))
    return _done(photo, rng)


def headphones_fabric(rng: np.random.Generator, ss: int) -> Rendered:
    """Cream headphones lying on linen, seen from above."""
    photo = Photo(bd.fabric((1200, 1600), rng=rng, color=(196, 182, 160), thread_px=5.0))
    sprite = fl.headphones(820, 900, ss, shell=(236, 230, 218), cushion=(84, 78, 72), metal=(196, 196, 200))
    photo.place(sprite, 390, 150, shadow=DropShadow(dx_px=18, dy_px=22, blur_px=20, strength=0.45))
    return _done(photo, rng)


def box_shadow(rng: np.random.Generator, ss: int) -> Rendered:
    """Green tea package on a pale blue sweep with a long soft shadow from a low key light."""
    photo = Photo(bd.sweep((1200, 1600), (214, 224, 232), rng=rng, horizon=0.55, wall_tone=0.78))
    sprite = pr.box(520, 640, ss, print_rgb=(52, 104, 68), side_rgb=(196, 178, 138), title="MATCHA")
    photo.place(sprite, 420, 380, shadow=FloorShadow(strength=0.8, squash=0.1, shear=10.0, blur_px=14))
    return _done(photo, rng)


def perfume_glass(rng: np.random.Generator, ss: int) -> Rendered:
    """Clear glass perfume with amber liquid on blush paper: a soft, partly transparent edge."""
    photo = Photo(bd.sweep((1500, 1200), (236, 204, 200), rng=rng, horizon=0.6, wall_tone=0.78))
    sprite = pr.perfume(520, 860, ss, liquid=(196, 100, 26))
    photo.place(sprite, 340, 420, shadow=FloorShadow(strength=0.3, blur_px=24))
    return _done(photo, rng)


def flatlay_multi(rng: np.random.Generator, ss: int) -> Rendered:
    """Five products on marble seen from above; ``labels`` gives each one its own id (1..5)."""
    photo = Photo(bd.marble((1600, 2400), rng=rng, scale_px=1100))
    shadow = DropShadow(dx_px=14, dy_px=18, blur_px=14, strength=0.4)
    photo.place(
        fl.watch(300, 720, ss, strap=(122, 74, 42), dial=(28, 46, 80), case=(206, 206, 210), rng=rng),
        260,
        240,
        label=1,
        shadow=shadow,
    )
    photo.place(fl.lid(420, ss, color=(212, 172, 100), word="AURA"), 760, 260, label=2, shadow=shadow)
    photo.place(
        fl.lipstick(560, 118, ss, tube=(206, 166, 92), bullet=(172, 30, 52)),
        780,
        1140,
        label=3,
        shadow=DropShadow(dx_px=8, dy_px=10, blur_px=8, strength=0.4),
    )
    photo.place(fl.soap(460, 280, ss, color=(196, 214, 188), word="OLIVA"), 1560, 1060, label=4, shadow=shadow)
    photo.place(
        fl.headphones(640, 700, ss, shell=(40, 42, 46), cushion=(70, 72, 76), metal=(190, 190, 196)),
        1380,
        180,
        label=5,
        shadow=shadow,
    )
    return _done(photo, rng)


def oil_tall(rng: np.random.Generator, ss: int) -> Rendered:
    """A tall (1200x1800) olive oil bottle on cream paper, for extending the canvas sideways."""
    photo = Photo(bd.sweep((1800, 1200), (240, 230, 208), rng=rng, horizon=0.62, wall_tone=0.78))
    sprite = pr.oil_bottle(300, 1350, ss, glass=(38, 70, 36), label=("OLIVAR", "cold pressed"))
    photo.place(sprite, 450, 300, shadow=FloorShadow(strength=0.4, blur_px=24))
    return _done(photo, rng)


def watch_wide(rng: np.random.Generator, ss: int) -> Rendered:
    """A wide (2400x1200) banner: a watch on dark walnut, seen from above."""
    photo = Photo(bd.wood((1200, 2400), rng=rng, plank_px=300, light=(120, 78, 50), dark=(58, 34, 22)))
    sprite = fl.watch(380, 1000, ss, strap=(24, 24, 26), dial=(236, 232, 222), case=(210, 210, 214), rng=rng)
    photo.place(sprite, 1500, 100, shadow=DropShadow(dx_px=18, dy_px=22, blur_px=18, strength=0.55))
    return _done(photo, rng, exposure=1.1)


SCENES: dict[str, tuple[int, Callable[[np.random.Generator, int], Rendered]]] = {
    "studio_bottle": (101, studio_bottle),
    "mug_paper": (102, mug_paper),
    "sneaker_wood": (103, sneaker_wood),
    "jar_marble": (104, jar_marble),
    "headphones_fabric": (105, headphones_fabric),
    "box_shadow": (106, box_shadow),
    "perfume_glass": (107, perfume_glass),
    "flatlay_multi": (108, flatlay_multi),
    "oil_tall": (109, oil_tall),
    "watch_wide": (110, watch_wide),
}


def render(name: str, *, ss: int = 2) -> Rendered:
    """Render scene ``name`` at ``ss`` x supersampling; raises KeyError for an unknown name."""
    seed, scene = SCENES[name]
    return scene(np.random.default_rng(seed), ss)
