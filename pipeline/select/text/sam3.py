"""SAM 3 concept prompts through ``transformers``: every instance that matches a phrase.

``Sam3TextFinder.find(image, text)`` returns one ``Candidate`` per matching instance, best first:
a binary full-size mask and SAM 3's score (the instance's detection probability times the
phrase's presence probability, both in [0, 1]). The caller takes one, several (their union) or
all of them.

The model loads from ``--sam3-model`` / ``STENCIL_SAM3_MODEL`` (a local folder, or a Hugging Face
id read from the local cache only), else from ``facebook/sam3`` when it is cached; never
downloaded here. bf16 on CUDA, fp32 on the CPU. torch and transformers load inside the functions.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pipeline.errors import BackendFailed, InvalidInput, ModelUnavailable
from pipeline.io.hub import check_folder, find_source
from pipeline.limits import MAX_NAME_CHARS
from pipeline.select.protocol import Candidate
from pipeline.types import Image, check_image

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "facebook/sam3"
SETTING = "--sam3-model / STENCIL_SAM3_MODEL"
MAX_INSTANCES = 16
REQUIRED_FILES = ("config.json", "*.safetensors", "tokenizer_config.json", "*processor_config.json")
HOW_TO_GET = (
    f"accept the licence on huggingface.co/{DEFAULT_MODEL_ID}, run `hf download {DEFAULT_MODEL_ID}`, "
    f"then pass {SETTING} (the id or a local folder)"
)


def check_text(text: object) -> str:
    """``text`` stripped of surrounding space; ``InvalidInput`` when empty or too long to be a name."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the text to find is empty; type what to select, for example 'bottle' or 'red cup'")
    phrase = " ".join(text.split())
    if len(phrase) > MAX_NAME_CHARS:
        raise InvalidInput(
            f"the text to find is {len(phrase):,} characters long; name the object in at most "
            f"{MAX_NAME_CHARS} characters, for example 'bottle' or 'red cup'"
        )
    return phrase


def find_model(configured: str | None) -> str | None:
    """The SAM 3 source to load: the configured one, the cached default, or ``None``."""
    return find_source(configured, DEFAULT_MODEL_ID)


def missing_model_message() -> str:
    return f"finding by name needs SAM 3 and no model is configured or cached: {HOW_TO_GET}"


class Sam3TextFinder:
    """A loaded SAM 3 model and processor. Read-only after construction: safe to share."""

    def __init__(self, model: Any, processor: Any, *, device: str, source: str) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.source = source

    @property
    def dtype(self) -> Any:
        return next(self.model.parameters()).dtype

    def find(
        self, image: Image, text: str, *, threshold: float = 0.5, max_instances: int = MAX_INSTANCES
    ) -> tuple[Candidate, ...]:
        """Every instance of ``text`` in ``image`` scoring above ``threshold``, best first.

        ``image``: ``(H, W, 3)`` uint8 RGB. At most ``max_instances`` come back, each a binary
        ``(H, W)`` float32 mask (the model's mask logits upsampled bilinearly, > 0). Empty when
        nothing matches.
        """
        import torch

        check_image(image)
        phrase = check_text(text)
        if not 0.0 <= threshold < 1.0:
            raise InvalidInput(f"score threshold {threshold!r} is outside 0..1")
        height, width = image.shape[:2]
        inputs = self.processor(images=image, text=phrase, return_tensors="pt")
        inputs = {
            key: value.to(self.device, dtype=self.dtype) if value.is_floating_point() else value.to(self.device)
            for key, value in inputs.items()
            if key in ("pixel_values", "input_ids", "attention_mask")
        }
        try:
            with torch.inference_mode():
                outputs = self.model(**inputs)
        except torch.cuda.OutOfMemoryError as error:
            raise BackendFailed(f"SAM 3 ran out of GPU memory on a {width}x{height} photo: {error}") from None
        scores = outputs.pred_logits[0].float().sigmoid()
        if outputs.presence_logits is not None:
            scores = scores * outputs.presence_logits[0].float().sigmoid()
        ranked = scores.cpu().numpy()  # one transfer, not one per query
        order = [int(i) for i in np.argsort(-ranked, kind="stable") if ranked[i] > threshold][:max_instances]
        candidates = []
        for start in range(0, len(order), 4):  # a few at a time: 4 float masks of a 12 MP photo are 200 MB
            chunk = order[start : start + 4]
            logits = outputs.pred_masks[0, chunk][None].float()
            full = torch.nn.functional.interpolate(logits, size=(height, width), mode="bilinear", align_corners=False)
            selected = (full[0] > 0).cpu().numpy()
            for index, mask in zip(chunk, selected, strict=True):
                if mask.any():
                    candidates.append(Candidate(mask=mask.astype(np.float32), score=float(ranked[index])))
        log.info("SAM 3 found %d instance(s) of %r", len(candidates), phrase)
        return tuple(candidates)


def load_text_finder(source: str, *, device: str) -> Sam3TextFinder:
    """Load SAM 3 from ``source`` (a folder or a cached hub id) onto ``device``; bf16 on CUDA.

    ``ModelUnavailable`` when a folder lacks files or the weights cannot be read.
    """
    check_folder(source, REQUIRED_FILES, what="SAM 3", how=HOW_TO_GET)
    import torch
    from transformers import Sam3Model, Sam3Processor

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    try:
        processor = Sam3Processor.from_pretrained(source, local_files_only=True)
        model = Sam3Model.from_pretrained(source, local_files_only=True, dtype=dtype)
    except (OSError, ValueError, KeyError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailable(f"SAM 3 could not be loaded from {source}: {first}; {HOW_TO_GET}") from None
    model = model.to(device).eval()
    log.info("SAM 3 loaded from %s on %s (%s)", source, device, dtype)
    return Sam3TextFinder(model, processor, device=device, source=source)
