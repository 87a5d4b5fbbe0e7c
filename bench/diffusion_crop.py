"""Crop-to-mask vs whole-photo diffusion: UNet calls, latent size and time on a 4000 x 3000 photo.

The photo is synthetic (gradients and texture) and the mask a disc covering 3 % of it. Rows:

- ``512x512 reference``: our engine on a 512 x 512 image (what "the cost of a 512 run" means);
- ``stock, full resolution``: the stock diffusers pipeline on the whole photo at its own size
  (what keeps the photo sharp without cropping);
- ``ours, full mode``: the whole photo shrunk to the native size (cheap, but the fill is blurry);
- ``ours, crop mode``: the mask's box plus context at the native size, pasted back.

CPU (default): a random pipeline with SD 1.5's geometry (VAE factor 8, native 512 px, 64 x 64
latents) and tiny channels, saved and loaded like a user's model; call counts and latent sizes
are those of SD 1.5, the times are not. ``--gpu``: the real SD 1.5 UNet and VAE configurations
(random weights) in fp16 with SDPA on CUDA, 30 steps; times and peak memory are real there.

    flock -x /tmp/stencil-bench.lock python3 -m bench.diffusion_crop            # CPU, 2 steps
    python3 -m bench.diffusion_crop --gpu --steps 30                            # needs CUDA
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Put the project root in place of bench/ itself: a script there (select.py) shadows a stdlib module.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
else:
    sys.path.insert(0, str(ROOT))

from pipeline.inpaint.crop import CropOptions  # noqa: E402
from pipeline.inpaint.diffusion.engine import DiffusionInpainter  # noqa: E402
from pipeline.inpaint.diffusion.loader import load_inpainter  # noqa: E402
from pipeline.inpaint.protocol import InpaintRequest, Prompting  # noqa: E402
from tests.tiny_diffusion import build_pipeline, save_tiny_pipeline  # noqa: E402


@dataclass(frozen=True)
class Row:
    name: str
    work_size: tuple[int, int]
    latent_size: tuple[int, int] | None
    unet_calls: int
    seconds: float
    peak_gib: float | None


def synthetic_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth two-axis gradient with fine noise, ``(height, width, 3)`` uint8."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    base = 40 + 150 * x * np.array([1.0, 0.6, 0.3], np.float32) + 60 * y
    noise = rng.integers(-8, 9, (height, width, 1), dtype=np.int16)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def disc_mask(width: int, height: int, fraction: float) -> np.ndarray:
    """A disc covering ``fraction`` of the image, centred at (60 %, 40 %)."""
    radius = np.sqrt(fraction * width * height / np.pi)
    yy, xx = np.ogrid[0:height, 0:width]
    return (((xx - 0.6 * width) ** 2 + (yy - 0.4 * height) ** 2) <= radius**2).astype(np.float32)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def peak(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2**30


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def ours(name: str, engine: DiffusionInpainter, image: np.ndarray, mask: np.ndarray, args: argparse.Namespace) -> Row:
    request = InpaintRequest(image, mask, Prompting("a stone", seed=1, steps=args.steps, guidance=args.guidance))
    reset_peak(engine.device)
    start = time.perf_counter()
    run = engine.run(request)
    sync(engine.device)
    seconds = time.perf_counter() - start
    kept = np.array_equal(run.image[mask == 0], image[mask == 0])
    if not kept:
        raise RuntimeError(f"{name}: pixels outside the mask changed")
    return Row(name, run.plan.work_size, run.latent_size, run.unet_calls, seconds, peak(engine.device))


def stock(engine: DiffusionInpainter, image: np.ndarray, mask: np.ndarray, args: argparse.Namespace) -> Row:
    """The stock pipeline on the whole photo at its own resolution (rounded down to multiples of 8)."""
    import torch
    from PIL import Image as PILImage

    height, width = (s // 8 * 8 for s in image.shape[:2])
    calls: list[tuple[int, int]] = []
    handle = engine.pipe.unet.register_forward_pre_hook(lambda m, a: calls.append(tuple(a[0].shape[-2:])))
    reset_peak(engine.device)
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            engine.pipe(
                prompt="a stone",
                image=PILImage.fromarray(image),
                mask_image=PILImage.fromarray((mask * 255).astype(np.uint8)),
                height=height,
                width=width,
                num_inference_steps=args.steps,
                guidance_scale=args.guidance,
                generator=torch.Generator("cpu").manual_seed(1),
                output_type="np",
            )
        sync(engine.device)
    finally:
        handle.remove()
    seconds = time.perf_counter() - start
    latent = (calls[-1][1], calls[-1][0]) if calls else None
    return Row("stock, full resolution", (width, height), latent, len(calls), seconds, peak(engine.device))


def cpu_engine(workdir: Path) -> DiffusionInpainter:
    folder = save_tiny_pipeline(workdir / "medium-inpaint", "medium")
    return load_inpainter(str(folder), device="cpu", cpu_offload=False)


def gpu_engine(workdir: Path) -> DiffusionInpainter:
    import torch
    from diffusers.models.attention_processor import AttnProcessor2_0

    pipe = build_pipeline("sd15", workdir=workdir)
    pipe.set_progress_bar_config(disable=True)
    pipe.unet.set_attn_processor(AttnProcessor2_0())
    pipe.vae.set_attn_processor(AttnProcessor2_0())
    pipe.to("cuda", torch.float16)
    return DiffusionInpainter(pipe, device="cuda", source="random SD 1.5 configuration")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu", action="store_true", help="real SD 1.5 sizes in fp16 on CUDA")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: 2 on CPU, 30 on GPU)")
    parser.add_argument("--guidance", type=float, default=7.5)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--fraction", type=float, default=0.03, help="share of the photo the mask covers")
    parser.add_argument("--skip-stock", action="store_true", help="leave out the stock full-resolution run")
    args = parser.parse_args()
    args.steps = args.steps or (30 if args.gpu else 2)

    image = synthetic_photo(args.width, args.height)
    mask = disc_mask(args.width, args.height, args.fraction)
    reference = synthetic_photo(512, 512, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = gpu_engine(Path(tmp)) if args.gpu else cpu_engine(Path(tmp))
        crop = engine.with_crop(CropOptions(mode="crop"))
        ours("warm-up", crop, reference, disc_mask(512, 512, 0.03), args)
        rows = [
            ours(
                "512x512 reference",
                engine.with_crop(CropOptions(mode="full")),
                reference,
                disc_mask(512, 512, 0.5),
                args,
            ),
            ours("ours, crop mode", crop, image, mask, args),
            ours("ours, full mode", engine.with_crop(CropOptions(mode="full")), image, mask, args),
        ]
        if not args.skip_stock:
            rows.append(stock(engine, image, mask, args))
    device = "CUDA fp16, SD 1.5 sizes" if args.gpu else "CPU fp32, SD 1.5 geometry with tiny channels"
    print(f"{args.width}x{args.height} photo, mask {mask.mean():.1%}, {args.steps} steps, guidance {args.guidance}")
    print(f"device: {device}")
    header = ("run", "work size", "latent", "UNet calls", "latent px/call", "time s", "peak GiB")
    print("{:26} {:>11} {:>9} {:>10} {:>14} {:>8} {:>8}".format(*header))
    for row in rows:
        latent = f"{row.latent_size[0]}x{row.latent_size[1]}" if row.latent_size else "-"
        pixels = row.latent_size[0] * row.latent_size[1] if row.latent_size else 0
        memory = f"{row.peak_gib:.2f}" if row.peak_gib is not None else "-"
        work = f"{row.work_size[0]}x{row.work_size[1]}"
        print(f"{row.name:26} {work:>11} {latent:>9} {row.unet_calls:>10} {pixels:>14} {row.seconds:>8.2f} {memory:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
