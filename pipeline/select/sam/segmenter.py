"""Click selection with Segment Anything (the ``segment-anything`` package): vit_b, vit_l, vit_h.

``load_segmenter`` builds the model from a checkpoint; ``SamSegmenter.prepare`` embeds a photo
once (cached by content, see ``embedding_cache``); ``select`` turns clicks and an optional box
into masks in milliseconds through the lean decoder runtime of ``sam_fast``.

Multimask rule (as in SAM's own demo and notebooks): a single click with no box is ambiguous,
so SAM returns its three candidates with their predicted IoU, best first; with two or more
clicks, or a box, it returns one mask. Passing the previous ``Selection`` of the same click
sequence feeds its low-resolution logits back as ``mask_input``, which refines the mask as
clicks accumulate.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.io.download import Artifact
from pipeline.select.protocol import Candidate, Selection, check_prompt
from pipeline.select.sam.cache import EmbeddingCache
from pipeline.settings import SamModel, Settings
from pipeline.types import Box, Point, check_image

if TYPE_CHECKING:
    import torch
    from segment_anything.modeling import Sam

    from pipeline.select.sam.fast import PhotoFeatures

log = logging.getLogger(__name__)

ModelType = Literal["vit_b", "vit_l", "vit_h", "custom"]
SETTING = "--sam-checkpoint / STENCIL_SAM_CHECKPOINT"
DEFAULT_CACHE_MB = 256  # about 25 photos: 10 MiB of embedding and decoder features each

_BASE_URL = "https://dl.fbaipublicfiles.com/segment_anything/"
# Published by Meta at the URLs below. The full SHA-256 digests are the ones recorded by
# independent downloaders of these exact files (e.g. micro-sam's model registry); the hex in
# each file name is not a SHA-256 prefix.
CHECKPOINTS: dict[SamModel, Artifact] = {
    "vit_b": Artifact(
        "sam-vit-b", _BASE_URL + "sam_vit_b_01ec64.pth", "sam_vit_b_01ec64.pth",
        "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912", 375_042_383,
    ),
    "vit_l": Artifact(
        "sam-vit-l", _BASE_URL + "sam_vit_l_0b3195.pth", "sam_vit_l_0b3195.pth",
        "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
    ),
    "vit_h": Artifact(
        "sam-vit-h", _BASE_URL + "sam_vit_h_4b8939.pth", "sam_vit_h_4b8939.pth",
        "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
    ),
}  # fmt: skip


def download_command(model_type: str) -> str:
    """The ``stencil download`` command that fetches the official checkpoint of ``model_type``."""
    model = model_type if model_type in CHECKPOINTS else "vit_b"
    return f"stencil download {CHECKPOINTS[model].name}"  # type: ignore[index]


def find_checkpoint(settings: Settings) -> Path | None:
    """The explicit ``settings.sam_checkpoint`` (even if missing: loading then says so), else the
    official file for ``settings.sam_model`` in ``settings.models_dir`` when it is there."""
    if settings.sam_checkpoint is not None:
        return Path(settings.sam_checkpoint)
    path = settings.models_dir / CHECKPOINTS[settings.sam_model].filename
    return path if path.is_file() else None


def missing_checkpoint_message(settings: Settings) -> str:
    """What to tell the user when no SAM checkpoint was found."""
    path = settings.models_dir / CHECKPOINTS[settings.sam_model].filename
    return (
        f"no SAM checkpoint: {SETTING} is not set and {path} does not exist; "
        f"run '{download_command(settings.sam_model)}' or point {SETTING} at a {settings.sam_model} checkpoint"
    )


def load_segmenter(
    checkpoint: Path, *, model_type: ModelType, device: str, cache_mb: int = DEFAULT_CACHE_MB
) -> SamSegmenter:
    """Build SAM ``model_type`` from ``checkpoint`` (a ``.pth`` state dict) on ``device``.

    ``vit_b`` / ``vit_l`` / ``vit_h`` use segment-anything's registry and must match the file
    exactly; ``custom`` reads the image-encoder sizes from the file (fine-tuned or test models).
    ``cache_mb`` bounds the embedding cache in MiB (``Settings.sam_cache_mb`` reads
    ``$STENCIL_SAM_CACHE_MB`` for the app and the CLI).
    Raises ``ModelUnavailable`` for a missing, unreadable or mismatched checkpoint.
    """
    import torch

    path = Path(checkpoint)
    fix = f"run '{download_command(model_type)}' or point {SETTING} at a good {model_type} checkpoint"
    if not path.is_file():
        raise ModelUnavailable(f"SAM checkpoint {path} does not exist; {fix}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises pickle, zip, EOF and runtime errors for bad files
        raise ModelUnavailable(f"SAM checkpoint {path} cannot be read ({_first_line(error)}); {fix}") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelUnavailable(f"SAM checkpoint {path} is not a SAM state dict; {fix}")
    try:
        sam = _build(state, model_type)
        sam.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, IndexError, ValueError, ZeroDivisionError) as error:
        raise ModelUnavailable(
            f"SAM checkpoint {path} does not fit model {model_type} ({_first_line(error)}); "
            f"set STENCIL_SAM_MODEL to the model it was made for, or {fix}"
        ) from error
    sam.eval().to(device)
    log.info("SAM %s loaded from %s on %s", model_type, path, device)
    return SamSegmenter(sam, description=f"{model_type}:{path}", cache_bytes=cache_mb << 20)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    text = " ".join(lines[:2])
    return text if len(text) <= 200 else text[:200].rsplit(" ", 1)[0] + " ..."


def _build(state: dict[str, torch.Tensor], model_type: ModelType) -> Sam:
    from segment_anything import sam_model_registry
    from segment_anything.build_sam import _build_sam

    if model_type in CHECKPOINTS:
        return sam_model_registry[model_type](checkpoint=None)
    if model_type != "custom":
        raise InvalidInput(f"SAM model {model_type!r} is not one of vit_b, vit_l, vit_h, custom")
    prefix = "image_encoder.blocks."
    depth = len({key.split(".")[2] for key in state if key.startswith(prefix)})
    rel_pos = [state[f"{prefix}{i}.attn.rel_pos_h"] for i in range(depth)]
    embed_dim = state["image_encoder.patch_embed.proj.weight"].shape[0]
    global_blocks = [i for i, r in enumerate(rel_pos) if r.shape[0] != 2 * 14 - 1]  # window blocks: 14 x 14
    return _build_sam(
        encoder_embed_dim=embed_dim,
        encoder_depth=depth,
        encoder_num_heads=embed_dim // rel_pos[0].shape[1],
        encoder_global_attn_indexes=global_blocks,
    )


@dataclass(frozen=True)
class SamPrepared:
    """A photo ready for clicks: its size ``(width, height)``, content key and decoder features."""

    size: tuple[int, int]
    key: tuple[str, str]
    input_hw: tuple[int, int]
    features: PhotoFeatures = field(repr=False)


@dataclass(frozen=True)
class SamState:
    """What a later ``select`` refines from: the chosen candidate's ``(256, 256)`` float32 logits."""

    key: tuple[str, str]
    low_res: np.ndarray = field(repr=False)


class SamSegmenter:
    """A loaded SAM model: ``prepare`` once per photo (cached), ``select`` per click. Thread-safe."""

    name = "sam"

    def __init__(self, sam: Sam, *, description: str, cache_bytes: int) -> None:
        from pipeline.select.sam.fast import DecoderRuntime

        self.sam = sam
        self.description = description
        self._runtime = DecoderRuntime(sam)
        self._cache: EmbeddingCache[PhotoFeatures] = EmbeddingCache(
            max_bytes=cache_bytes, size_of=lambda features: features.nbytes
        )

    @property
    def embeddings_run(self) -> int:
        """How many photos this segmenter has embedded (cache misses)."""
        return self._cache.computed

    @property
    def cache(self) -> EmbeddingCache[PhotoFeatures]:
        return self._cache

    def prepare(self, image: np.ndarray) -> SamPrepared:
        """Embed an ``(H, W, 3)`` uint8 RGB photo, or reuse the cached embedding of the same pixels.

        Safe to call from a background thread; a concurrent call for the same photo waits for the
        embedding in flight instead of computing it again.
        """
        from pipeline.select.sam import embed as sam_embed

        image = check_image(image)
        height, width = image.shape[:2]
        key = (self.description, _digest(image))

        def compute() -> PhotoFeatures:
            start = time.perf_counter()
            features = self._runtime.features(sam_embed.embed(self.sam, image))
            log.info("embedded a %dx%d photo in %.2f s", width, height, time.perf_counter() - start)
            return features

        features = self._cache.get_or_compute(key, compute)
        return SamPrepared((width, height), key, sam_embed.input_size(height, width), features)

    def select(
        self,
        prepared: SamPrepared,  # type: ignore[override]
        points: Sequence[Point],
        box: Box | None = None,
        previous: Selection | None = None,
    ) -> Selection:
        """Masks for positive/negative clicks and an optional box (image pixels), best first.

        Each candidate mask is ``(H, W)`` float32 in {0, 1}; its score is SAM's predicted IoU
        clipped to [0, 1]. ``previous`` refines from the last selection on the same photo.
        """
        import torch

        from pipeline.select.sam.fast import binary_masks

        if not isinstance(prepared, SamPrepared) or prepared.key[0] != self.description:
            raise InvalidInput("this photo was not prepared by this SAM model; call prepare(image) on it first")
        check_prompt(prepared.size, points, box)
        multimask = len(points) == 1 and box is None
        state = previous.state if previous is not None else None
        mask_input = None
        if isinstance(state, SamState) and state.key == prepared.key:
            mask_input = torch.as_tensor(state.low_res, device=self.sam.device)
        sparse = self._sparse(prepared, points, box)
        low_res, iou = self._runtime.run(prepared.features, sparse, mask_input, multimask=multimask)
        low_res_np, iou_np = low_res.float().cpu().numpy(), iou.float().cpu().numpy()
        width, height = prepared.size
        masks = binary_masks(low_res_np, prepared.input_hw, (height, width))
        order = np.argsort(-iou_np, kind="stable")
        candidates = tuple(Candidate(masks[i], float(np.clip(iou_np[i], 0.0, 1.0))) for i in order)
        return Selection(candidates, SamState(prepared.key, low_res_np[order[0]].copy()))

    def _sparse(self, prepared: SamPrepared, points: Sequence[Point], box: Box | None) -> torch.Tensor:
        """SAM's prompt-encoder embedding ``(n, 256)`` of the clicks and box, in its 1024 frame."""
        import torch

        width, height = prepared.size
        scale = np.array([prepared.input_hw[1] / width, prepared.input_hw[0] / height])
        device = self.sam.device
        clicks = None
        if points:
            coords = np.array([[p.x, p.y] for p in points]) * scale
            labels = torch.tensor([[1 if p.positive else 0 for p in points]], dtype=torch.int, device=device)
            clicks = (torch.as_tensor(coords, dtype=torch.float, device=device)[None], labels)
        corners = None
        if box is not None:
            xyxy = np.array([[box.x0, box.y0], [box.x1, box.y1]]) * scale
            corners = torch.as_tensor(xyxy.reshape(1, 4), dtype=torch.float, device=device)
        with torch.inference_mode():
            sparse, _ = self.sam.prompt_encoder(points=clicks, boxes=corners, masks=None)
        return sparse[0]


def _digest(image: np.ndarray) -> str:
    """A content key for an image: shape plus BLAKE2b of its pixels."""
    pixels = np.ascontiguousarray(image)
    digest = hashlib.blake2b(pixels.data, digest_size=20)
    digest.update(repr(pixels.shape).encode())
    return digest.hexdigest()
