"""Stencil's engine: masks, selection and mask-driven edits, without any UI.

The UI (``ui/``), the ``stencil`` command (``pipeline.cli``) and notebooks all call these
modules. Importing ``pipeline`` is cheap: torch, diffusers and segment-anything load only
when a model is first used, and gradio is never imported here.
"""

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
from pipeline.settings import Settings
from pipeline.types import Box, Image, Mask, Point

__all__ = [
    "BackendFailed",
    "Box",
    "Cancelled",
    "CorruptImage",
    "EmptyMask",
    "Image",
    "ImageTooLarge",
    "InvalidInput",
    "Mask",
    "ModelUnavailable",
    "PipelineError",
    "Point",
    "Settings",
    "SizeMismatch",
    "UnsupportedFormat",
]
