"""Click selection with SAM 3's point prompts (``transformers``' ``Sam3TrackerModel``).

The published SAM 3 checkpoint (``facebook/sam3``, config type ``sam3_video``) holds both the
concept detector that finds objects by name and the interactive "tracker" that turns clicks and
boxes into masks, sharing one vision backbone; ``transformers`` loads the tracker's part of the
same folder into ``Sam3TrackerModel``. So this backend reads the same setting as finding by name
(``--sam3-model`` / ``STENCIL_SAM3_MODEL``, else the cached ``facebook/sam3``). A folder that holds
only the detector (config type ``sam3``) has no tracker weights and is refused before any loading.

Same contract as the SAM backend: ``prepare`` embeds a photo once (``get_image_embeddings``,
cached by content), ``select`` runs the prompt encoder and mask decoder on the cached features.
A single click with no box returns three candidates with their predicted IoU, best first; later
clicks return one, refined from the previous selection's low-resolution logits (``input_masks``).
bf16 on CUDA, fp32 on the CPU; torch and transformers load inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import BackendFailed, InvalidInput, ModelUnavailable
from pipeline.io.hub import check_folder, find_source
from pipeline.select.protocol import Candidate, Selection, check_prompt
from pipeline.select.sam.cache import EmbeddingCache
from pipeline.select.text.sam3 import DEFAULT_MODEL_ID, HOW_TO_GET
from pipeline.types import Box, Point, check_image

log = logging.getLogger(__name__)

REQUIRED_FILES = ("config.json", "*.safetensors", "*processor_config.json")
TRACKER_TYPES = ("sam3_video", "sam3_tracker", "sam3_tracker_video")
"""Config types whose weights include the point-prompt tracker (``sam3`` alone is the detector)."""
DEFAULT_CACHE_MB = 256  # a 1008 px embedding is about 10 MiB in bf16, 21 MiB in fp32


def tracker_source(configured: str | None) -> str:
    """The SAM 3 source to load clicks from; ``ModelUnavailable`` saying why there is none.

    Cheap: reads ``config.json`` (from the folder or the local hub cache), never the weights.
    """
    source = find_source(configured, DEFAULT_MODEL_ID)
    if source is None:
        raise ModelUnavailable(f"SAM 3 clicks need SAM 3 and no model is configured or cached: {HOW_TO_GET}")
    check_folder(source, REQUIRED_FILES, what="SAM 3", how=HOW_TO_GET)
    model_type = _model_type(source)
    if model_type not in TRACKER_TYPES:
        raise ModelUnavailable(
            f"SAM 3 at {source} is a {model_type!r} checkpoint without the point-prompt (tracker) weights; "
            f"SAM 3 clicks need the full checkpoint ({DEFAULT_MODEL_ID}, config type sam3_video): {HOW_TO_GET}"
        )
    return source


def _model_type(source: str) -> str:
    folder = Path(source).expanduser()
    if folder.is_dir():
        path: str | Path | None = folder / "config.json"
    else:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, "config.json")
        path = cached if isinstance(cached, str) else None
    if path is None:
        raise ModelUnavailable(f"SAM 3 {source} is not in the local Hugging Face cache; {HOW_TO_GET}")
    try:
        return str(json.loads(Path(path).read_text(encoding="utf-8")).get("model_type", "unknown"))
    except (OSError, ValueError, AttributeError) as error:
        raise ModelUnavailable(f"SAM 3 config {path} cannot be read ({error}); {HOW_TO_GET}") from None


@dataclass(frozen=True)
class Sam3Prepared:
    """A photo ready for clicks: its size ``(width, height)``, content key and cached embeddings."""

    size: tuple[int, int]
    key: tuple[str, str]
    embeddings: tuple[Any, ...] = field(repr=False)


@dataclass(frozen=True)
class Sam3State:
    """What a later ``select`` refines from: the chosen candidate's low-resolution float32 logits."""

    key: tuple[str, str]
    low_res: np.ndarray = field(repr=False)


class Sam3PointSelector:
    """A loaded SAM 3 tracker and processor: ``prepare`` once per photo (cached), ``select`` per click."""

    name = "sam3"

    def __init__(self, model: Any, processor: Any, *, device: str, source: str, cache_bytes: int) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.source = source
        self._cache: EmbeddingCache[tuple[Any, ...]] = EmbeddingCache(
            max_bytes=cache_bytes, size_of=lambda maps: sum(m.numel() * m.element_size() for m in maps)
        )

    @property
    def dtype(self) -> Any:
        return next(self.model.parameters()).dtype

    @property
    def embeddings_run(self) -> int:
        """How many photos this selector has embedded (cache misses)."""
        return self._cache.computed

    def prepare(self, image: np.ndarray) -> Sam3Prepared:
        """Embed an ``(H, W, 3)`` uint8 RGB photo, or reuse the cached embedding of the same pixels."""
        image = check_image(image)
        height, width = image.shape[:2]
        key = (self.source, _digest(image))

        def compute() -> tuple[Any, ...]:
            import torch

            start = time.perf_counter()
            pixels = self.processor(images=image, return_tensors="pt")["pixel_values"]
            try:
                with torch.inference_mode():
                    maps = self.model.get_image_embeddings(pixels.to(self.device, dtype=self.dtype))
            except torch.cuda.OutOfMemoryError as error:
                raise BackendFailed(
                    f"SAM 3 ran out of GPU memory embedding a {width}x{height} photo: {error}"
                ) from None
            log.info("SAM 3 embedded a %dx%d photo in %.2f s", width, height, time.perf_counter() - start)
            return tuple(maps)

        return Sam3Prepared((width, height), key, self._cache.get_or_compute(key, compute))

    def select(
        self,
        prepared: Sam3Prepared,  # type: ignore[override]
        points: Sequence[Point],
        box: Box | None = None,
        previous: Selection | None = None,
    ) -> Selection:
        """Masks for positive/negative clicks and an optional box (image pixels), best first.

        Each candidate is ``(H, W)`` float32 in {0, 1} (the logits upsampled bilinearly, > 0, as
        ``post_process_masks`` does); its score is the predicted IoU clipped to [0, 1]. A 12 MP photo
        takes three 48 MB float masks on the device for a moment, and 144 MB on the host.
        """
        import torch

        if not isinstance(prepared, Sam3Prepared) or prepared.key[0] != self.source:
            raise InvalidInput("this photo was not prepared by this SAM 3 model; call prepare(image) on it first")
        check_prompt(prepared.size, points, box)
        width, height = prepared.size
        prompt: dict[str, Any] = {}
        if points:
            prompt["input_points"] = [[[[p.x, p.y] for p in points]]]
            prompt["input_labels"] = [[[1 if p.positive else 0 for p in points]]]
        if box is not None:
            prompt["input_boxes"] = [[[box.x0, box.y0, box.x1, box.y1]]]
        encoded = self.processor(original_sizes=[[height, width]], return_tensors="pt", **prompt)
        # points and boxes stay float32: the prompt encoder normalises them before its own cast to bf16
        inputs = {
            name: encoded[name].to(self.device)
            for name in ("input_points", "input_labels", "input_boxes")
            if name in encoded
        }
        state = previous.state if previous is not None else None
        if isinstance(state, Sam3State) and state.key == prepared.key:
            inputs["input_masks"] = torch.as_tensor(state.low_res[None, None], device=self.device, dtype=self.dtype)
        try:
            with torch.inference_mode():
                out = self.model(
                    image_embeddings=list(prepared.embeddings),
                    multimask_output=len(points) == 1 and box is None,
                    **inputs,
                )
        except torch.cuda.OutOfMemoryError as error:
            raise BackendFailed(f"SAM 3 ran out of GPU memory on a {width}x{height} photo: {error}") from None
        logits = out.pred_masks[0, 0].float()
        scores = out.iou_scores[0, 0].float().cpu().numpy()
        order = np.argsort(-scores, kind="stable")
        # as post_process_masks: one bilinear step to the photo's size, > 0; on the model's device
        full = torch.nn.functional.interpolate(
            logits[torch.as_tensor(order, device=logits.device)][None],
            (height, width),
            mode="bilinear",
            align_corners=False,
        )
        masks = (full[0] > 0).cpu().numpy().astype(np.float32)
        low_res = logits.cpu().numpy()
        candidates = tuple(
            Candidate(mask, float(np.clip(scores[i], 0.0, 1.0))) for mask, i in zip(masks, order, strict=True)
        )
        return Selection(candidates, Sam3State(prepared.key, low_res[order[0]].copy()))


def _digest(image: np.ndarray) -> str:
    """A content key for an image: shape plus BLAKE2b of its pixels."""
    pixels = np.ascontiguousarray(image)
    digest = hashlib.blake2b(pixels.data, digest_size=20)
    digest.update(repr(pixels.shape).encode())
    return digest.hexdigest()


def share_backbone(tracker: Any, detector: Any) -> bool:
    """Make the tracker use the text finder's ViT when both were loaded from the same SAM 3 checkpoint.

    In the published checkpoint the two share one backbone (the tracker's is read from the
    detector's weights), so keeping one copy saves its 446 M parameters (0.9 GB in bf16) when both
    "Find by name" and SAM 3 clicks are in use. Only done when the two backbones have the same
    config, dtype and device; True when shared.
    """
    mine, theirs = tracker.vision_encoder.backbone, detector.vision_encoder.backbone
    if mine is theirs:
        return True
    same = mine.config.to_dict() == theirs.config.to_dict() and {(p.dtype, p.device) for p in mine.parameters()} == {
        (p.dtype, p.device) for p in theirs.parameters()
    }
    if same:
        tracker.vision_encoder.backbone = theirs
        log.info("SAM 3 clicks share the text finder's backbone")
    return same


def load_point_selector(source: str, *, device: str, cache_mb: int = DEFAULT_CACHE_MB) -> Sam3PointSelector:
    """Load SAM 3's tracker from ``source`` (a folder or a cached hub id) onto ``device``; bf16 on CUDA.

    ``ModelUnavailable`` when the source has no tracker weights, lacks files, or its weights do
    not fill the model (a partial load would leave random layers: refused, never used).
    """
    source = tracker_source(source)
    import torch
    from transformers import Sam3TrackerModel, Sam3TrackerProcessor
    from transformers.utils import logging as hf_logging

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "a sam3_video checkpoint into sam3_tracker" is the documented use
    try:
        processor = Sam3TrackerProcessor.from_pretrained(source, local_files_only=True)
        model, info = Sam3TrackerModel.from_pretrained(
            source, local_files_only=True, dtype=dtype, output_loading_info=True
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailable(f"SAM 3 clicks could not be loaded from {source}: {first}; {HOW_TO_GET}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    missing = sorted(info.get("missing_keys") or ()) + sorted(str(k) for k in info.get("mismatched_keys") or ())
    if missing:
        raise ModelUnavailable(
            f"SAM 3 at {source} lacks {len(missing)} of the click model's weights (first: {missing[0]}); "
            f"the folder is incomplete or not a SAM 3 checkpoint: {HOW_TO_GET}"
        )
    model = model.to(device).eval()
    log.info("SAM 3 clicks loaded from %s on %s (%s)", source, device, dtype)
    return Sam3PointSelector(model, processor, device=device, source=source, cache_bytes=cache_mb << 20)
