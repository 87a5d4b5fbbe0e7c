"""Step 4 and 5: run an edit on the full-resolution photo and package the result.

``EditOptions`` collects the controls of step 4; ``run`` calls the pipeline and appends a history
``Cell``; ``comparison`` gives the slider's display-size pair (downloads: ``ui.downloads``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from pipeline.errors import EmptyMask, InvalidInput
from pipeline.inpaint.protocol import CancelFlag, Inpainter, ProgressFn
from pipeline.models import make_inpainter
from pipeline.types import Image
from ui import actions
from ui.colors import RGB, parse_color
from ui.display import fit_display, thumbnail
from ui.services import Services, run_on_gpu
from ui.state import Cell, Session, Step

Operation = Literal["background", "remove", "inpaint", "outpaint"]
BackgroundKind = Literal["color", "gradient", "blur", "image", "prompt"]
OPERATIONS: dict[str, Operation] = {
    "Replace background": "background",
    "Remove": "remove",
    "Inpaint": "inpaint",
    "Extend canvas": "outpaint",
}
BACKGROUND_KINDS: dict[str, BackgroundKind] = {
    "Colour": "color",
    "Gradient": "gradient",
    "Blur": "blur",
    "Image": "image",
    "Prompt": "prompt",
}
ASPECTS = {"1:1": (1, 1), "4:5": (4, 5), "3:2": (3, 2), "16:9": (16, 9), "9:16": (9, 16)}


@dataclass(frozen=True, eq=False)
class BackgroundChoice:
    """The new background: a colour, a two-colour vertical gradient, the blurred photo, an image or a prompt."""

    kind: BackgroundKind = "color"
    color: RGB = (255, 255, 255)
    color2: RGB = (199, 210, 254)
    blur_px: float = 24.0
    image: Image | None = None
    prompt: str = ""

    @classmethod
    def from_page(
        cls, kind: str, color: str, color2: str, blur_px: float, image: Image | None, prompt: str
    ) -> BackgroundChoice:
        if kind not in BACKGROUND_KINDS:
            raise InvalidInput(f"background {kind!r} is not one of {', '.join(BACKGROUND_KINDS)}")
        picture = None if image is None else np.ascontiguousarray(np.asarray(image)[..., :3], dtype=np.uint8)
        return cls(
            BACKGROUND_KINDS[kind], parse_color(color), parse_color(color2), float(blur_px), picture, prompt or ""
        )

    def params(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"background": self.kind}
        if self.kind in ("color", "gradient"):
            shown["color"] = "#{:02x}{:02x}{:02x}".format(*self.color)
        if self.kind == "gradient":
            shown["color2"] = "#{:02x}{:02x}{:02x}".format(*self.color2)
        if self.kind == "blur":
            shown["blur_px"] = self.blur_px
        if self.kind == "prompt":
            shown["prompt"] = self.prompt
        return shown


@dataclass(frozen=True, eq=False)
class EditOptions:
    """Everything step 4 sets. ``sides_px`` is (left, right, top, bottom); ``seed`` None is random."""

    operation: Operation = "background"
    prompt: str = ""
    negative_prompt: str = ""
    background: BackgroundChoice = BackgroundChoice()
    sides_px: tuple[int, int, int, int] = (0, 0, 0, 0)
    aspect: tuple[int, int] | None = None
    engine: Literal["auto", "classic", "diffusion"] = "auto"
    steps: int = 30
    strength: float = 1.0
    guidance: float = 7.5
    seed: int | None = None
    margin_px: int = 64

    @classmethod
    def from_page(  # noqa: PLR0913 - mirrors the controls of step 4
        cls,
        operation: str,
        prompt: str,
        negative: str,
        background: BackgroundChoice,
        sides: tuple[float, float, float, float],
        aspect: str,
        engine: str,
        steps: float,
        strength: float,
        guidance: float,
        seed: float | None,
        margin: float,
    ) -> EditOptions:
        if operation not in OPERATIONS:
            raise InvalidInput(f"operation {operation!r} is not one of {', '.join(OPERATIONS)}")
        if engine not in ("auto", "classic", "diffusion"):
            raise InvalidInput(f"engine {engine!r} is not one of auto, classic, diffusion")
        seed_value = None if seed is None or seed < 0 else int(seed)
        return cls(
            OPERATIONS[operation],
            prompt or "",
            negative or "",
            background,
            tuple(max(0, int(v or 0)) for v in sides),
            ASPECTS.get(aspect),
            engine,  # type: ignore[arg-type]
            int(steps),
            float(strength),
            float(guidance),
            seed_value,
            int(margin),
        )

    def params(self) -> dict[str, Any]:
        """What the recipe and the history caption record for this edit."""
        shown: dict[str, Any] = {"engine": self.engine}
        if self.operation == "background":
            shown.update(self.background.params())
        if self.operation in ("inpaint", "outpaint") or self.background.kind == "prompt":
            shown.update(
                prompt=self.prompt,
                negative_prompt=self.negative_prompt,
                steps=self.steps,
                strength=self.strength,
                guidance=self.guidance,
                seed=self.seed,
            )
        if self.operation == "outpaint":
            shown.update(sides_px=list(self.sides_px), aspect=None if self.aspect is None else list(self.aspect))
        if self.operation != "background" or self.background.kind == "prompt":  # an engine runs
            shown.update(margin_px=self.margin_px)
        return shown


def engine_for(services: Services, options: EditOptions) -> Inpainter:
    """The inpainting engine the options ask for, with the context margin when it supports one."""
    engine = (
        services.inpainter.backend
        if options.engine == "auto"
        else make_inpainter(options.engine, services.settings).backend
    )
    with_crop = getattr(engine, "with_crop", None)
    if with_crop is not None:
        from pipeline.inpaint.crop import CropOptions

        engine = with_crop(CropOptions(context_px=options.margin_px))
    return engine


def run(
    services: Services,
    session: Session,
    options: EditOptions,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> Session:
    """Run ``options`` on the session's photo and refined mask (full resolution); adds a history cell."""
    from ui import operations

    image = actions.need_image(session)
    mask = actions.refined(session)
    if options.operation != "outpaint" and float(mask.max(initial=0.0)) <= 0.0:
        raise EmptyMask("the mask is empty: select something in step 2 (click the product) before running an edit")
    engine = engine_for(services, options)
    result, used = run_on_gpu(lambda: operations.apply(image, mask, options, engine, progress=progress, cancel=cancel))
    before, after = comparison_pair(image, result, session.display)
    cell = Cell(
        index=len(session.history) + 1,
        operation=options.operation,
        params=options.params(),
        image=image,
        mask=used,
        result=result,
        thumbnail=thumbnail(after),
        preview=(before, after),
        steps=(*session.steps, Step("refine", session.refine.as_dict())),
    )
    return replace(session, result=result, history=(*session.history, cell))


def comparison_pair(image: Image, result: Image, display: Image | None) -> tuple[Image, Image]:
    """Display-size before and after pictures for the slider (the before is padded for outpaint).

    ``display`` is the session's display copy of ``image``; it is reused when the sizes match.
    """
    after, _ = fit_display(result)
    if image.shape == result.shape:
        return (display if display is not None and display.shape == after.shape else fit_display(image)[0]), after
    before = np.full_like(result, 235)
    top, left = (result.shape[0] - image.shape[0]) // 2, (result.shape[1] - image.shape[1]) // 2
    before[top : top + image.shape[0], left : left + image.shape[1]] = image
    return fit_display(before)[0], after
