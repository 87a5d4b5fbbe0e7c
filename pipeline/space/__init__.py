"""A ready-to-push Hugging Face Space: ``stencil space OUT_DIR --hardware cpu-basic|zero-gpu``.

``presets`` says what each hardware choice runs and installs, ``requirements`` pins the
dependencies to the tested versions, ``front_matter`` writes and checks the README's YAML,
``bundle`` writes the folder, and ``runtime`` is what the generated app does at start.
"""

from pipeline.space.bundle import write_space
from pipeline.space.presets import PRESETS, ROLES, HubModel, Preset

__all__ = ["PRESETS", "ROLES", "HubModel", "Preset", "write_space"]
