"""What a mask step selects: clicks through the selector (a chain that later clicks extend),
SAM 3 instances picked by name, and the sources that need no model (colour, luminance, alpha,
a stored mask, label classes), combined into the current mask. ``apply`` runs them in a recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline import masks
from pipeline.errors import EmptyMask, InvalidInput, SizeMismatch
from pipeline.masks.sources import to_unit
from pipeline.recipe.steps import (
    AlphaChannel,
    Clicks,
    ColorRange,
    LabelClasses,
    LuminanceRange,
    MaskStep,
    StoredMask,
    TextPrompt,
)
from pipeline.select.protocol import Candidate, Prepared, Segmenter, Selection
from pipeline.select.text.sam3 import Sam3TextFinder
from pipeline.types import Image, Mask


@dataclass(frozen=True, eq=False)
class ClickChain:
    """The selection after a run of clicks: ``points`` in order, ``box``, and the selector's answer."""

    step: Clicks
    selection: Selection


def check_photo_size(step: MaskStep, image: Image) -> None:
    """Raise ``SizeMismatch`` when a photo-specific ``step`` was made on a photo of another size."""
    size = step.size if isinstance(step, (Clicks, StoredMask, LabelClasses)) else None
    height, width = image.shape[:2]
    if size is not None and tuple(size) != (width, height):
        raise SizeMismatch(
            f"this step was made on a {size[0]}x{size[1]} photo but this one is {width}x{height}; "
            "clicks and painted masks replay only on the photo they were made on"
        )


def select_clicks(
    segmenter: Segmenter, prepared: Prepared, step: Clicks, *, after: ClickChain | None = None
) -> ClickChain:
    """Run ``step``'s clicks: each point refines the selection of the points before it.

    ``after``: the chain of an earlier step whose points are a prefix of ``step``'s with the same
    box; the work starts from there (one selector call per new point) instead of from scratch.
    """
    points = list(step.points)
    start, selection = 0, None
    if (
        after is not None
        and after.step.box == step.box
        and tuple(points[: len(after.step.points)]) == after.step.points
    ):
        start, selection = len(after.step.points), after.selection
    if not points:
        selection = segmenter.select(prepared, [], step.box, None)
    for count in range(max(start, 0) + 1, len(points) + 1):
        selection = segmenter.select(prepared, points[:count], step.box, selection)
    assert selection is not None  # at least one point or a box, checked by Clicks
    return ClickChain(step, selection)


def clicks_mask(chain: ClickChain) -> Mask:
    """The candidate the step chose (0 = best) of the chain's last selection."""
    candidates = chain.selection.candidates
    if chain.step.candidate >= len(candidates):
        raise InvalidInput(f"candidate {chain.step.candidate} does not exist; the selector offered {len(candidates)}")
    return candidates[chain.step.candidate].mask


def text_mask(finder: Sam3TextFinder, image: Image, step: TextPrompt) -> Mask:
    """The union of the instances of ``step.text`` that ``step`` picks (all when ``instances`` is None)."""
    return pick_instances(finder.find(image, step.text, threshold=step.threshold), step)


def pick_instances(found: Sequence[Candidate], step: TextPrompt) -> Mask:
    """The union of the ``found`` instances ``step`` picks; clear errors for none found or a missing index."""
    if not found:
        raise EmptyMask(
            f"nothing in this photo matches {step.text!r} (no SAM 3 score above {step.threshold:g}); "
            "try another name or a lower threshold"
        )
    picked = range(len(found)) if step.instances is None else step.instances
    missing = [i for i in picked if i >= len(found)]
    if missing:
        raise InvalidInput(
            f"instance {missing[0]} of {step.text!r} does not exist; SAM 3 found {len(found)} (0 to {len(found) - 1})"
        )
    return np.maximum.reduce([found[i].mask for i in picked]).astype(np.float32)


def source_mask(
    step: MaskStep,
    image: Image,
    *,
    alpha: Mask | None = None,
    labels: np.ndarray | None = None,
) -> Mask:
    """The mask a source step selects on ``image`` (``Clicks`` go through ``select_clicks``).

    ``alpha``: the photo's own alpha channel, for ``AlphaChannel``; ``labels``: the label map that
    comes with this photo, for a ``LabelClasses`` step that does not carry its own.
    """
    check_photo_size(step, image)
    if isinstance(step, ColorRange):
        return masks.from_color(image, step.color, tolerance=step.tolerance, softness=step.softness)
    if isinstance(step, LuminanceRange):
        return masks.from_luminance(image, step.low, step.high, softness=step.softness)
    if isinstance(step, AlphaChannel):
        if alpha is None:
            raise InvalidInput("this photo has no transparency to take the mask from; use a PNG or WebP with alpha")
        if alpha.shape[:2] != image.shape[:2]:
            raise SizeMismatch(
                f"the alpha channel is {alpha.shape[1]}x{alpha.shape[0]} but the photo is "
                f"{image.shape[1]}x{image.shape[0]}; an edit that changes the size drops the photo's own alpha"
            )
        return masks.from_alpha(alpha, threshold=step.threshold)
    if isinstance(step, StoredMask):
        return stored_levels(step.levels)
    if isinstance(step, LabelClasses):
        return _label_mask(step, image, labels)
    raise InvalidInput(f"{type(step).__name__} is not a mask source this function runs")


def stored_levels(levels: np.ndarray) -> Mask:
    """8-bit levels back to a mask, exactly as ``StoredMask`` replays them."""
    return to_unit(levels, "stored mask")


def to_levels(mask: Mask) -> np.ndarray:
    """A mask as 8-bit levels, ``round(255 * mask)``: what ``StoredMask`` keeps."""
    return np.rint(mask * np.float32(255.0)).astype(np.uint8)


def _label_mask(step: LabelClasses, image: Image, labels: np.ndarray | None) -> Mask:
    chosen = step.labels if step.labels is not None else labels
    if chosen is None:
        raise InvalidInput(
            "this label step takes the label map that comes with each photo; pass one (stencil apply --labels FOLDER)"
        )
    if chosen.shape[:2] != image.shape[:2]:
        raise SizeMismatch(
            f"the label map is {chosen.shape[1]}x{chosen.shape[0]} but the photo is {image.shape[1]}x{image.shape[0]}"
        )
    return masks.from_labels(chosen, list(step.classes))  # type: ignore[arg-type]


def combine(current: Mask | None, mask: Mask, mode: masks.CombineMode) -> Mask:
    """``mask`` combined into ``current`` (None: nothing selected yet) with ``mode``."""
    if mode == "replace":
        return mask.astype(np.float32, copy=False)
    base = current if current is not None else np.zeros_like(mask)
    return masks.combine(base, mask, mode)
