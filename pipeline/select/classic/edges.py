"""Full-resolution edges for the classical selector: refine the boundary band at the photo's size.

The cut runs at a working scale of about 0.15 MP, so on a 12 MP photo one working pixel is a
9x9 block and an upscaled mask shows 5 to 10 px stair steps along slanted edges. Only a thin
band around the upscaled boundary is uncertain, so only that band is decided again at full
size, from the photo's own colours there:

- the object and background colours next to each band pixel are local means over the mask's
  confident inside and outside (at the working scale, where a blur is cheap, then sampled at
  the band pixels);
- each band pixel is placed between the two along the line that joins them (0 = background
  colour, 1 = object colour): a blurred edge is split at its middle, as a person would;
- where the two local colours barely differ the photo says nothing and the upscaled mask is
  kept; a small blur of the decision at full size removes single-pixel speckle.

Pixels outside the band keep the upscaled mask, so the refinement cannot move the edge by more
than the band's half-width (``BAND_WORK_PX`` working pixels).
"""

from __future__ import annotations

import numpy as np

BAND_WORK_PX = 1.5  # half-width of the refined band, working pixels (the upscaling's own uncertainty)
LOCAL_SIGMA_WORK_PX = 3.0  # reach of the local colour means, working pixels
SEPARATION = 30.0  # RGB distance between the local colours at which the photo is fully trusted
SMOOTH_PX = 1.0  # Gaussian sigma of the final decision, full-size pixels


def upscale_soft(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A boolean working-scale mask as a float32 map at ``size`` (width, height), bilinear."""
    import cv2

    return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)


def _local_means(small: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Working-scale maps of the mean object and background colour near each pixel (float32, (h, w, 3))."""
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    inside = cv2.erode(mask.astype(np.uint8), kernel).astype(np.float32)
    outside = cv2.erode((~mask).astype(np.uint8), kernel).astype(np.float32)
    colour = small.astype(np.float32)
    means = []
    for region in (inside, outside):
        weight = cv2.GaussianBlur(region, (0, 0), LOCAL_SIGMA_WORK_PX)
        total = cv2.GaussianBlur(colour * region[..., None], (0, 0), LOCAL_SIGMA_WORK_PX)
        means.append(total / np.maximum(weight, 1e-4)[..., None])
    return means[0], means[1]


def _sample(values: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples ``(N, C)`` of an ``(h, w, C)`` map at fractional ``ys``, ``xs`` (edges clamped)."""
    h, w = values.shape[:2]
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.minimum(ys.astype(np.int32), h - 2 if h > 1 else 0)
    x0 = np.minimum(xs.astype(np.int32), w - 2 if w > 1 else 0)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[:, None]
    top = values[y0, x0] * (1 - fx) + values[y0, x1] * fx
    bottom = values[y1, x0] * (1 - fx) + values[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def refine_edges(image: np.ndarray, small: np.ndarray, mask: np.ndarray, scale: float) -> np.ndarray:
    """The working-scale boolean ``mask`` as a binary float32 mask at ``image``'s size, edges decided there.

    ``image`` is the full-size (H, W, 3) uint8 photo, ``small`` its working copy and ``scale``
    working pixels per photo pixel. Returns the plain upscaled mask when the photo is the working copy.
    """
    import cv2

    height, width = image.shape[:2]
    soft = upscale_soft(mask, (width, height))
    if mask.shape == (height, width) or not mask.any() or mask.all():
        return _threshold(soft)
    # the band: within BAND_WORK_PX working pixels of the working-scale boundary
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    near = cv2.dilate(edge, np.ones((3, 3), np.uint8), iterations=max(1, int(np.ceil(BAND_WORK_PX - 1))))
    rows, cols = np.nonzero(cv2.resize(near, (width, height), interpolation=cv2.INTER_NEAREST))
    if rows.size == 0:
        return _threshold(soft)
    fg_mean, bg_mean = _local_means(small, mask)
    # sample the working-scale colour means at the band pixels (pixel centres map to working coordinates)
    at_x = (cols.astype(np.float32) + 0.5) * scale - 0.5
    at_y = (rows.astype(np.float32) + 0.5) * scale - 0.5
    fg, bg = _sample(fg_mean, at_y, at_x), _sample(bg_mean, at_y, at_x)
    colour = image[rows, cols].astype(np.float32)
    axis = fg - bg
    length2 = np.maximum(np.sum(axis * axis, axis=1), 1e-6)
    place = np.clip(np.sum((colour - bg) * axis, axis=1) / length2, 0.0, 1.0)
    trust = np.clip(np.sqrt(length2) / SEPARATION, 0.0, 1.0)
    band_soft = soft[rows, cols]
    # one crop around the band: blur the decision there, keep the upscaled mask elsewhere
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    pad = int(np.ceil(3 * SMOOTH_PX))
    y0, x0, y1, x1 = max(0, y0 - pad), max(0, x0 - pad), min(height, y1 + pad), min(width, x1 + pad)
    _threshold(soft)
    decision = soft[y0:y1, x0:x1].copy()
    decision[rows - y0, cols - x0] = trust * place + (1.0 - trust) * band_soft
    soft[y0:y1, x0:x1] = cv2.GaussianBlur(decision, (0, 0), SMOOTH_PX)
    return _threshold(soft)


def _threshold(values: np.ndarray) -> np.ndarray:
    """``values >= 0.5`` as 0.0 / 1.0, in place (no bool temporary the size of a 12 MP photo)."""
    import cv2

    below_half = float(np.nextafter(np.float32(0.5), np.float32(0.0)))
    cv2.threshold(values, below_half, 1.0, cv2.THRESH_BINARY, dst=values)
    return values
