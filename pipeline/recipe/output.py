"""What an edit hands back besides its result: the catalogue frame, the crop to the mask and the cutout.

The page, ``run`` and the batch runners all call ``edit_outputs``, so their files agree.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

from pipeline import masks
from pipeline.edits import remove as fill
from pipeline.masks import compose
from pipeline.recipe.steps import Output
from pipeline.types import Image, Mask


def frame(image: Image, subject: Mask | None, output: Output) -> Image:
    """``image`` placed on ``output.canvas``: the subject's box scaled to ``subject_share`` of it, centred.

    Without a subject (or with an empty one) the whole image is fitted. Without a canvas,
    ``image`` is returned as it is.
    """
    if output.canvas is None:
        return image
    width, height = output.canvas
    box = masks.bounding_box(subject) if subject is not None and subject.shape == image.shape[:2] else None
    if box is None:
        box = masks.bounding_box(np.ones(image.shape[:2], np.float32))
    assert box is not None
    scale = output.subject_share * min(width / box.width, height / box.height)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    left = round(width / 2 - scale * (box.x0 + box.x1) / 2)
    top = round(height / 2 - scale * (box.y0 + box.y1) / 2)
    canvas = compose.solid((height, width), output.fill)
    # The scaled photo covers columns left .. left + size[0] and rows top .. top + size[1] of the canvas.
    x0, x1, y0, y1 = max(0, left), min(width, left + size[0]), max(0, top), min(height, top + size[1])
    if x1 <= x0 or y1 <= y0:
        return canvas
    if size[0] * size[1] <= max(image.shape[0] * image.shape[1], 4 * width * height):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        scaled = cv2.resize(image, size, interpolation=interpolation) if scale != 1 else image
        canvas[y0:y1, x0:x1] = scaled[y0 - top : y1 - top, x0 - left : x1 - left]
    else:  # a small subject may enlarge the photo a thousand times: enlarge only the part the canvas shows
        canvas[y0:y1, x0:x1] = _enlarged_part(image, size, (x0 - left, y0 - top), (x1 - x0, y1 - y0))
    return canvas


def _enlarged_part(image: Image, size: tuple[int, int], offset: tuple[int, int], part: tuple[int, int]) -> Image:
    """Columns and rows ``offset`` (x, y) .. ``offset + part`` of ``image`` resized to ``size`` (W, H), bicubic.

    The same sampling as ``cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)`` (pixel centres
    aligned, edges replicated), computed for the ``part`` alone.
    """
    fx, fy = image.shape[1] / size[0], image.shape[0] / size[1]  # source pixels per output pixel
    matrix = np.array(
        [[fx, 0.0, (offset[0] + 0.5) * fx - 0.5], [0.0, fy, (offset[1] + 0.5) * fy - 0.5]], dtype=np.float64
    )
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    return cast(Image, cv2.warpAffine(image, matrix, part, flags=flags, borderMode=cv2.BORDER_REPLICATE))


def crop_to(image: Image, mask: Mask | None, margin_px: int) -> Image:
    """``image`` cropped to the box of ``mask`` plus ``margin_px`` (full resolution; all of it without a mask)."""
    if mask is None or mask.shape != image.shape[:2]:
        return image
    rows, cols = fill.selected_box(mask, pad_px=margin_px)
    if rows.stop <= rows.start:
        return image
    return np.ascontiguousarray(image[rows, cols])


def soft_cutout(image: Image, alpha: Mask) -> np.ndarray:
    """RGBA ``(H, W, 4)`` uint8: ``image`` under ``alpha``, edge colours freed of the old background.

    Only a soft edge around a solid subject (a matte, a feather) is decontaminated; a mask with no
    fully selected pixel (a uniformly translucent one) keeps the photo's colours.
    """
    from pipeline.edits.background import decontaminated

    soft = bool(np.any((alpha > 0) & (alpha < 1))) and bool(np.any(alpha >= 1))
    colours = decontaminated(image, alpha, alpha) if soft else image
    return compose.cutout(colours, alpha)


def edit_outputs(
    before: Image, result: Image, used: Mask, output: Output, *, subject: bool
) -> tuple[Image, np.ndarray, Image]:
    """The pictures an edit offers: the framed result, the cutout and the crop to the mask.

    ``before`` is the edit's input and ``used`` the mask it used; ``subject`` says that ``used``
    is a subject to frame (a background replacement). The cutout is ``before`` with ``used`` as
    its alpha (the result's, when the edit changed the size, fully opaque); where ``used`` is
    soft (an edge matte, a feather) its colours are the foreground estimates, so the cutout
    carries no halo of the old background.
    """
    if before.shape[:2] == used.shape:
        cutout = soft_cutout(before, used)
    else:
        cutout = compose.cutout(result, np.ones(result.shape[:2], np.float32))
    framed = frame(result, used if subject else None, output)
    return framed, cutout, crop_to(result, used, output.crop_margin_px)
