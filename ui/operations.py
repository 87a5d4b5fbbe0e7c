"""Map step 4's options onto the pipeline's edit operations (full resolution, never the display copy)."""

from __future__ import annotations

from pipeline.edits import background, outpaint
from pipeline.edits import remove as edit
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import CancelFlag, Inpainter, ProgressFn
from pipeline.types import Image, Mask
from ui.edits import EditOptions

Outcome = tuple[Image, Mask]
"""The new full-resolution image and the mask the edit actually used (after any growing)."""


def apply(
    image: Image,
    mask: Mask,
    options: EditOptions,
    engine: Inpainter,
    *,
    progress: ProgressFn | None,
    cancel: CancelFlag | None,
) -> Outcome:
    """Run ``options.operation`` on ``image`` with ``mask`` (1 = the part to change, or the product
    to keep for a background replacement)."""
    if options.operation == "remove":
        done = edit.remove(image, mask, engine, progress=progress, cancel=cancel)
        return done.image, done.mask
    if options.operation == "inpaint":
        done = edit.inpaint(
            image,
            mask,
            engine,
            prompt=options.prompt,
            negative_prompt=options.negative_prompt,
            seed=options.seed,
            steps=options.steps,
            strength=options.strength,
            guidance=options.guidance,
            progress=progress,
            cancel=cancel,
        )
        return done.image, done.mask
    if options.operation == "background":
        return _background(image, mask, options, engine, progress=progress, cancel=cancel)
    return _outpaint(image, options, engine, progress=progress, cancel=cancel)


def _background(
    image: Image,
    mask: Mask,
    options: EditOptions,
    engine: Inpainter,
    *,
    progress: ProgressFn | None,
    cancel: CancelFlag | None,
) -> Outcome:
    choice = options.background
    plate: background.Background
    if choice.kind == "color":
        plate = background.SolidColor(choice.color)
    elif choice.kind == "gradient":
        plate = background.Gradient(choice.color, choice.color2)
    elif choice.kind == "blur":
        plate = background.BlurredOriginal(choice.blur_px)
    elif choice.kind == "image":
        if choice.image is None:
            raise InvalidInput("no background image: upload one under 'Background image', or pick another background")
        plate = background.ImageBackground(choice.image)
    else:
        plate = background.PromptBackground(
            choice.prompt or options.prompt,
            options.negative_prompt,
            seed=options.seed,
            steps=options.steps,
            guidance=options.guidance,
        )
    done = background.replace_background(image, mask, plate, inpainter=engine, progress=progress, cancel=cancel)
    return done.image, done.mask


def _outpaint(
    image: Image, options: EditOptions, engine: Inpainter, *, progress: ProgressFn | None, cancel: CancelFlag | None
) -> Outcome:
    height, width = image.shape[:2]
    if options.aspect is not None:
        padding = outpaint.padding_for_aspect((width, height), options.aspect)
    else:
        padding = outpaint.Padding(*options.sides_px)
    done = outpaint.extend_canvas(
        image,
        padding,
        engine,
        prompt=options.prompt,
        negative_prompt=options.negative_prompt,
        seed=options.seed,
        steps=options.steps,
        guidance=options.guidance,
        progress=progress,
        cancel=cancel,
    )
    return done.image, done.mask
