"""The errors the pipeline raises: one base class and a few kinds.

Every message says what was wrong and what to do about it, so that the UI, the
CLI and a notebook can show it unchanged.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class of every error Stencil raises on purpose."""


class InvalidInput(PipelineError, ValueError):
    """The caller passed something the pipeline cannot work on (bad value, shape, point)."""


class UnsupportedFormat(InvalidInput):
    """A file is not one of the image formats Stencil reads."""


class CorruptImage(InvalidInput):
    """A file claims to be an image but cannot be decoded completely."""


class ImageTooLarge(InvalidInput):
    """An image exceeds the pixel cap or the longest-side cap (checked before decoding)."""


class SizeMismatch(InvalidInput):
    """A mask and an image (or two masks) differ in height and width."""


class EmptyMask(InvalidInput):
    """An operation needs a selection but the mask selects nothing."""


class ModelUnavailable(PipelineError):
    """Weights are missing, corrupt or do not match the requested model."""


class InvalidModel(InvalidInput):
    """A configured model file is not the kind of file its backend needs (format or interface)."""


class BackendFailed(PipelineError):
    """A backend ran but failed (out of memory, a library error)."""


class Cancelled(PipelineError):
    """The caller asked a long-running operation to stop."""


class ClipTooLarge(InvalidInput):
    """A clip or photo sequence is longer, or its frames larger, than the sequence limits allow."""
