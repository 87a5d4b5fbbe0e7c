"""An example's suggested mask source as recipe steps, and the mask they make (no gradio).

    from examples.catalog import get_example
    from examples.suggest import suggested_mask, suggested_steps
    ex = get_example("studio_bottle")
    source, refine = suggested_steps(ex, load_image(ex.file).rgb)   # ColorRange(...), Refine(invert=True)
    mask = suggested_mask(ex, load_image(ex.file).rgb)

Click suggestions go through a ``Segmenter`` (``pipeline.select.protocol``); by default the classical
selector, which needs no model weights.
"""

from __future__ import annotations

from examples.catalog import Example
from pipeline.io.images import load_labels, load_mask
from pipeline.recipe import Clicks, ColorRange, LabelClasses, LuminanceRange, MaskStep, Recipe, Refine, StoredMask
from pipeline.recipe.apply import Engines
from pipeline.recipe.mask_sources import to_levels
from pipeline.recipe.run import run
from pipeline.select.protocol import Segmenter
from pipeline.settings import Settings
from pipeline.types import Image, Mask, Point, check_image


def suggested_steps(example: Example, image: Image) -> tuple[MaskStep, Refine]:
    """The mask step ``example.mask_source`` describes for ``image`` (the example's photo), and the
    ``Refine`` that goes with it (colour and luminance keys select the backdrop, then invert)."""
    check_image(image)
    src = example.mask_source
    size = (image.shape[1], image.shape[0])
    if src.source == "click":
        points = tuple(Point(x, y, positive) for x, y, positive in src.points)
        return Clicks(size=size, points=points), Refine()
    if src.source == "color" and src.color is not None:  # MaskSuggestion guarantees the colour
        color = (int(src.color[0]), int(src.color[1]), int(src.color[2]))
        step = ColorRange(color=color, tolerance=float(src.tolerance), softness=float(src.softness))
        return step, Refine(invert=bool(src.invert))
    if src.source == "luminance":
        step = LuminanceRange(low=float(src.low), high=float(src.high), softness=float(src.softness))
        return step, Refine(invert=bool(src.invert))
    if src.source == "import":
        return StoredMask(levels=to_levels(load_mask(src.file, size=size)), origin="example"), Refine()
    return LabelClasses(classes=tuple(src.classes), labels=load_labels(src.file, size=size)), Refine()


def suggested_mask(example: Example, image: Image, *, segmenter: Segmenter | None = None) -> Mask:
    """The mask ``example.mask_source`` describes, for ``image`` ((H, W, 3) uint8, the example's photo).

    Returns an ``(H, W)`` float32 mask in [0, 1] (1 = the product): the suggested steps replayed
    with ``pipeline.recipe.run``. ``segmenter`` is used only for click sources; it defaults to
    ``pipeline.select.classic.ClassicSelector``.
    """
    step, refine = suggested_steps(example, image)
    if segmenter is None:
        from pipeline.select.classic import ClassicSelector

        segmenter = ClassicSelector()
    engines = Engines(Settings(), segmenter=_chosen(segmenter))
    steps = (step, refine) if not refine.is_identity else (step,)
    return run(Recipe(steps), image, engines).mask


def _chosen(segmenter: Segmenter):  # noqa: ANN202 - a Chosen[Segmenter]
    from pipeline.models import Chosen

    return Chosen(segmenter, "examples: given")
