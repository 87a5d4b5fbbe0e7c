"""The documented ranges (``pipeline.limits``) hold in every step type, with the field's name in the error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline import limits
from pipeline.edits.background import Gradient, Shadow
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import Prompting
from pipeline.masks import morphology
from pipeline.recipe import Clicks, Refine, Remove
from pipeline.recipe.apply import refine_mask
from pipeline.types import Point


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Prompting(steps=limits.MAX_STEPS + 1), "steps"),
        (lambda: Prompting(prompt="x" * (limits.MAX_PROMPT_CHARS + 1)), "prompt"),
        (lambda: Prompting(negative_prompt="x" * (limits.MAX_PROMPT_CHARS + 1)), "negative prompt"),
        (lambda: Prompting(strength=math.nan), "strength"),
        (lambda: Prompting(guidance=math.inf), "guidance"),
        (lambda: Refine(feather_px=limits.MAX_FEATHER_PX + 1), "feather_px"),
        (lambda: Refine(feather_px=math.nan), "feather_px"),
        (lambda: Refine(grow_px=10**9), "grow_px"),
        (lambda: Remove(grow_px=10**9), "grow_px"),
        (lambda: Clicks(size=(9, 9), points=(Point(1, 1),) * (limits.MAX_POINTS + 1)), "points"),
        (lambda: Gradient((0, 0, 0), (9, 9, 9), angle_deg=math.nan), "gradient angle"),
        (lambda: Shadow(angle_deg=-math.inf), "shadow angle"),
        (lambda: Shadow(softness_px=math.nan), "softness"),
    ],
)
def test_out_of_range_fields_are_refused_by_name(build, field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        build()


def test_the_limits_themselves_are_accepted() -> None:
    Prompting(prompt="x" * limits.MAX_PROMPT_CHARS, steps=limits.MAX_STEPS)
    Refine(grow_px=-limits.MAX_GROW_PX, feather_px=limits.MAX_FEATHER_PX)
    Clicks(size=(9, 9), points=(Point(1, 1),) * limits.MAX_POINTS)


def test_grow_longer_than_the_photo_diagonal_is_refused_when_it_runs() -> None:
    mask = np.zeros((30, 40), np.float32)
    mask[10:20, 10:20] = 1.0
    with pytest.raises(InvalidInput, match=r"grow_px is 51 px but this 40x30 photo's diagonal is 50 px"):
        refine_mask(Refine(grow_px=51), mask)
    assert refine_mask(Refine(grow_px=-50), mask).sum() == 0.0  # the whole diagonal is allowed


@pytest.mark.parametrize("soft", [False, True])
def test_morphology_caps_a_huge_radius_at_the_diagonal_with_the_same_result(soft: bool) -> None:
    mask = np.zeros((40, 50), np.float32)
    mask[5:9, 30:33] = 0.5 if soft else 1.0
    diagonal = math.hypot(40, 50)
    for op in (morphology.grow, morphology.shrink):
        np.testing.assert_array_equal(op(mask, 1e12), op(mask, diagonal))
    assert morphology.grow(mask, 1e12).min() == (0.5 if soft else 1.0)
