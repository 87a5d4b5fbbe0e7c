"""Turn an example's suggested mask source into a mask with the real pipeline (no gradio).

    from examples.catalog import get_example
    from examples.suggest import suggested_mask
    ex = get_example("studio_bottle")
    mask = suggested_mask(ex, load_image(ex.file).rgb)

Click suggestions go through a ``Segmenter`` (``pipeline.select.protocol``); by default the classical
selector, which needs no model weights.
"""

from __future__ import annotations

from examples.catalog import Example
from pipeline import masks
from pipeline.io.images import load_labels, load_mask
from pipeline.select.protocol import Segmenter
from pipeline.types import Image, Mask, Point, check_image


def suggested_mask(example: Example, image: Image, *, segmenter: Segmenter | None = None) -> Mask:
    """The mask ``example.mask_source`` describes, for ``image`` ((H, W, 3) uint8, the example's photo).

    Returns an ``(H, W)`` float32 mask in [0, 1] (1 = the product). ``segmenter`` is used only for
    ``click`` sources; it defaults to ``pipeline.select.classic.selector.ClassicSelector``.
    """
    check_image(image)
    src = example.mask_source
    size = (image.shape[1], image.shape[0])
    if src.source == "click":
        if segmenter is None:
            from pipeline.select.classic.selector import ClassicSelector

            segmenter = ClassicSelector()
        points = [Point(x, y, positive) for x, y, positive in src.points]
        return segmenter.select(segmenter.prepare(image), points).best.mask
    if src.source == "color" and src.color is not None:  # MaskSuggestion guarantees the colour
        picked = masks.from_color(image, src.color, tolerance=src.tolerance, softness=src.softness)
        return masks.invert(picked) if src.invert else picked
    if src.source == "luminance":
        picked = masks.from_luminance(image, src.low, src.high, softness=src.softness)
        return masks.invert(picked) if src.invert else picked
    if src.source == "import":
        return load_mask(src.file, size=size)
    return masks.from_labels(load_labels(src.file, size=size), list(src.classes))
