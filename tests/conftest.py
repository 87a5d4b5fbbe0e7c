"""Shared fixtures: synthesised images and masks, and an offline, quiet environment.

The tests mirror the code (``tests/pipeline/masks/`` tests ``pipeline/masks/``...) and import in
pytest's ``importlib`` mode; the shared helpers beside this file (``ui_fakes``, ``ui_server``,
``tiny_diffusion``) are importable by name from every test folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared helpers

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def photo(rng: np.random.Generator) -> np.ndarray:
    """A 96x128 RGB product shot: a shaded red disc on a light textured backdrop."""
    h, w = 96, 128
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    backdrop = 220 + 10 * np.sin(xx / 7.0)[..., None] + rng.normal(0, 3, (h, w, 1))
    image = np.repeat(backdrop, 3, axis=2)
    inside = (xx - 64) ** 2 + (yy - 48) ** 2 <= 30**2
    shade = np.clip(1.0 - ((xx - 54) ** 2 + (yy - 38) ** 2) / 2500.0, 0.3, 1.0)
    image[inside] = np.stack([200 * shade, 40 * shade, 30 * shade], axis=-1)[inside]
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture
def disc_mask() -> np.ndarray:
    """The true mask of ``photo``'s disc, float32 in {0, 1}."""
    yy, xx = np.mgrid[0:96, 0:128]
    return ((xx - 64) ** 2 + (yy - 48) ** 2 <= 30**2).astype(np.float32)
