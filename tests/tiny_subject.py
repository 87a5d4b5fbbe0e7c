"""Tiny subject models for the rembg backend's tests, exported to ONNX by the test itself.

The net has a real model's input and output (``(1, 3, S, S)`` in, ``(1, 1, S, S)`` out, U2-Net's
and BiRefNet's input names) and fixed weights that score a pixel by its brightness, so a bright
product on a dark backdrop is what it "finds": a test can tell a working path from a broken one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NAMES = {"u2net": ("input.1", "output"), "birefnet": ("input_image", "output_image")}


def export_tiny_subject(path: Path, *, side_px: int = 320, names: tuple[str, str] = NAMES["u2net"]) -> Path:
    """Write the tiny model to ``path`` as ONNX (needs torch and onnx) and return ``path``."""
    import warnings

    import torch

    net = torch.nn.Conv2d(3, 1, kernel_size=1)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.zero_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter: no onnxscript needed
        torch.onnx.export(
            net.eval(), torch.zeros(1, 3, side_px, side_px), str(path),
            input_names=[names[0]], output_names=[names[1]], dynamo=False,
        )  # fmt: skip
    return path


def bright_square_photo(width: int = 160, height: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """A dark, slightly noisy backdrop with a bright square in the middle; and the square's true mask."""
    rng = np.random.default_rng(3)
    photo = np.clip(rng.normal(40, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    truth = np.zeros((height, width), np.float32)
    truth[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = 1.0
    photo[truth > 0] = (230, 200, 90)
    return photo, truth
