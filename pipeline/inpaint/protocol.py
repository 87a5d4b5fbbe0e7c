"""Inpainting: the ``Inpainter`` protocol and the request every engine takes.

Field rules, the same for every engine:
- ``image`` and ``mask`` are required; the result has the image's size, and pixels where the
  mask is 0 come out byte-identical to the input (``edits.remove.keep_outside`` enforces it).
- ``prompting`` (a ``Prompting``: prompt, negative prompt, seed, steps, strength, guidance)
  steers diffusion engines; engines without a text model (the classical one) ignore it.
  ``seed`` None means "pick one"; strength below 1 keeps more of the masked structure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pipeline.errors import InvalidInput
from pipeline.inpaint.control import Control, check_controls
from pipeline.inpaint.crop import CropOptions
from pipeline.limits import MAX_STEPS, check_text
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(step, total)`` after each step of a long run (``1 <= step <= total``)."""


@runtime_checkable
class CancelFlag(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event``; engines check it between steps."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Prompting:
    """What a generative engine is asked for, and how: the one home of these defaults.

    - ``prompt`` / ``negative_prompt``: what to paint and what to avoid (diffusion only).
    - ``seed``: ``None`` picks a random one per run; a fixed seed repeats the result exactly.
    - ``steps``: denoising steps, 1 to 150 (``pipeline.limits``); ``strength`` in (0, 1]: below 1
      keeps the masked area's structure; ``guidance``: classifier-free guidance scale, 0 to 50.
    - Prompts are at most 1,000 characters each.

    The classical engine ignores all of them.
    """

    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int = 30
    strength: float = 1.0
    guidance: float = 7.5

    def __post_init__(self) -> None:
        check_text(self.prompt, "prompt")
        check_text(self.negative_prompt, "negative prompt")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise InvalidInput(f"steps is {self.steps}; use between 1 and {MAX_STEPS} (20 to 50 is typical)")
        if not (
            isinstance(self.strength, (int, float)) and math.isfinite(self.strength) and 0.0 < self.strength <= 1.0
        ):
            raise InvalidInput(f"strength is {self.strength}; use a value in (0, 1], 1 replaces the masked area fully")
        if not (
            isinstance(self.guidance, (int, float)) and math.isfinite(self.guidance) and 0.0 <= self.guidance <= 50.0
        ):
            raise InvalidInput(f"guidance is {self.guidance}; use a value between 0 and 50 (7.5 is typical)")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63
        ):
            raise InvalidInput(f"seed is {self.seed}; use a whole number from 0 to 2**63 - 1, or none for random")


DEFAULT_PROMPTING = Prompting()
"""No prompt and every setting at its default."""


@dataclass(frozen=True)
class InpaintRequest:
    """One inpainting job: fill ``mask`` (1 = change) of ``image`` as ``prompting`` asks.

    ``controls``: ControlNet guidance (``pipeline.inpaint.control``); only an engine that
    ``Guides`` runs it, and pictures it carries have the image's size.
    """

    image: Image
    mask: Mask
    prompting: Prompting = DEFAULT_PROMPTING
    controls: tuple[Control, ...] = ()

    def __post_init__(self) -> None:
        check_image(self.image)
        check_mask(self.mask)
        check_same_size(self.mask, self.image)
        check_controls(self.controls, self.image)


@runtime_checkable
class CropsContext(Protocol):
    """An engine that works on a crop around the mask and can keep a chosen context margin."""

    def with_crop(self, crop: CropOptions) -> Inpainter:
        """The same engine with the crop settings ``crop`` (the model is shared, not copied)."""
        ...


@runtime_checkable
class Guides(Protocol):
    """An engine that runs ControlNet guidance: ``control_kinds`` are the kinds it has a ControlNet for."""

    control_kinds: tuple[str, ...]


def require_guidance(engine: object, controls: tuple[Control, ...]) -> None:
    """Raise ``InvalidInput`` unless ``engine`` has a ControlNet for every control's kind."""
    if not controls:
        return
    kinds = getattr(engine, "control_kinds", ()) if isinstance(engine, Guides) else ()
    missing = [control.kind for control in controls if control.kind not in kinds]
    if missing:
        name = getattr(engine, "name", type(engine).__name__)
        raise InvalidInput(
            f"guidance by {', '.join(missing)} needs a ControlNet for it and the diffusion engine "
            f"(the {name} engine has {', '.join(kinds) or 'none'}); start Stencil with "
            f"--controlnet {missing[0]}=MODEL (or STENCIL_CONTROLNET), or turn guidance off"
        )


@runtime_checkable
class Inpainter(Protocol):
    """An inpainting engine (diffusion, classical, a test fake)."""

    name: str

    def inpaint(
        self,
        request: InpaintRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelFlag | None = None,
    ) -> Image:
        """Fill the masked region; returns a new ``(H, W, 3)`` uint8 image of the input's size."""
        ...
