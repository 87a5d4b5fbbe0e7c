"""Stencil's engine: masks, selection and mask-driven edits, without any UI.

The UI (``ui/``), the ``stencil`` command (``pipeline.cli``) and notebooks all call these
modules. Importing ``pipeline`` is cheap: torch, diffusers and segment-anything load only
when a model is first used, and gradio is never imported here.

The packages, bottom up (imports run one way, down this list):

- ``types``, ``errors``, ``colors``, ``settings``: the data contracts and what selects backends;
- ``io`` (load, save, download) and ``masks`` (sources, morphology, feather, compose, metrics);
- ``select`` (click selection: SAM, classical) and ``inpaint`` (engines: classical, diffusion);
- ``edits`` (remove, inpaint, background, outpaint, matting), then ``models`` (the registries);
- ``recipe``: the notebook as data, replayed by ``run``; ``cli``: the ``stencil`` command.
"""

from pipeline import masks
from pipeline.errors import (
    BackendFailed,
    Cancelled,
    CorruptImage,
    EmptyMask,
    ImageTooLarge,
    InvalidInput,
    ModelUnavailable,
    PipelineError,
    SizeMismatch,
    UnsupportedFormat,
)
from pipeline.inpaint.protocol import Prompting
from pipeline.io.images import load_image, load_mask, save_image, save_mask, save_rgba
from pipeline.recipe import Engines, Recipe, RecipeError, Refine, Run, dumps, loads, run
from pipeline.settings import Settings
from pipeline.types import Box, Image, Mask, Point

__all__ = [
    "BackendFailed",
    "Box",
    "Cancelled",
    "CorruptImage",
    "EmptyMask",
    "Engines",
    "Image",
    "ImageTooLarge",
    "InvalidInput",
    "Mask",
    "ModelUnavailable",
    "PipelineError",
    "Point",
    "Prompting",
    "Recipe",
    "RecipeError",
    "Refine",
    "Run",
    "Settings",
    "SizeMismatch",
    "UnsupportedFormat",
    "dumps",
    "load_image",
    "load_mask",
    "loads",
    "masks",
    "run",
    "save_image",
    "save_mask",
    "save_rgba",
]
