"""Finding and loading ControlNets for the diffusion engine (``--controlnet KIND=MODEL``, ``STENCIL_CONTROLNET``).

Each ControlNet is named with the control kind it reads (``seg``, ``canny``, ``mask``,
``image``; see ``pipeline.inpaint.control``) and comes, like the inpainting model, from a
local diffusers folder (``config.json``), a Hugging Face model id (from the local cache only
when ``HF_HUB_OFFLINE`` is set) or a single ``.safetensors`` file (its architecture from a
``config.json`` beside it, else from diffusers' default config for its keys, which must be cached
offline). It loads in the inpainting model's dtype (fp16 on CUDA) and must be of its family: an
SD 1.5 ControlNet for an SD 1.5 model, an SDXL one for SDXL (checked from the configs, before any run).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.inpaint.control import CONTROL_KINDS

log = logging.getLogger(__name__)

SETTING = "--controlnet / STENCIL_CONTROLNET"
EXAMPLES = {
    "sd15": "lllyasviel/control_v11p_sd15_seg (seg), lllyasviel/control_v11p_sd15_canny (canny), "
    "lllyasviel/control_v11p_sd15_inpaint (mask)",
    "sdxl": "diffusers/controlnet-canny-sdxl-1.0 (canny)",
}


class WrongFamily(InvalidInput):
    """A ControlNet made for another model family (SD 1.5 vs SDXL) than the inpainting model.

    A configuration error, not a missing model: "auto" does not fall back to the classical engine
    over it (that would hide it), so the app, the CLI and the API stop with this message.
    """


def parse_specs(specs: tuple[str, ...] | list[str]) -> tuple[tuple[str, str], ...]:
    """``("seg=ID", "canny=/path")`` -> ``(("seg", "ID"), ("canny", "/path"))``; one clear error per bad item."""
    parsed: list[tuple[str, str]] = []
    for spec in specs:
        kind, sep, source = spec.partition("=")
        kind, source = kind.strip(), source.strip()
        if not sep or not source:
            raise InvalidInput(
                f"ControlNet {spec!r} ({SETTING}) has no kind; write KIND=MODEL with KIND one of "
                f"{', '.join(CONTROL_KINDS)}, e.g. seg=lllyasviel/control_v11p_sd15_seg"
            )
        if kind not in CONTROL_KINDS:
            raise InvalidInput(f"ControlNet kind {kind!r} ({SETTING}) is not one of {', '.join(CONTROL_KINDS)}")
        if any(kind == seen for seen, _ in parsed):
            raise InvalidInput(f"two ControlNets for {kind} ({SETTING}); give one per kind")
        parsed.append((kind, source))
    return tuple(parsed)


def family(config: Any) -> str:
    """``"sdxl"`` for a model with SDXL's text-and-size embedding, ``"sd15"`` otherwise (SD 1.x/2.x)."""
    return "sdxl" if getattr(config, "addition_embed_type", None) == "text_time" else "sd15"


def check_family(kind: str, source: str, controlnet: Any, unet: Any) -> None:
    """Raise ``WrongFamily`` when ``controlnet`` cannot steer ``unet`` (another family or text width)."""
    want, have = family(unet.config), family(controlnet.config)
    width_ok = controlnet.config.cross_attention_dim == unet.config.cross_attention_dim
    if want == have and width_ok:
        return
    names = {"sd15": "SD 1.5", "sdxl": "SDXL"}
    detail = (
        f"an {names[have]} ControlNet" if want != have else
        f"a ControlNet for {controlnet.config.cross_attention_dim}-wide text features (the model has "
        f"{unet.config.cross_attention_dim})"
    )  # fmt: skip
    raise WrongFamily(
        f"ControlNet {kind}={source!r} ({SETTING}) is {detail} but the inpainting model is {names[want]}; "
        f"use an {names[want]} ControlNet, such as {EXAMPLES[want]}"
    )


def load_controlnets(
    specs: tuple[tuple[str, str], ...], *, unet: Any, dtype: Any, device: str, offline: bool
) -> dict[str, Any]:
    """Load each ``(kind, source)`` in ``dtype``, check its family against ``unet``, move it to ``device``."""
    nets: dict[str, Any] = {}
    for kind, source in specs:
        net = _load_one(kind, source, dtype, offline)
        check_family(kind, source, net, unet)
        nets[kind] = net.to(device)
        log.info("ControlNet %s loaded from %s (%s)", kind, source, dtype)
    return nets


def _load_one(kind: str, source: str, dtype: Any, offline: bool) -> Any:
    from diffusers import ControlNetModel

    from pipeline.inpaint.diffusion.engine import first_line

    lowered = source.lower()
    if lowered.endswith(".ckpt"):
        raise ModelUnavailable(
            f"ControlNet {kind}={source!r} ({SETTING}) is a .ckpt pickle, which can run code when loaded; "
            "use a .safetensors file or a diffusers folder"
        )
    path = Path(source).expanduser()
    if not path.exists() and (lowered.endswith(".safetensors") or source.startswith((".", "/", "~"))):
        raise ModelUnavailable(f"ControlNet {kind}={source!r} ({SETTING}) does not exist; check the path")
    try:
        if lowered.endswith(".safetensors"):
            beside = path.parent / "config.json"  # a single file's architecture, if its config came with it
            config = {"config": str(path.parent)} if beside.is_file() else {}
            return ControlNetModel.from_single_file(str(path), torch_dtype=dtype, local_files_only=offline, **config)
        where = str(path) if path.exists() else source
        return ControlNetModel.from_pretrained(where, torch_dtype=dtype, local_files_only=offline)
    except Exception as exc:  # loaders raise many unrelated types; all mean "these weights are unusable"
        hint = " (the hub is offline: download it first)" if offline and not path.exists() else ""
        if lowered.endswith(".safetensors") and not (path.parent / "config.json").is_file():
            hint = " (a single file needs its config: put its config.json beside it, or have the model's config cached)"
        raise ModelUnavailable(
            f"cannot load ControlNet {kind}={source!r} ({SETTING}){hint}: {first_line(exc)}; point it at a diffusers "
            "folder with config.json, a .safetensors file, or a model id in the Hugging Face cache"
        ) from exc
