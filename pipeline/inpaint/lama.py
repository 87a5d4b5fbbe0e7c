"""LaMa (Suvorov et al. 2022, "Resolution-robust large mask inpainting with Fourier convolutions").

The weights are the TorchScript file ``big-lama.pt`` that IOPaint and lama-cleaner publish and
use. Its interface, which ``load_lama`` checks before the first photo:

    forward(image: float32 [1, 3, H, W] RGB in 0..1, mask: float32 [1, 1, H, W], 1 = fill)
        -> float32 [1, 3, H, W] RGB in 0..1

with H and W multiples of 8 (the network halves the size three times). Stencil runs it on a crop
around each hole (the hole's box plus ``margin`` of context), shrunk so its longer side is at
most ``max_side_px`` (LaMa was trained on 256 px crops and holds up to about 2000 px; beyond
that the crop is shrunk and the fill enlarged back), padded by reflection to multiples of 8.
Pixels outside the mask come back unchanged.
"""

from __future__ import annotations

import logging
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import InvalidModel, ModelUnavailable
from pipeline.inpaint.holes import FillsEachHole
from pipeline.io.download import Artifact
from pipeline.settings import Settings
from pipeline.types import Image

log = logging.getLogger(__name__)

BIG_LAMA = Artifact(
    "big-lama",
    "https://github.com/Sanster/models/releases/download/add_big_lama/big-lama.pt",
    "big-lama.pt",
    md5="e3aa4aaa15225a33ec84f9f4bc47e500",
)
"""The file IOPaint and lama-cleaner download; its publisher gives only an MD5 checksum."""

SIZE_MULTIPLE_PX = 8
INTERFACE = (
    "LaMa needs the TorchScript big-lama.pt of IOPaint / lama-cleaner: forward(image [1,3,H,W] in 0..1, "
    "mask [1,1,H,W]) -> image [1,3,H,W]; `stencil download big-lama` fetches it"
)


def find_lama(settings: Settings) -> Path | None:
    """The configured LaMa file (``removal_model``), else ``big-lama.pt`` in the models folder, else None."""
    if settings.removal_model is not None:
        return settings.removal_model
    candidate = settings.models_dir / BIG_LAMA.filename
    return candidate if candidate.is_file() else None


def missing_lama_message(settings: Settings) -> str:
    return (
        f"no LaMa file (looked for {settings.models_dir / BIG_LAMA.filename}); "
        "run `stencil download big-lama` or pass --removal-model (STENCIL_REMOVAL_MODEL)"
    )


def load_lama(path: Path, *, device: str = "cpu") -> LamaInpainter:
    """Load a LaMa TorchScript file and check its interface on a small input.

    Raises ``ModelUnavailable`` when the file is missing and ``InvalidModel`` when it is not
    TorchScript or does not take and return what LaMa does.
    """
    import torch

    if not path.is_file():
        raise ModelUnavailable(f"the LaMa file {path} does not exist; run `stencil download big-lama`")
    try:
        with warnings.catch_warnings():  # TorchScript is deprecated, but it is the format big-lama ships in
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.load.*deprecated", category=FutureWarning)
            module = torch.jit.load(os.fspath(path), map_location=device)
    except (RuntimeError, ValueError, zipfile.BadZipFile, EOFError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidModel(f"{path} is not a TorchScript file ({first[:160]}); {INTERFACE}") from error
    module.eval()
    _check_interface(module, path, device)
    log.info("LaMa loaded from %s on %s", path, device)
    return LamaInpainter(module, device)


def _check_interface(module: Any, path: Path, device: str) -> None:
    import torch

    image = torch.rand(1, 3, 64, 64, device=device)
    mask = torch.zeros(1, 1, 64, 64, device=device)
    mask[..., 16:48, 16:48] = 1.0
    try:
        with torch.inference_mode():
            out = module(image, mask)
    except Exception as error:  # noqa: BLE001 (TorchScript raises many kinds for a wrong signature)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidModel(f"{path} has the wrong interface ({first[:160]}); {INTERFACE}") from error
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, 3, 64, 64) or not out.is_floating_point():
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InvalidModel(f"{path} has the wrong interface (it returned {got} for a 1x3x64x64 image); {INTERFACE}")


class LamaInpainter(FillsEachHole):
    """A loaded LaMa module run on a crop around each hole (see the module docstring).

    - ``max_side_px``: longest side the network sees (a larger crop is shrunk; 256 to 4096).
    - ``margin``: context around a hole, a fraction of its longer side (at least 32 px).
    """

    name = "lama"
    min_pad_px = 32

    def __init__(self, module: Any, device: str, *, max_side_px: int = 1024, margin: float = 0.5) -> None:
        self.module = module
        self.device = device
        self.max_side_px = max_side_px
        self.margin = margin

    def fill_hole(self, crop: Image, hole: npt.NDArray[np.bool_]) -> Image:
        """The network's fill of ``hole`` in ``crop`` at the crop's size (uint8, H x W x 3)."""
        import torch

        height, width = hole.shape
        scale = min(1.0, self.max_side_px / max(height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop
        small = cv2.resize(hole.view(np.uint8), size, interpolation=cv2.INTER_AREA) > 0 if scale < 1 else hole
        pad_y, pad_x = (-size[1]) % SIZE_MULTIPLE_PX, (-size[0]) % SIZE_MULTIPLE_PX
        border = cv2.BORDER_REFLECT_101 if min(size) > max(pad_x, pad_y) else cv2.BORDER_REPLICATE
        image = cv2.copyMakeBorder(np.ascontiguousarray(image), 0, pad_y, 0, pad_x, border)
        mask = cv2.copyMakeBorder(small.astype(np.uint8), 0, pad_y, 0, pad_x, border)
        image_t = torch.from_numpy(image).permute(2, 0, 1)[None].float().div_(255.0).to(self.device)
        mask_t = torch.from_numpy(mask)[None, None].float().to(self.device)
        with torch.inference_mode():
            out = self.module(image_t, mask_t)
        out = out[0, :, : size[1], : size[0]].clamp(0, 1).mul(255.0).round().byte().permute(1, 2, 0).cpu().numpy()
        if scale < 1:
            out = cv2.resize(out, (width, height), interpolation=cv2.INTER_CUBIC)
        return np.ascontiguousarray(out)
