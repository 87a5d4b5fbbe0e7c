"""How each backend is built from ``Settings``: one factory a backend, each returning the backend
and the reason it was picked, or raising ``ModelUnavailable`` saying what is missing and how to add it.
Heavy packages are imported inside the factories. ``pipeline.models`` names them in its registries.
"""

from __future__ import annotations

from pipeline.edits.matting import Matter
from pipeline.errors import ModelUnavailable
from pipeline.inpaint.protocol import Inpainter
from pipeline.models.loading import Chosen, load_once, loaded_model, loaded_models, resolve_device
from pipeline.select.protocol import AnySegmenter
from pipeline.select.subject import SubjectFinder
from pipeline.select.text.sam3 import Sam3TextFinder
from pipeline.settings import Settings
from pipeline.track.protocol import Tracker


def classic_selector(settings: Settings) -> Chosen[AnySegmenter]:
    from pipeline.select.classic.selector import ClassicSelector

    return Chosen(ClassicSelector(), "classical selector")


def sam_selector(settings: Settings) -> Chosen[AnySegmenter]:
    """SAM from the configured checkpoint; ``ModelUnavailable`` when there is none."""
    from pipeline.select.sam import segmenter as sam

    checkpoint = sam.find_checkpoint(settings)
    if checkpoint is None:
        raise ModelUnavailable(sam.missing_checkpoint_message(settings))
    device = resolve_device(settings.device)
    segmenter = load_once(
        ("sam", str(checkpoint), settings.sam_model, device, settings.sam_cache_mb),
        lambda: sam.load_segmenter(
            checkpoint, model_type=settings.sam_model, device=device, cache_mb=settings.sam_cache_mb
        ),
    )
    return Chosen(segmenter, f"SAM {settings.sam_model} on {device}: checkpoint {checkpoint}")


def sam3_selector(settings: Settings) -> Chosen[AnySegmenter]:
    """SAM 3's point prompts from ``--sam3-model`` or the cache; ``ModelUnavailable`` saying why otherwise."""
    from pipeline.select.sam3 import points

    source = points.tracker_source(settings.sam3_model)
    device = resolve_device(settings.device)

    def build() -> points.Sam3PointSelector:
        selector = points.load_point_selector(source, device=device, cache_mb=settings.sam_cache_mb)
        finder = loaded_model(("sam3", source, device))  # under load_once's lock
        if isinstance(finder, Sam3TextFinder):
            points.share_backbone(selector.model, finder.model)
        return selector

    selector = load_once(("sam3-points", source, device, settings.sam_cache_mb), build)
    return Chosen(selector, f"SAM 3 clicks on {device}: {source}")


def classic_engine(settings: Settings) -> Chosen[Inpainter]:
    from pipeline.inpaint.classic import ClassicInpainter

    return Chosen(ClassicInpainter(), "classical engine")


def diffusion_engine(settings: Settings) -> Chosen[Inpainter]:
    """The configured diffusion model; ``ModelUnavailable`` when none is configured or found."""
    from pipeline.inpaint.crop import CropOptions
    from pipeline.inpaint.diffusion import loader as diffusion
    from pipeline.inpaint.diffusion.controlnet import parse_specs

    source = diffusion.find_model(settings)
    if source is None:
        raise ModelUnavailable(diffusion.missing_model_message(settings))
    controlnets = parse_specs(settings.controlnets)
    device = resolve_device(settings.device)
    engine = load_once(
        ("diffusion", source, device, settings.cpu_offload, settings.context_px, controlnets),
        lambda: diffusion.load_inpainter(
            source,
            device=device,
            cpu_offload=settings.cpu_offload,
            crop=CropOptions(context_px=settings.context_px),
            controlnets=controlnets,
        ),
    )
    guided = f" with ControlNet {', '.join(kind for kind, _ in controlnets)}" if controlnets else ""
    return Chosen(engine, f"diffusion engine on {device}: {source}{guided}")


def classic_tracker(settings: Settings) -> Chosen[Tracker]:
    from pipeline.track.classic import ClassicTracker

    return Chosen(ClassicTracker(), "classical tracker (optical flow and graph cut)")


def sam2_tracker(settings: Settings) -> Chosen[Tracker]:
    """SAM 2's video model from ``settings.track_model``; ``ModelUnavailable`` when none is configured."""
    source = settings.track_model
    if not source:
        raise ModelUnavailable(
            "no SAM 2 video model is configured; set STENCIL_TRACK_MODEL (or --track-model) to a model folder or "
            "a hub id in the local cache, such as facebook/sam2.1-hiera-tiny"
        )
    from pipeline.track import sam2

    device = resolve_device(settings.device)
    tracker = load_once(("sam2-video", source, device), lambda: sam2.load_tracker(source, device=device))
    return Chosen(tracker, f"SAM 2 video tracker on {device}: {source}")


def classic_subject(settings: Settings) -> Chosen[SubjectFinder]:
    from pipeline.select.subject.classic import ClassicSubject

    return Chosen(ClassicSubject(), "classical subject extractor (backdrop, saliency, graph cut)")


def rembg_subject(settings: Settings) -> Chosen[SubjectFinder]:
    """The configured subject model through rembg; ``ModelUnavailable`` when there is none."""
    from pipeline.select.subject import learned

    path = learned.find_model(settings.subject_model, settings.models_dir)
    if path is None:
        raise ModelUnavailable(learned.missing_model_message(settings.models_dir))
    finder = load_once(
        ("subject", str(path), settings.subject_arch), lambda: learned.load_subject(path, settings.subject_arch)
    )
    return Chosen(finder, f"{finder.name} subject model: {path}")


def exemplar_remover(settings: Settings) -> Chosen[Inpainter]:
    from pipeline.inpaint.exemplar import ExemplarInpainter

    return Chosen(ExemplarInpainter(), "exemplar fill (PatchMatch)")


def lama_remover(settings: Settings) -> Chosen[Inpainter]:
    """LaMa from the configured TorchScript file; ``ModelUnavailable`` when there is none.

    A file that is there but is not LaMa raises ``InvalidModel`` (no silent fallback).
    """
    from pipeline.inpaint import lama

    path = lama.find_lama(settings)
    if path is None:
        raise ModelUnavailable(lama.missing_lama_message(settings))
    device = resolve_device(settings.device)
    engine = load_once(("lama", str(path), device), lambda: lama.load_lama(path, device=device))
    return Chosen(engine, f"LaMa on {device}: {path}")


def sam3_finder(settings: Settings) -> Chosen[Sam3TextFinder]:
    """SAM 3 from ``--sam3-model`` or the cache; ``ModelUnavailable`` (saying how to get it) otherwise."""
    from pipeline.select.text import sam3

    source = sam3.find_model(settings.sam3_model)
    if source is None:
        raise ModelUnavailable(sam3.missing_model_message())
    device = resolve_device(settings.device)

    def build() -> Sam3TextFinder:
        from pipeline.select.sam3.points import share_backbone

        finder = sam3.load_text_finder(source, device=device)
        for key, loaded in loaded_models():  # under load_once's lock
            if key[:3] == ("sam3-points", source, device):
                share_backbone(loaded.model, finder.model)  # type: ignore[attr-defined]
        return finder

    finder = load_once(("sam3", source, device), build)
    return Chosen(finder, f"SAM 3 on {device}: {source}")


def classic_matter(settings: Settings) -> Chosen[Matter]:
    from pipeline.edits.closed_form import ClassicMatter

    return Chosen(ClassicMatter(), "classical closed-form matte")


def vitmatte_matter(settings: Settings) -> Chosen[Matter]:
    """ViTMatte from ``--matte-model`` or the cache; ``ModelUnavailable`` when there is none."""
    from pipeline.edits import vitmatte

    source = vitmatte.find_model(settings.matte_model)
    if source is None:
        raise ModelUnavailable(vitmatte.missing_model_message())
    device = resolve_device(settings.device)
    matter = load_once(("vitmatte", source, device), lambda: vitmatte.load_matter(source, device=device))
    return Chosen(matter, f"ViTMatte on {device}: {source}")
