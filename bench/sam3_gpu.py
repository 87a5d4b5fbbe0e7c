"""SAM 3 (find by name) and ViTMatte (soft edges) speed, real-size models with random weights.

Random weights do the same compute as trained ones, so the timings hold for the real models
(the masks themselves are meaningless). Each figure sits beside the stock ``transformers`` call
measured in the same run:

- text -> masks on a 1024 x 768 photo: ``Sam3TextFinder.find`` (up to 16 instances upsampled
  to full size) beside the stock processor + model + ``post_process_instance_segmentation``;
- the matte of a 4000 x 3000 (12 MP) photo with a 20 px unknown ring: ``VitMatter.matte``
  (1024 px tiles over the unknown band) beside one stock forward on a single 1024 px tile;
- with ``--tracker`` instead, SAM 3 clicks (``Sam3TrackerModel``, 458 M parameters) on a 1024 x 768
  photo: the first click (embedding + decoder + full-size masks) of ``Sam3PointSelector`` beside the
  documented stock call (processor on image and point, forward, ``post_process_masks``), then a
  second click on the cached embedding with the previous mask fed back, beside the documented
  stock refinement (``image_embeddings=`` and ``input_masks=``).

Run it from the repository root:

    python -m bench.sam3_gpu --gpu              # CUDA: SAM 3 in bf16, ViTMatte in fp16
    python -m bench.sam3_gpu --gpu --tracker    # CUDA: SAM 3 clicks only, bf16
    python -m bench.sam3_gpu --cpu-smoke        # tiny models on the CPU: checks the script runs

It needs torch, transformers, numpy and pillow only; where the rest of the engine's dependencies
(OpenCV) are missing it loads just the modules it times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def import_engine() -> None:
    """Make ``pipeline.*`` importable; without OpenCV, skip the package's ``__init__`` (it loads cv2)."""
    sys.path.insert(0, str(ROOT))
    try:
        import pipeline  # noqa: F401
    except ImportError as missing:
        print(f"({missing}: loading only the timed modules)")
        shim = types.ModuleType("pipeline")
        shim.__path__ = [str(ROOT / "pipeline")]
        sys.modules["pipeline"] = shim


def photo(height: int, width: int) -> np.ndarray:
    """A smooth colour gradient with a bright disc in the middle, (H, W, 3) uint8."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([x / width, y / height, 1 - x / width], axis=-1) * 200
    disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (0.3 * min(height, width)) ** 2
    image[disc] = (230, 220, 60)
    return image.astype(np.uint8)


def ring_trimap(height: int, width: int, band_px: int) -> np.ndarray:
    """Subject = a centred disc; unknown = a ring of ``2 * band_px`` around its edge; (H, W) uint8."""
    y, x = np.ogrid[0:height, 0:width]
    distance = np.sqrt((x - width / 2) ** 2 + (y - height / 2) ** 2) - 0.3 * min(height, width)
    return np.where(np.abs(distance) <= band_px, 128, np.where(distance < 0, 255, 0)).astype(np.uint8)


def timed(run: Callable[[], object], repeats: int, sync: Callable[[], None]) -> tuple[float, object]:
    """Median seconds of ``repeats`` runs after one warm-up, and the last result."""
    result = run()
    sync()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        sync()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def peak_memory(device: str) -> str:
    import torch

    return f", peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB" if device == "cuda" else ""


def time_text(builders: Any, device: str, size: str, dtype: Any, args: argparse.Namespace, sync: Callable) -> None:
    """SAM 3: Stencil's ``find`` beside the stock processor + model + post-processing."""
    import torch

    from pipeline.select.text.sam3 import Sam3TextFinder

    text_photo = photo(768, 1024) if args.gpu else photo(96, 128)
    model = builders.sam3_model(size, device=device).to(dtype=dtype)
    processor = builders.sam3_processor(size)
    finder = Sam3TextFinder(model, processor, device=device, source="random weights")

    def stock_text() -> object:
        inputs = processor(images=text_photo, text="bottle", return_tensors="pt").to(device)
        inputs["pixel_values"] = inputs["pixel_values"].to(dtype)
        with torch.inference_mode():
            outputs = model(**inputs)
        return processor.post_process_instance_segmentation(
            outputs, threshold=0.0, target_sizes=inputs["original_sizes"].tolist()
        )

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stock_s, _ = timed(stock_text, args.repeats, sync)
    ours_s, found = timed(lambda: finder.find(text_photo, "bottle", threshold=0.0), args.repeats, sync)
    h, w = text_photo.shape[:2]
    print(f"| SAM 3 text -> masks, {w}x{h} | {stock_s:.3f} s | {ours_s:.3f} s | "
          f"{len(found)} instances kept (max 16){peak_memory(device)} |", flush=True)  # fmt: skip


def time_matte(builders: Any, device: str, size: str, dtype: Any, args: argparse.Namespace, sync: Callable) -> None:
    """ViTMatte: Stencil's tiled matte of the whole photo beside one stock forward on one tile."""
    import torch
    from transformers import VitMatteImageProcessor

    from pipeline.edits.vitmatte import VitMatter

    matte_photo = photo(3000, 4000) if args.gpu else photo(300, 400)
    trimap = ring_trimap(*matte_photo.shape[:2], band_px=20 if args.gpu else 4)
    tile_px = 1024 if args.gpu else 64
    matting = builders.vitmatte_model(size, device=device).to(dtype=dtype)
    processor = VitMatteImageProcessor()
    matter = VitMatter(matting, processor, device=device, source="random weights", tile_px=tile_px)
    middle = matte_photo.shape[1] // 2
    tile = (slice(0, tile_px), slice(middle - tile_px // 2, middle + tile_px // 2))

    def stock_tile() -> object:
        inputs = processor(images=matte_photo[tile], trimaps=trimap[tile], return_tensors="pt")
        with torch.inference_mode():
            return matting(pixel_values=inputs["pixel_values"].to(device, dtype=dtype)).alphas

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stock_s, _ = timed(stock_tile, args.repeats, sync)
    ours_s, alpha = timed(lambda: matter.matte(matte_photo, trimap), max(1, args.repeats // 2), sync)
    h, w = matte_photo.shape[:2]
    unknown = float(((trimap > 0) & (trimap < 255)).mean() * 100)
    print(f"| ViTMatte matte, {w}x{h} ({unknown:.1f}% unknown) | {stock_s:.3f} s (one {tile_px} px tile) | "
          f"{ours_s:.3f} s (whole photo) | alpha {alpha.shape[1]}x{alpha.shape[0]}{peak_memory(device)} |")  # fmt: skip


def time_tracker(builders: Any, device: str, size: str, dtype: Any, args: argparse.Namespace, sync: Callable) -> None:
    """SAM 3 clicks: Stencil's first and next click beside the documented stock calls."""
    import torch
    from transformers import Sam3TrackerProcessor
    from transformers.models.sam3.image_processing_sam3 import Sam3ImageProcessor

    from pipeline.select.sam3.points import Sam3PointSelector
    from pipeline.types import Point

    click_photo = photo(768, 1024) if args.gpu else photo(96, 128)
    h, w = click_photo.shape[:2]
    model = builders.sam3_tracker_model(size, device=device).to(dtype=dtype)
    images = Sam3ImageProcessor() if size == "real" else Sam3ImageProcessor(size={"height": 56, "width": 56})
    processor = Sam3TrackerProcessor(image_processor=images)
    selector = Sam3PointSelector(model, processor, device=device, source="random weights", cache_bytes=256 << 20)
    first, second = [Point(w / 2, h / 2)], [Point(w / 2, h / 2), Point(w / 10, h / 10, positive=False)]

    def stock_first() -> tuple[Any, Any]:
        inputs = processor(images=click_photo, input_points=[[[[w / 2, h / 2]]]], input_labels=[[[1]]],
                           return_tensors="pt").to(device)  # fmt: skip
        inputs["pixel_values"] = inputs["pixel_values"].to(dtype)
        with torch.inference_mode():
            outputs = model(**inputs)
        return outputs, processor.post_process_masks(outputs.pred_masks.float().cpu(), inputs["original_sizes"])

    def stock_next(outputs: Any) -> object:
        best = outputs.pred_masks[:, :, int(torch.argmax(outputs.iou_scores[0, 0]))]
        inputs = processor(input_points=[[[[w / 2, h / 2], [w / 10, h / 10]]]], input_labels=[[[1, 0]]],
                           original_sizes=[[h, w]], return_tensors="pt").to(device)  # fmt: skip
        with torch.inference_mode():
            refined = model(input_points=inputs["input_points"], input_labels=inputs["input_labels"], input_masks=best,
                            image_embeddings=outputs.image_embeddings, multimask_output=False)  # fmt: skip
        return processor.post_process_masks(refined.pred_masks.float().cpu(), inputs["original_sizes"])

    def ours_first() -> object:
        selector._cache.clear()  # a new photo: embed it
        return selector.select(selector.prepare(click_photo), first)

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stock_s, (outputs, _) = timed(stock_first, args.repeats, sync)
    ours_s, selection = timed(ours_first, args.repeats, sync)
    print(f"| SAM 3 first click (embed + decode), {w}x{h} | {stock_s:.3f} s | {ours_s:.3f} s | "
          f"{len(selection.candidates)} candidates, full size{peak_memory(device)} |", flush=True)  # fmt: skip
    prepared = selector.prepare(click_photo)
    stock_s, _ = timed(lambda: stock_next(outputs), args.repeats * 4, sync)
    ours_s, _ = timed(lambda: selector.select(prepared, second, previous=selection), args.repeats * 4, sync)
    print(f"| SAM 3 next click (cached embedding, mask fed back), {w}x{h} | {stock_s:.3f} s | {ours_s:.3f} s | "
          f"1 mask, full size |", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--gpu", action="store_true", help="real-size models on CUDA")
    mode.add_argument("--cpu-smoke", action="store_true", help="tiny models on the CPU, small photos")
    parser.add_argument("--tracker", action="store_true", help="time SAM 3 clicks only (Sam3TrackerModel)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    import_engine()
    sys.path.insert(0, str(ROOT / "tests"))
    import tiny_transformers as builders

    if args.gpu and not torch.cuda.is_available():
        print("no CUDA device: run with --cpu-smoke here, or --gpu on a GPU machine")
        return 2
    device, size = ("cuda", "real") if args.gpu else ("cpu", "tiny")
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    text_dtype, matte_dtype = (torch.bfloat16, torch.float16) if device == "cuda" else (torch.float32,) * 2
    import transformers

    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {name}, models: {size}\n")
    print("| what | stock transformers | Stencil | note |")
    print("|---|---|---|---|")

    if args.tracker:
        time_tracker(builders, device, size, text_dtype, args, sync)
        return 0
    time_text(builders, device, size, text_dtype, args, sync)
    if device == "cuda":
        torch.cuda.empty_cache()
    time_matte(builders, device, size, matte_dtype, args, sync)
    return 0


if __name__ == "__main__":
    sys.exit(main())
