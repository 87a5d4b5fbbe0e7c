"""Click-selection speed with SAM vit_b: Stencil's runtime beside stock ``SamPredictor``, same run.

A real-size SAM (vit_b by default; ``--model vit_h`` on a GPU) with random weights (same compute
as the trained model; no download needed), on the CPU or ``--device cuda``.
Prints the embedding time and its relative error against stock float32, the click-to-mask median
for a 1024 x 768 and a 4000 x 3000 photo with IoU against stock's mask, and the number of
embeddings run per photo across 20 clicks. Run it alone on the machine:

    flock -x /tmp/stencil-bench.lock python3 -m bench.select --clicks 30
    python3 -m bench.select --device cuda --model vit_h --embedding-rounds 5   # on a GPU
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``select``: keep its folder off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def synthetic_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful photo with a few discs, (H, W, 3) uint8."""
    import cv2

    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(5):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(base, centre, int(min(height, width) * rng.uniform(0.05, 0.2)), colour, -1)
    return base


def clicks(height: int, width: int, count: int, seed: int = 1):
    from pipeline.types import Point

    rng = np.random.default_rng(seed)
    return [
        Point(float(rng.uniform(0, width - 1)), float(rng.uniform(0, height - 1)), i % 3 != 2) for i in range(count)
    ]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def stock_click(predictor, points, previous_low):
    """One stock ``predict`` with the same multimask rule and refinement as Stencil; best mask first."""
    coords = np.array([[p.x, p.y] for p in points])
    labels = np.array([int(p.positive) for p in points])
    mask_input = None if previous_low is None else previous_low[None]
    masks, scores, low = predictor.predict(coords, labels, mask_input=mask_input, multimask_output=len(points) == 1)
    best = int(np.argmax(scores))
    return masks[best], low[best]


def click_run(segmenter, predictor, image, points, *, stock_clicks: int):
    """Median ms of Stencil's select and of stock predict over a growing click sequence, min IoU,
    and the embeddings Stencil ran meanwhile (``prepare`` is called before every click, as the UI does)."""
    before = segmenter.embeddings_run
    ours, theirs, ious = [], [], []
    previous, stock_low = None, None
    for n in range(1, len(points) + 1):
        prepared = segmenter.prepare(image)
        start = time.perf_counter()
        previous = segmenter.select(prepared, points[:n], previous=previous)
        ours.append(time.perf_counter() - start)
        if n <= stock_clicks:
            start = time.perf_counter()
            stock_mask, stock_low = stock_click(predictor, points[:n], stock_low)
            theirs.append(time.perf_counter() - start)
            ious.append(iou(previous.best.mask > 0.5, stock_mask))
    embeddings = segmenter.embeddings_run - before
    early = (1000 * statistics.median(ours[:5]), 1000 * statistics.median(theirs[:5]))
    return 1000 * statistics.median(ours), 1000 * statistics.median(theirs), min(ious), embeddings, early


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=30, help="clicks on the 1024 x 768 photo")
    parser.add_argument("--large-clicks", type=int, default=10, help="clicks on the 4000 x 3000 photo")
    parser.add_argument("--embedding-rounds", type=int, default=2, help="alternated stock / Stencil embeddings")
    parser.add_argument("--model", choices=("vit_b", "vit_l", "vit_h"), default="vit_b")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()

    import torch
    from segment_anything import SamPredictor, sam_model_registry

    from pipeline.select.sam.segmenter import SamSegmenter

    torch.manual_seed(0)
    sam = sam_model_registry[args.model](checkpoint=None).eval().to(args.device)
    segmenter = SamSegmenter(sam, description=f"{args.model}:random", cache_bytes=256 << 20)
    predictor = SamPredictor(sam)
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, {args.model} random weights")
    if args.device.startswith("cuda"):  # first-call kernel selection and allocation, for both
        predictor.set_image(synthetic_photo(64, 64, seed=9))
        embedding_of(segmenter, sam, synthetic_photo(64, 64, seed=9))

    photo = synthetic_photo(768, 1024)
    stock_s, ours_s = [], []
    for _ in range(args.embedding_rounds):  # alternated, so a slow spell of a shared machine hits both
        segmenter.cache.clear()
        start = time.perf_counter()
        predictor.set_image(photo)
        _sync()
        stock_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = embedding_of(segmenter, sam, photo)  # prepare: embedding plus the decoder's per-photo features
        _sync()
        ours_s.append(time.perf_counter() - start)
    error = float((ours.float() - predictor.features.float()).norm() / predictor.features.float().norm())
    ratios = ", ".join(f"{s / o:.2f}x" for s, o in zip(stock_s, ours_s, strict=True))
    print(f"embedding 1024x768: stock set_image {min(stock_s):.2f} s, Stencil prepare {min(ours_s):.2f} s "
          f"(best of {args.embedding_rounds}: {min(stock_s) / min(ours_s):.2f}x faster; per round {ratios}), "
          f"relative error vs stock fp32 {error:.2e}")  # fmt: skip

    points = clicks(768, 1024, args.clicks)
    fast_ms, stock_ms, worst, embeddings, early = click_run(
        segmenter, predictor, photo, points, stock_clicks=args.clicks
    )
    print(f"click 1024x768 ({args.clicks} clicks): Stencil {fast_ms:.1f} ms median, stock predict {stock_ms:.1f} ms "
          f"({stock_ms / fast_ms:.2f}x faster), min IoU vs stock {worst:.4f}")  # fmt: skip
    print(f"  of which clicks 1-5: Stencil {early[0]:.1f} ms median, stock predict {early[1]:.1f} ms")
    print(f"embeddings run for this photo across the {args.clicks} clicks: {embeddings + 1} (the prepare above)")

    large = synthetic_photo(3000, 4000, seed=2)
    start = time.perf_counter()
    # stock gets the same embedding without a second encoder run
    predictor.features = embedding_of(segmenter, sam, large)
    _sync()
    print(f"embedding 4000x3000 (Stencil prepare): {time.perf_counter() - start:.2f} s")
    predictor.original_size, predictor.input_size = (3000, 4000), (768, 1024)
    points = clicks(3000, 4000, args.large_clicks, seed=3)
    stock_clicks = min(5, args.large_clicks)
    fast_ms, stock_ms, worst, _, _ = click_run(segmenter, predictor, large, points, stock_clicks=stock_clicks)
    print(f"click 4000x3000 ({args.large_clicks} clicks): Stencil {fast_ms:.1f} ms median, stock predict "
          f"{stock_ms:.1f} ms ({stock_ms / fast_ms:.2f}x faster), min IoU vs stock {worst:.4f}")  # fmt: skip
    return 0


def _sync() -> None:
    """Wait for queued GPU work, so a timer stops when the work is done (nothing on the CPU)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def embedding_of(segmenter, sam, image):
    """The cached embedding of ``image`` in stock's ``(1, 256, 64, 64)`` layout."""
    features = segmenter.prepare(image).features
    grid = sam.prompt_encoder.image_embedding_size
    return features.tokens.T.reshape(1, -1, *grid)


if __name__ == "__main__":
    raise SystemExit(main())
