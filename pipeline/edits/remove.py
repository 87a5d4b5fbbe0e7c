"""Mask-driven edits that run an inpainting engine: remove and inpaint.

The promise every edit keeps: pixels where the mask is 0 come out byte-identical to the
input, pixels where it is 1 are the engine's, and a soft (feathered) band blends the two
(``keep_outside``). Inputs are never modified: engines receive read-only views.

Engines are reached only through the ``Inpainter`` protocol; pick one with
``pipeline.models.make_inpainter``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pipeline import masks
from pipeline.errors import BackendFailed, EmptyMask
from pipeline.inpaint.control import Control
from pipeline.inpaint.protocol import (
    DEFAULT_PROMPTING,
    CancelFlag,
    Inpainter,
    InpaintRequest,
    ProgressFn,
    Prompting,
    require_guidance,
)
from pipeline.masks import compose
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

log = logging.getLogger(__name__)

REMOVE_GROW_PX = 4
"""How far ``remove`` grows a small or thin mask by default (SAM masks leave a rim of the object)."""

SMALL_SHARE = 0.02
"""A mask covering less than this share of the image counts as small."""

THIN_PX = 12
"""A mask with no pixel farther than this from its edge counts as thin."""

LARGE_SHARE = 0.6
"""A removal mask covering more than this share of the photo leaves too little to fill from."""


@dataclass(frozen=True, eq=False)
class EditResult:
    """What an edit returns.

    - ``image``: the new ``(H, W, 3)`` uint8 image.
    - ``mask``: the ``(H, W)`` float32 mask the edit used (after any growing); where it is 0,
      ``image`` equals the input byte for byte.
    - ``engine``: name of the engine that ran (``"classic"``, ``"diffusion"``...), or ``"none"``.
    - ``warnings``: what the user should know about the result (e.g. a mask too large to fill well).
    """

    image: Image
    mask: Mask
    engine: str
    warnings: tuple[str, ...] = ()


def large_mask_warning(mask: Mask) -> str | None:
    """A warning when ``mask`` selects more than ``LARGE_SHARE`` of the photo, else None."""
    share = float(np.count_nonzero(mask > 0)) / max(1, mask.size)
    if share <= LARGE_SHARE:
        return None
    return (
        f"the removal mask covers {share:.0%} of the photo, so little is left to rebuild the background from "
        "and the fill will be poor; select only the object (or invert the mask if it selects what to keep)"
    )


def require_selection(mask: Mask) -> None:
    """Raise ``EmptyMask`` when ``mask`` selects nothing (every value is 0)."""
    if not mask.size or float(mask.max()) <= 0.0:
        raise EmptyMask("nothing selected: the mask is empty; select something (paint, click or import a mask) first")


def selected_box(mask: Mask, *, pad_px: int = 0) -> tuple[slice, slice]:
    """Row and column slices around the pixels where ``mask > 0``, padded by ``pad_px`` and clipped."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return slice(0, 0), slice(0, 0)
    height, width = mask.shape
    return (
        slice(max(0, int(rows[0]) - pad_px), min(height, int(rows[-1]) + 1 + pad_px)),
        slice(max(0, int(cols[0]) - pad_px), min(width, int(cols[-1]) + 1 + pad_px)),
    )


def keep_outside(original: Image, result: Image, mask: Mask) -> Image:
    """Blend ``result`` into ``original`` through ``mask``: exact where the mask is 0 or 1.

    ``original`` and ``result`` are ``(H, W, 3)`` uint8, ``mask`` ``(H, W)`` float32 in [0, 1].
    Where the mask is 0 the output is ``original`` byte for byte, where it is 1 ``result``, and in
    between a rounded linear blend. Returns a new image; neither input is modified.
    """
    check_image(original, "original")
    check_image(result, "result")
    check_mask(mask)
    check_same_size(mask, original)
    return _keep_outside(original, result, mask)


def _keep_outside(original: Image, result: Image, mask: Mask) -> Image:
    """``keep_outside`` without the input checks (the caller has made them)."""
    import cv2

    if result.shape != original.shape:
        raise BackendFailed(f"the engine returned a {result.shape} image for a {original.shape} input")
    out = original.copy()
    window = selected_box(mask)
    part = np.ascontiguousarray(mask[window])
    if part.size:
        blended = compose.composite(np.ascontiguousarray(result[window]), np.ascontiguousarray(original[window]), part)
        # The promise, enforced here whatever the blend does with rounding.
        cv2.copyTo(np.ascontiguousarray(original[window]), (part <= 0.0).view(np.uint8), blended)
        cv2.copyTo(np.ascontiguousarray(result[window]), (part >= 1.0).view(np.uint8), blended)
        out[window] = blended
    return out


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (no copy): an engine cannot write into the caller's data."""
    view = array.view()
    view.flags.writeable = False
    return view


def run_engine(
    inpainter: Inpainter,
    request: InpaintRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> Image:
    """Run ``inpainter`` on ``request`` and blend its output through the request's mask.

    Raises ``EmptyMask`` (no engine run) when the mask selects nothing and ``BackendFailed``
    when the engine returns something that is not an image of the input's size.
    """
    require_selection(request.mask)
    require_guidance(inpainter, request.controls)
    result = inpainter.inpaint(request, progress=progress, cancel=cancel)
    if not isinstance(result, np.ndarray) or result.shape != request.image.shape or result.dtype != np.uint8:
        shape = getattr(result, "shape", None)
        raise BackendFailed(
            f"engine {inpainter.name!r} returned {shape} {getattr(result, 'dtype', type(result).__name__)} "
            f"instead of a {request.image.shape} uint8 image; try the classical engine (--engine classic)"
        )
    return _keep_outside(request.image, result, request.mask)


def remove_grow_px(mask: Mask, grow_px: int = REMOVE_GROW_PX) -> int:
    """How far ``remove`` grows ``mask``: ``grow_px`` if it is small or thin, else half of it.

    Small: it covers less than ``SMALL_SHARE`` of the image. Thin: no selected pixel is farther
    than ``THIN_PX`` from the mask's edge.
    """
    if grow_px <= 0:
        return 0
    selected = mask > 0
    if selected.mean() < SMALL_SHARE:
        return grow_px
    import cv2

    window = selected_box(mask, pad_px=1)
    distance = cv2.distanceTransform(selected[window].astype(np.uint8), cv2.DIST_L2, 3)
    return grow_px if float(distance.max()) <= THIN_PX else grow_px // 2


def grown(mask: Mask, radius_px: int) -> Mask:
    """``masks.grow`` applied only around the selection (fast on large images); a new mask."""
    if radius_px <= 0:
        return mask.copy()
    out = np.zeros_like(mask)
    window = selected_box(mask, pad_px=radius_px + 2)
    out[window] = masks.grow(np.ascontiguousarray(mask[window]), radius_px)
    return out


def remove(
    image: Image,
    mask: Mask,
    inpainter: Inpainter,
    *,
    grow_px: int | None = None,
    prompting: Prompting = DEFAULT_PROMPTING,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> EditResult:
    """Remove what ``mask`` selects and fill it from its surroundings.

    ``grow_px``: how far to grow the mask first, in pixels; ``None`` picks ``remove_grow_px(mask)``
    (``REMOVE_GROW_PX`` for small or thin masks, half of it for large ones); 0 keeps it as it is.
    ``prompting``: a diffusion engine's seed, steps and guidance (the prompt is usually empty).
    The promise holds for the grown mask, returned in the result.
    """
    used = _removal_mask(image, mask, grow_px=grow_px)
    request = InpaintRequest(read_only(image), read_only(used), prompting)
    out = run_engine(inpainter, request, progress=progress, cancel=cancel)
    warning = large_mask_warning(used)
    if warning is not None:
        log.info("remove: %s", warning)
    return EditResult(out, used, inpainter.name, () if warning is None else (warning,))


def inpaint(
    image: Image,
    mask: Mask,
    inpainter: Inpainter,
    *,
    prompting: Prompting,
    controls: tuple[Control, ...] = (),
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> EditResult:
    """Repaint what ``mask`` selects as ``prompting`` asks; its ``strength`` < 1 keeps the structure.

    The mask is used as given. See ``Prompting`` for the meaning and ranges of the settings;
    ``controls`` guide a diffusion engine that has their ControlNets (``pipeline.inpaint.control``).
    """
    check_image(image)
    check_mask(mask)
    check_same_size(mask, image)
    require_selection(mask)
    request = InpaintRequest(read_only(image), read_only(mask), prompting, controls)
    out = run_engine(inpainter, request, progress=progress, cancel=cancel)
    return EditResult(out, mask.copy(), inpainter.name)


def _removal_mask(image: Image, mask: Mask, *, grow_px: int | None) -> Mask:
    check_image(image)
    check_mask(mask)
    check_same_size(mask, image)
    require_selection(mask)
    radius = remove_grow_px(mask) if grow_px is None else max(0, int(grow_px))
    used = grown(mask, radius)
    log.debug("remove: mask grown by %d px", radius)
    return used
