"""Generated Spaces serve an edit through the same path a Space uses, and ZeroGPU refusals fall back.

Each preset is generated into a temporary folder and its ``app.py`` started from there (the
Space's own copy of Stencil, not this checkout) on loopback; ``spaces`` is installed, and off
Spaces its decorator does nothing, as on a Space without a GPU attached.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from ui_server import serving

from pipeline.errors import ModelUnavailable
from pipeline.recipe import Inpaint
from pipeline.space import write_space

gradio_client = pytest.importorskip("gradio_client")
spaces = pytest.importorskip("spaces")
from gradio_client import Client, handle_file  # noqa: E402

DISC = (80, 60, 30)


def product(tmp: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    image = np.full((120, 160, 3), 230, np.uint8)
    yy, xx = np.mgrid[0:120, 0:160]
    inside = (xx - DISC[0]) ** 2 + (yy - DISC[1]) ** 2 <= DISC[2] ** 2
    image[inside] = (200, 40, 30)
    path = tmp / "photo.png"
    PILImage.fromarray(image).save(path)
    return path, image, inside


@pytest.mark.slow
@pytest.mark.parametrize("hardware", ["cpu-basic", "zero-gpu"])
def test_generated_space_serves_an_edit(tmp_path: Path, hardware: str) -> None:
    folder = write_space(tmp_path / "space", hardware)
    photo, image, inside = product(tmp_path)
    with serving(tmp_path, [sys.executable, "app.py"], cwd=folder, python_path=str(folder)) as url:
        client = Client(url, verbose=False)
        client.predict(handle_file(str(photo)), api_name="/load_image")
        client.predict("#c8281e", 20, "replace", api_name="/mask_from_color")
        result, *_ = client.predict("Colour", "#00ff00", "#0000ff", 0, None, "", "auto", api_name="/background")
    out = np.asarray(PILImage.open(result))
    assert np.array_equal(out[inside], image[inside]) and (out[2, 2] == (0, 255, 0)).all()
    log = (tmp_path / "app.log").read_text()
    assert str(folder) in log or "Stencil" in log  # the Space's own copy ran (its log line names the preset)
    assert f"({hardware} preset)" in log


def quota_refusal(job: object, seconds: int) -> object:
    """What ``spaces.GPU`` raises when a visitor's ZeroGPU quota is spent (its own error helper)."""
    from spaces.zero.gradio import error

    raise error(
        "ZeroGPU quota exceeded",
        "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). Try again in 0:03:10. ",
    )


def test_a_zero_gpu_refusal_runs_the_edit_on_the_classical_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui_fakes import fake_services

    import ui.services as services_module
    from ui import cells, notebook
    from ui.state import Session

    services = fake_services()  # its "auto" engine paints the hole flat grey 128; the classical one does not
    image = np.full((120, 160, 3), 230, np.uint8)
    image[40:80, 60:100] = (200, 40, 30)
    session = notebook.load(services, image, "photo.png", Session())
    mask = np.zeros((120, 160), np.float32)
    mask[40:80, 60:100] = 1.0
    session = notebook.store_mask(session, mask, "mask", "replace")
    monkeypatch.setattr(services_module, "run_on_gpu", quota_refusal)
    warnings: list[str] = []
    monkeypatch.setattr(services_module, "tell_visitor", warnings.append)
    after = cells.run_edit(services, session, Inpaint(engine="auto"), cells.Output())
    assert warnings and "12 s of GPU time left" in warnings[0] and "0:03:10" in warnings[0]
    assert "classical engine" in warnings[0]
    assert "classic" in after.history[-1].caption  # the classical engine made the cell
    assert after.photo is not None and np.array_equal(after.photo.image, image)  # the photo is kept


def test_a_zero_gpu_refusal_without_fallback_says_what_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui_fakes import fake_services

    import ui.services as services_module

    services = fake_services()
    monkeypatch.setattr(services_module, "run_on_gpu", quota_refusal)
    with pytest.raises(ModelUnavailable, match="12 s of GPU time left, this step asks for 60 s"):
        services.run_model(lambda: 1)


def test_the_status_line_names_learned_packages_that_are_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from ui_fakes import fake_services

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "diffusers" else real(name, *a))
    status = fake_services().status
    assert "**Not installed:** diffusers" in status and "pip install diffusers" in status
    monkeypatch.undo()
    assert "Not installed" not in fake_services().status
