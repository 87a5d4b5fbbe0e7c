"""What a generated Space's ``app.py`` runs: the same page, with the preset's settings and limits.

``stencil space`` (``pipeline.space``) writes the folder; this builds and launches the page in it.
On ZeroGPU (``SPACES_ZERO_GPU`` set by the platform) model work runs inside ``@spaces.GPU`` (see
``ui.services``); anywhere else the decorator does nothing, so the same app serves locally.
"""

from __future__ import annotations

import logging
import os

from pipeline.space.presets import HubModel, preset
from pipeline.space.runtime import space_settings
from ui.launch import launch_options, read_credentials, warm_up_soon

log = logging.getLogger(__name__)


def launch_space(preset_name: str, models: dict[str, str], *, block: bool = True) -> object:
    """Build the page for ``preset_name`` with ``models`` (role -> preload line) and serve it."""
    from ui import build_demo

    logging.basicConfig(level=logging.INFO, format="stencil: %(message)s")
    chosen = preset(preset_name)
    hub_models = {role: HubModel.parse(_as_id(line)) for role, line in models.items()}
    settings = space_settings(chosen, hub_models)
    demo = build_demo(settings, queue_size=chosen.queue_size)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        prevent_thread_lock=True,
        **launch_options(read_credentials()),  # the hardened defaults; logins from the Space's STENCIL_AUTH secret
    )
    warm_up_soon(demo)
    log.info("Stencil (%s preset) serves at %s", chosen.name, demo.local_url)
    if block:
        demo.block_thread()
    return demo


def _as_id(line: str) -> str:
    """``owner/repo file,file`` (a preload line) -> ``owner/repo:file,file`` (what ``HubModel.parse`` reads)."""
    repo, _, files = line.partition(" ")
    return f"{repo}:{files}" if files else repo
