"""The learned subject backend: a salient-object model from a local ONNX file, through rembg.

rembg's sessions own each architecture's pre- and post-processing (input size, normalisation,
sigmoid); Stencil subclasses the session only to load the user's file instead of rembg's own
download folder. Nothing is ever downloaded here: ``stencil download`` fetches the known files.

``ARCHITECTURES`` maps a name to the rembg session that runs it and the input side it expects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.io.download import Artifact
from pipeline.types import Image, Mask, check_image

log = logging.getLogger(__name__)

Architecture = Literal["u2net", "isnet", "birefnet", "bria"]
ArchitectureChoice = Literal["auto", "u2net", "isnet", "birefnet", "bria"]
SETTING = "--subject-model / STENCIL_SUBJECT_MODEL"
INSTALL = "pip install -e '.[subject]'"


@dataclass(frozen=True)
class ArchitectureSpec:
    """``session``: rembg's session class name; ``side_px``: the square input it resizes to."""

    session: str
    side_px: int
    hint: tuple[str, ...]  # file-name fragments that name the architecture


ARCHITECTURES: dict[Architecture, ArchitectureSpec] = {
    "u2net": ArchitectureSpec("U2netCustomSession", 320, ("u2net",)),
    "isnet": ArchitectureSpec("DisCustomSession", 1024, ("isnet", "dis")),
    "birefnet": ArchitectureSpec("BiRefNetSessionGeneral", 1024, ("birefnet",)),
    "bria": ArchitectureSpec("BriaRmBgSession", 1024, ("bria", "rmbg")),
}

_RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
KNOWN_MODELS: dict[str, tuple[Artifact, Architecture]] = {
    artifact.name: (artifact, arch)
    for artifact, arch in (
        (Artifact("birefnet-general", _RELEASES + "BiRefNet-general-epoch_244.onnx", "birefnet-general.onnx",
                  "58f621f00f5d756097615970a88a791584600dcf7c45b18a0a6267535a1ebd3c", 972_666_916), "birefnet"),
        (Artifact("isnet-general-use", _RELEASES + "isnet-general-use.onnx", "isnet-general-use.onnx",
                  "60920e99c45464f2ba57bee2ad08c919a52bbf852739e96947fbb4358c0d964a"), "isnet"),
        (Artifact("u2net", _RELEASES + "u2net.onnx", "u2net.onnx",
                  "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491", 175_997_641), "u2net"),
    )
}  # fmt: skip
"""What ``stencil download`` fetches, best first (BRIA RMBG is not among them: its licence is
non-commercial and no SHA-256 is published for the file; load your own copy by path)."""


def find_model(explicit: Path | None, models_dir: Path) -> Path | None:
    """``explicit`` when given (even if missing: loading says so), else the first known file in ``models_dir``."""
    if explicit is not None:
        return Path(explicit)
    for artifact, _ in KNOWN_MODELS.values():
        if (models_dir / artifact.filename).is_file():
            return models_dir / artifact.filename
    return None


def missing_model_message(models_dir: Path) -> str:
    names = ", ".join(KNOWN_MODELS)
    return (
        f"no subject model: {SETTING} is not set and {models_dir} holds none of the known files; "
        f"run 'stencil download birefnet-general' (or {names.replace('birefnet-general, ', '')}) "
        f"or point {SETTING} at a BiRefNet, BRIA RMBG, ISNet or U2-Net .onnx file"
    )


def guess_architecture(path: Path, side_px: int | None) -> Architecture:
    """The architecture a file name names, else the one its input side implies (320: U2-Net)."""
    name = path.name.lower()
    for arch, spec in ARCHITECTURES.items():
        if any(fragment in name for fragment in spec.hint):
            return arch
    if side_px == 320:
        return "u2net"
    raise InvalidInput(
        f"cannot tell which architecture {path.name} is from its name or its {side_px} px input; "
        "set --subject-arch (or STENCIL_SUBJECT_ARCH) to u2net, isnet, birefnet or bria"
    )


class RembgSubject:
    """A ``SubjectFinder`` over a rembg session loaded from ``path``; soft masks in [0, 1]."""

    def __init__(self, session: object, architecture: Architecture, path: Path) -> None:
        self._session = session
        self.architecture = architecture
        self.path = path
        self.name = f"rembg {architecture}"

    def find(self, image: Image) -> Mask:
        from PIL import Image as PILImage

        check_image(image)
        predicted = self._session.predict(PILImage.fromarray(image))  # type: ignore[attr-defined]
        mask = np.asarray(predicted[0].convert("L"), dtype=np.float32) / np.float32(255.0)
        if mask.shape != image.shape[:2]:
            raise InvalidInput(f"the subject model returned a {mask.shape} mask for a {image.shape[:2]} photo")
        return mask


def load_subject(path: Path, architecture: ArchitectureChoice = "auto") -> RembgSubject:
    """Load the ONNX model at ``path`` through rembg's session for ``architecture``.

    Raises ``ModelUnavailable`` when rembg or onnxruntime is not installed, and ``InvalidInput``
    (which ``choose`` does not fall back from: the user named this file) when the file is missing,
    is not an ONNX model, or its input is not a ``(1, 3, S, S)`` image of the architecture's side.
    """
    if not path.is_file():
        raise InvalidInput(f"subject model {path} does not exist; check {SETTING}")
    try:
        import onnxruntime as ort
        from rembg import sessions as rembg_sessions
    except ImportError as missing:
        raise ModelUnavailable(f"the rembg backend needs rembg and onnxruntime ({missing}); {INSTALL}") from None
    try:
        probe = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own Fail / InvalidProtobuf / InvalidGraph
        raise InvalidInput(
            f"subject model {path} is not an ONNX model onnxruntime can load ({type(error).__name__}); "
            "give a BiRefNet, BRIA RMBG, ISNet or U2-Net .onnx file"
        ) from None
    side = _input_side(probe, path)
    arch = guess_architecture(path, side) if architecture == "auto" else architecture
    spec = ARCHITECTURES[arch]
    if side is not None and side != spec.side_px:
        raise InvalidInput(
            f"subject model {path.name} takes {side}x{side} images but {arch} models take "
            f"{spec.side_px}x{spec.side_px}; choose the matching --subject-arch or another file"
        )
    base = getattr(rembg_sessions, spec.session)
    session_class = type(
        f"Local{spec.session}", (base,), {"download_models": classmethod(lambda cls, *a, **k: str(path))}
    )
    session = session_class(base.name(), ort.SessionOptions(), model_path=str(path), providers=_providers(ort))
    log.info("subject model %s loaded as %s through rembg %s", path, arch, spec.session)
    return RembgSubject(session, arch, path)


def _input_side(probe: object, path: Path) -> int | None:
    """The square side of the model's ``(N, 3, S, S)`` input; None when it is dynamic."""
    inputs = probe.get_inputs()  # type: ignore[attr-defined]
    shape = list(inputs[0].shape) if inputs else []
    fixed = [d if isinstance(d, int) else None for d in shape]
    if len(fixed) != 4 or fixed[1] not in (3, None):
        raise InvalidInput(
            f"subject model {path.name} takes input of shape {shape}; a subject model takes one (1, 3, S, S) image"
        )
    height, width = fixed[2], fixed[3]
    if height is not None and width is not None and height != width:
        raise InvalidInput(f"subject model {path.name} takes {width}x{height} images; rembg's models are square")
    return height if height is not None else width


def _providers(ort: object) -> list[str]:
    available = ort.get_available_providers()  # type: ignore[attr-defined]
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
