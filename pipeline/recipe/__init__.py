"""The notebook as data: a ``Recipe`` of typed steps, its JSON form, and ``run`` to replay it.

The page builds a recipe cell by cell, ``stencil apply`` replays one on photos and folders, and
the API serves it; all three call the functions here, so they give the same pixels.
"""

from pipeline.recipe.apply import Engines, refine_mask
from pipeline.recipe.codec import MAX_RECIPE_BYTES, RecipeError, dumps, from_dict, loads, to_dict
from pipeline.recipe.run import Run, run
from pipeline.recipe.steps import (
    RECIPE_VERSION,
    AlphaChannel,
    Clicks,
    ColorRange,
    Edit,
    ExtendCanvas,
    Inpaint,
    LabelClasses,
    LuminanceRange,
    MaskStep,
    Output,
    Recipe,
    Refine,
    Remove,
    ReplaceBackground,
    Step,
    StoredMask,
    Subject,
    TextPrompt,
)

__all__ = [
    "MAX_RECIPE_BYTES",
    "RECIPE_VERSION",
    "AlphaChannel",
    "Clicks",
    "ColorRange",
    "Edit",
    "Engines",
    "ExtendCanvas",
    "Inpaint",
    "LabelClasses",
    "LuminanceRange",
    "MaskStep",
    "Output",
    "Recipe",
    "RecipeError",
    "Refine",
    "Remove",
    "ReplaceBackground",
    "Run",
    "Step",
    "StoredMask",
    "Subject",
    "TextPrompt",
    "dumps",
    "from_dict",
    "loads",
    "refine_mask",
    "run",
    "to_dict",
]
