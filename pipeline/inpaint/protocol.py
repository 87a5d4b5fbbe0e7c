"""Inpainting: the ``Inpainter`` protocol and the request every engine takes.

Field rules, the same for every engine:
- ``image`` and ``mask`` are required; the result has the image's size, and pixels where the
  mask is 0 come out byte-identical to the input (``edit.keep_outside`` enforces it).
- ``prompt``, ``negative_prompt``, ``guidance`` and ``steps`` steer diffusion engines; engines
  without a text model (the classical one) ignore them.
- ``seed`` makes a run repeatable; ``None`` means "pick one" (engines that are deterministic
  ignore it).
- ``strength`` in (0, 1]: 1 replaces the masked content, lower keeps more of its structure.
  Engines that cannot keep structure treat every strength as 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pipeline.errors import InvalidInput
from pipeline.types import Image, Mask, check_image, check_mask, check_same_size

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(step, total)`` after each step of a long run (``1 <= step <= total``)."""


@runtime_checkable
class CancelFlag(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event``; engines check it between steps."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class InpaintRequest:
    """One inpainting job. See the module docstring for which engine reads which field."""

    image: Image
    mask: Mask
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int = 30
    strength: float = 1.0
    guidance: float = 7.5

    def __post_init__(self) -> None:
        check_image(self.image)
        check_mask(self.mask)
        check_same_size(self.mask, self.image)
        if not 1 <= self.steps <= 500:
            raise InvalidInput(f"steps is {self.steps}; use between 1 and 500 (20 to 50 is typical)")
        if not (0.0 < self.strength <= 1.0):
            raise InvalidInput(f"strength is {self.strength}; use a value in (0, 1], 1 replaces the masked area fully")
        if not (math.isfinite(self.guidance) and 0.0 <= self.guidance <= 50.0):
            raise InvalidInput(f"guidance is {self.guidance}; use a value between 0 and 50 (7.5 is typical)")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise InvalidInput(f"seed is {self.seed}; use a non-negative integer below 2**63")


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
