"""The diffusion inpainting engine: one loaded diffusers pipeline, run on the mask's crop.

``DiffusionInpainter.run`` plans the working region (``pipeline.inpaint.crop``), runs the pipeline on it
with a seeded generator, reports each step, checks the cancel flag between steps, and pastes
the result back so that pixels where the mask is 0 stay byte-identical. Loading lives in
``pipeline.inpaint.diffusion.loader``; this module imports torch only inside functions.
"""

from __future__ import annotations

import copy
import gc
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.errors import BackendFailed, Cancelled, InvalidInput
from pipeline.inpaint.control import Control, model_input, work_picture
from pipeline.inpaint.crop import DEFAULT_CROP, CropOptions, CropPlan, cut_image, cut_mask, paste, plan_crop
from pipeline.inpaint.protocol import CancelFlag, InpaintRequest, ProgressFn, require_guidance
from pipeline.types import Image, Mask

log = logging.getLogger(__name__)

OOM_ADVICE = "try a smaller crop or the classical engine (or enable CPU offload on small GPUs)"


@dataclass(frozen=True)
class InpaintRun:
    """One finished run: the image and what it cost.

    - ``image``: ``(H, W, 3)`` uint8, the input's size.
    - ``plan``: the region worked on and the model's work size.
    - ``unet_calls``: UNet forward passes (classifier-free guidance batches both halves in one).
    - ``latent_size``: ``(width, height)`` of the UNet's input, in latent pixels.
    """

    image: Image
    seed: int
    plan: CropPlan
    unet_calls: int
    latent_size: tuple[int, int] | None


@dataclass
class _UNetCounter:
    """A forward pre-hook that counts UNet calls and records the latent size."""

    calls: int = 0
    latent_size: tuple[int, int] | None = None
    shapes: list[tuple[int, ...]] = field(default_factory=list)

    def __call__(self, module: Any, args: tuple[Any, ...]) -> None:
        self.calls += 1
        if args and hasattr(args[0], "shape"):
            self.latent_size = (int(args[0].shape[-1]), int(args[0].shape[-2]))


def native_size_px(pipe: Any) -> int:
    """The model's native side in pixels: UNet sample size x VAE factor (512 for SD 1.5, 1024 for SDXL)."""
    sample = pipe.unet.config.sample_size
    if isinstance(sample, (list, tuple)):
        sample = max(sample)
    return int(sample) * int(pipe.vae_scale_factor)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for out-of-memory errors: ``torch.cuda.OutOfMemoryError``, or a RuntimeError saying so (CUDA or CPU)."""
    import torch

    text = str(exc).lower()
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in text or "not enough memory" in text


def release_memory() -> None:
    """Collect garbage and hand cached CUDA blocks back, so the next run starts from a clean slate."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class DiffusionInpainter:
    """Inpainting through a diffusers inpainting pipeline (SD 1.5, SDXL or any compatible model).

    Thread-safe: runs on one engine are serialised by a lock (a pipeline and its scheduler hold
    per-run state). ``crop`` picks the working region; see ``pipeline.inpaint.crop``.
    ``controlnets`` maps a control kind (``seg``, ``canny``, ``mask``, ``image``) to a loaded
    ``ControlNetModel`` of the same family; a request with ``controls`` runs the ControlNet
    inpainting pipeline built from the same components (no weights are copied).
    """

    name = "diffusion"

    def __init__(
        self,
        pipe: Any,
        *,
        device: str,
        source: str,
        crop: CropOptions = DEFAULT_CROP,
        controlnets: Mapping[str, Any] | None = None,
    ) -> None:
        self.pipe = pipe
        """The diffusers pipeline; shared and used under the engine's lock (do not change it)."""
        self._lock = threading.Lock()
        self.device = device
        self.source = source
        self.crop = crop
        self.native_px = native_size_px(pipe)
        self.controlnets = dict(controlnets or {})
        self.control_kinds = tuple(self.controlnets)
        self._guided: dict[tuple[str, ...], Any] = {}

    def plan(self, mask: Mask) -> CropPlan:
        """The region and work size a run on ``mask`` uses (what the page previews)."""
        return plan_crop(mask, native_px=self.native_px, options=self.crop)

    def with_crop(self, crop: CropOptions) -> DiffusionInpainter:
        """The same loaded model (and lock) with other crop options."""
        twin = copy.copy(self)
        twin.crop = crop
        return twin

    def inpaint(
        self, request: InpaintRequest, *, progress: ProgressFn | None = None, cancel: CancelFlag | None = None
    ) -> Image:
        """Fill the masked region; see ``run``."""
        return self.run(request, progress=progress, cancel=cancel).image

    def run(
        self, request: InpaintRequest, *, progress: ProgressFn | None = None, cancel: CancelFlag | None = None
    ) -> InpaintRun:
        """Inpaint ``request`` and report the cost.

        Raises ``EmptyMask`` when nothing is selected (the model does not run), ``Cancelled`` when
        ``cancel`` is set before or between steps, ``BackendFailed`` on out-of-memory (memory is
        released first, so the next run can succeed).
        """
        require_guidance(self, request.controls)
        plan = self.plan(request.mask)
        prompting = request.prompting
        if int(prompting.steps * prompting.strength) < 1:
            raise InvalidInput(
                f"steps {prompting.steps} x strength {prompting.strength} leaves no denoising step; raise either"
            )
        if cancel is not None and cancel.is_set():
            raise Cancelled("inpainting was cancelled before it started")
        seed = request.prompting.seed if request.prompting.seed is not None else secrets.randbelow(2**63)
        self._warn_if_long(request.prompting.prompt, "prompt")
        self._warn_if_long(request.prompting.negative_prompt, "negative prompt")
        grow_px = int(self.pipe.vae_scale_factor)
        image = cut_image(request.image, plan)
        mask = cut_mask(request.mask, plan, grow_px=grow_px)
        work_mask = np.asarray(mask)
        pictures = [
            model_input(c, work_picture(c, request.image, request.mask, plan, grow_px=grow_px), work_mask)
            for c in request.controls
        ]
        counter = _UNetCounter()
        with self._lock:
            handle = self.pipe.unet.register_forward_pre_hook(counter)
            try:
                guided = _guidance_arguments(request.controls, pictures)
                pipe = self._guided_pipe(request.controls) if request.controls else self.pipe
                result = self._denoise(pipe, request, image, mask, plan, seed, _step_callback(progress, cancel), guided)
            finally:
                handle.remove()
        log.info(
            "diffusion %s run: region %s at %s, %d UNet calls on %s latents, seed %d",
            plan.mode, plan.region_size, plan.work_size, counter.calls, counter.latent_size, seed,
        )  # fmt: skip
        out = paste(request.image, result, request.mask, plan)
        return InpaintRun(out, seed, plan, counter.calls, counter.latent_size)

    def _guided_pipe(self, controls: tuple[Control, ...]) -> Any:
        """The ControlNet inpainting pipeline for these kinds, built once from the loaded components."""
        kinds = tuple(control.kind for control in controls)
        if kinds not in self._guided:
            from diffusers import StableDiffusionControlNetInpaintPipeline, StableDiffusionXLControlNetInpaintPipeline

            xl = getattr(self.pipe, "text_encoder_2", None) is not None
            cls = StableDiffusionXLControlNetInpaintPipeline if xl else StableDiffusionControlNetInpaintPipeline
            nets = [self.controlnets[kind] for kind in kinds]
            # from_pipe casts every shared module to its dtype (float32 unless told): keep the loaded one.
            dtype = self.pipe.unet.dtype
            guided = cls.from_pipe(self.pipe, controlnet=nets[0] if len(nets) == 1 else nets, torch_dtype=dtype)
            guided.set_progress_bar_config(disable=True)
            self._guided[kinds] = guided
        return self._guided[kinds]

    def _denoise(
        self,
        pipe: Any,
        request: InpaintRequest,
        image: Any,
        mask: Any,
        plan: CropPlan,
        seed: int,
        callback: Callable[..., Any],
        guided: dict[str, Any],
    ) -> Image:
        """Run ``pipe`` at the work size; returns its ``(work_h, work_w, 3)`` uint8 output."""
        import torch

        out_of_memory = False
        try:
            with torch.inference_mode():
                output = pipe(
                    prompt=request.prompting.prompt,
                    negative_prompt=request.prompting.negative_prompt or None,
                    image=image,
                    mask_image=mask,
                    height=plan.work_h,
                    width=plan.work_w,
                    num_inference_steps=request.prompting.steps,
                    strength=request.prompting.strength,
                    guidance_scale=request.prompting.guidance,
                    generator=torch.Generator("cpu").manual_seed(seed),
                    output_type="np",
                    callback_on_step_end=callback,
                    **guided,
                )
        except RuntimeError as exc:
            if not is_out_of_memory(exc):
                raise BackendFailed(f"the diffusion model failed: {first_line(exc)}") from exc
            out_of_memory = True  # handled below, once the traceback (and its tensors) are gone
        finally:
            pipe.maybe_free_model_hooks()
        if out_of_memory:
            release_memory()
            where = "GPU memory" if self.device.startswith("cuda") else "memory"
            raise BackendFailed(f"out of {where} at {plan.work_w}x{plan.work_h} px; {OOM_ADVICE}")
        return _to_uint8(output)

    def _warn_if_long(self, text: str, what: str) -> None:
        """Log a warning when ``text`` exceeds the tokenizer's limit (the pipeline truncates it)."""
        tokenizer = getattr(self.pipe, "tokenizer", None)
        if not text or tokenizer is None:
            return
        count = len(tokenizer(text, truncation=False).input_ids)
        if count > tokenizer.model_max_length:
            log.warning(
                "%s is %d tokens; the model reads the first %d and ignores the rest",
                what, count, tokenizer.model_max_length,
            )  # fmt: skip


def _guidance_arguments(controls: tuple[Control, ...], pictures: list[np.ndarray]) -> dict[str, Any]:
    """The ControlNet pipeline's keyword arguments: one value per ControlNet, or a list for several."""
    if not controls:
        return {}
    import torch

    tensors = [torch.from_numpy(np.ascontiguousarray(p.transpose(2, 0, 1)))[None] for p in pictures]

    def one_or_list(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else values

    return {
        "control_image": one_or_list(tensors),
        "controlnet_conditioning_scale": one_or_list([float(c.scale) for c in controls]),
        "control_guidance_start": one_or_list([float(c.start) for c in controls]),
        "control_guidance_end": one_or_list([float(c.end) for c in controls]),
    }


def _step_callback(progress: ProgressFn | None, cancel: CancelFlag | None) -> Callable[..., dict[str, Any]]:
    """A diffusers ``callback_on_step_end``: reports the step, then raises ``Cancelled`` if asked to stop."""

    def on_step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if progress is not None:
            progress(step + 1, int(pipe.num_timesteps))
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"inpainting was cancelled after step {step + 1}")
        return {}

    return on_step_end


def _to_uint8(output: Any) -> Image:
    """The pipeline's first ``np`` image (float in [0, 1]) as uint8; refuses NaNs and safety-blanked output."""
    flagged = getattr(output, "nsfw_content_detected", None)
    if flagged and any(flagged):
        raise BackendFailed("the model's safety checker blanked the result; try another prompt or seed")
    array = np.asarray(output.images[0], dtype=np.float32)
    if not np.isfinite(array).all():
        raise BackendFailed("the model produced invalid (NaN) pixels; try the CPU (fp32) or another model")
    return (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (at most 300 characters), for wrapping it in ours."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
