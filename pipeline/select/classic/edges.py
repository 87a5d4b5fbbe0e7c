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

BAND_WORK_PX = 2.5  # half-width of the refined band, working pixels (the upscaling's own uncertainty)
LOCAL_WORK_PX = 4  # half-size of the box of the local colour means, working pixels
SEPARATION = 30.0  # RGB distance between the local colours at which the photo is fully trusted
SMOOTH_PX = 1.5  # Gaussian sigma of the final decision, full-size pixels


def upscale_soft(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A boolean working-scale mask as a float32 map at ``size`` (width, height), bilinear."""
    import cv2

    return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)


def _local_means(small: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maps of the mean object and background colour near each pixel, at half the working scale.

    Box means over about ``2 * LOCAL_WORK_PX`` working pixels of the mask's inside and outside,
    each eroded by one pixel so that the mixed pixels on the boundary count for neither. Half
    scale is enough for colours that vary this slowly and costs a quarter.
    """
    import cv2

    kernel = np.ones((3, 3), np.uint8)
    h, w = mask.shape
    half = (max(1, w // 2), max(1, h // 2))
    colour = cv2.resize(small, half, interpolation=cv2.INTER_AREA).astype(np.float32)
    size = (LOCAL_WORK_PX + 1, LOCAL_WORK_PX + 1)
    means = []
    for region in (cv2.erode(mask.astype(np.uint8), kernel), cv2.erode((~mask).astype(np.uint8), kernel)):
        region = cv2.resize(region.astype(np.float32), half, interpolation=cv2.INTER_AREA)
        weight = cv2.blur(region, size)
        total = cv2.blur(colour * region[..., None], size)
        means.append(total / np.maximum(weight, 1e-4)[..., None])
    return means[0], means[1]


def _blocks(ys: np.ndarray, xs: np.ndarray, scale: float, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Full-size ``(rows, cols)`` of the pixels whose nearest working pixel is one of ``(ys, xs)``.

    Photo pixel ``r`` belongs to working row ``floor((r + 0.5) * scale)``, so working row ``y``
    owns rows ``ceil(y / scale - 0.5)`` up to the next one's start (blocks of k or k + 1 pixels).
    """
    width, height = size

    def starts(index: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        first = np.clip(np.ceil(index / scale - 0.5), 0, limit).astype(np.int64)
        end = np.clip(np.ceil((index + 1) / scale - 0.5), 0, limit).astype(np.int64)
        return first, np.maximum(end - first, 0)

    r0, rn = starts(ys, height)
    c0, cn = starts(xs, width)
    count = rn * cn
    owner = np.repeat(np.arange(ys.size), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return r0[owner] + offset // cn[owner], c0[owner] + offset % cn[owner]


def _sample(values: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples ``(N, C)`` of an ``(h, w, C)`` float32 map at fractional ``ys``, ``xs`` (edges clamped)."""
    import cv2

    n = ys.size
    width = 1024  # cv2.remap wants maps under 32767 on a side: lay the N points out in rows
    rows = max(1, -(-n // width))
    map_x = np.zeros(rows * width, np.float32)
    map_y = np.zeros(rows * width, np.float32)
    map_x[:n], map_y[:n] = xs, ys
    out = cv2.remap(
        values, map_x.reshape(rows, width), map_y.reshape(rows, width), cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    return out.reshape(rows * width, -1)[:n]


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
    # the band: the photo pixels of the working pixels within BAND_WORK_PX of the working-scale boundary
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    near = cv2.dilate(edge, np.ones((3, 3), np.uint8), iterations=max(1, int(np.ceil(BAND_WORK_PX - 1))))
    rows, cols = _blocks(*np.nonzero(near), scale, (width, height))
    if rows.size == 0:
        return _threshold(soft)
    fg_mean, bg_mean = _local_means(small, mask)
    # sample the working-scale colour means at the band pixels (pixel centres map to working coordinates)
    half_x, half_y = fg_mean.shape[1] / mask.shape[1], fg_mean.shape[0] / mask.shape[0]
    at_x = (cols.astype(np.float32) + 0.5) * (scale * half_x) - 0.5
    at_y = (rows.astype(np.float32) + 0.5) * (scale * half_y) - 0.5
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
    coarse = soft[y0:y1, x0:x1]
    decision = coarse.copy()
    decision[rows - y0, cols - x0] = trust * place + (1.0 - trust) * band_soft
    fine = cv2.GaussianBlur(decision, (0, 0), SMOOTH_PX) >= 0.5
    in_band = np.zeros(coarse.shape, bool)
    in_band[rows - y0, cols - x0] = True
    # the band moves the edge; it does not make islands or holes: keep the pieces that reach
    # the mask's sure inside (outside) beyond the band
    fine = _reaching(fine, (coarse > 0) & ~in_band)
    fine = ~_reaching(~fine, (coarse == 0) & ~in_band)
    coarse[:] = fine
    return soft


def _reaching(region: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The connected pieces of ``region`` that overlap ``anchor`` (4-connected)."""
    import cv2

    _, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=4)
    keep = np.zeros(int(labels.max()) + 1, bool)
    keep[np.unique(labels[anchor & region])] = True
    keep[0] = False
    return keep[labels]


def _threshold(values: np.ndarray) -> np.ndarray:
    """``values >= 0.5`` as 0.0 / 1.0, in place (no bool temporary the size of a 12 MP photo)."""
    import cv2

    below_half = float(np.nextafter(np.float32(0.5), np.float32(0.0)))
    cv2.threshold(values, below_half, 1.0, cv2.THRESH_BINARY, dst=values)
    return values
