"""Subject masks: the product of a product photo in one press, no clicks.

A ``SubjectFinder`` turns a photo into a mask of its subject. Two backends:

- ``classic.ClassicSubject``: a backdrop model from the border, a saliency and centre prior and
  a graph cut; no weights (its limits: ``classic.LIMITS``).
- ``learned.RembgSubject``: a salient-object model (BiRefNet, BRIA RMBG, ISNet, U2-Net) from a
  local ONNX file, run through rembg's sessions on onnxruntime.

``pipeline.models.make_subject`` picks one and says why.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pipeline.types import Image, Mask


@runtime_checkable
class SubjectFinder(Protocol):
    """Finds the subject of a photo."""

    name: str
    """What the backend is, for the status line and logs (e.g. ``"classical"``, ``"rembg birefnet"``)."""

    def find(self, image: Image) -> Mask:
        """The subject of ``image`` (``(H, W, 3)`` uint8 RGB, not modified): ``(H, W)`` float32 in [0, 1]."""
        ...
