"""Fake inpainting engines shared by the edit tests (the real engines are tested on their own)."""

from __future__ import annotations

import numpy as np

from pipeline.inpaint.protocol import InpaintRequest


class PaintBlue:
    """A fake engine: paints every pixel blue and records what it was asked."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[InpaintRequest] = []

    def inpaint(self, request, *, progress=None, cancel=None):  # noqa: ANN001, ANN201
        self.requests.append(request)
        out = np.empty_like(request.image)
        out[...] = (0, 0, 255)
        return out
