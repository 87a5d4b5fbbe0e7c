"""The cpu-basic Space's requirements: they resolve without torch or CUDA wheels, install into a
fresh virtual environment, and the page's classical flow runs there (the way a CPU Space runs it).

Both tests install from the package registry, as a Space's build does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import venv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from ui_server import serving

from pipeline.space import write_space

pytestmark = pytest.mark.slow
FORBIDDEN = ("torch", "torchvision", "triton", "diffusers", "transformers", "segment-anything", "accelerate")


@pytest.fixture(scope="module")
def cpu_space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_space(tmp_path_factory.mktemp("cpu") / "space", "cpu-basic")


def test_cpu_requirements_resolve_without_torch_or_cuda(cpu_space: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--disable-pip-version-check", "--report", str(report), "-r", str(cpu_space / "requirements.txt")],
        check=True,
        timeout=600,
    )  # fmt: skip
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert "gradio" in names and "opencv-python-headless" in names
    assert not names & set(FORBIDDEN), names & set(FORBIDDEN)
    assert not [name for name in names if name.startswith(("nvidia-", "cuda-"))]


def test_classical_flow_runs_in_a_venv_built_from_the_cpu_requirements(cpu_space: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    started = time.monotonic()
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
         str(cpu_space / "requirements.txt")],
        check=True,
        timeout=900,
    )  # fmt: skip
    print(f"cpu-basic requirements installed in {time.monotonic() - started:.0f} s")
    missing = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print([m for m in ('torch', 'diffusers') if u.find_spec(m)])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert missing.stdout.strip() == "[]"

    image = np.full((90, 120, 3), 235, np.uint8)
    image[30:60, 40:80] = (30, 90, 200)
    photo = tmp_path / "photo.png"
    PILImage.fromarray(image).save(photo)
    from gradio_client import Client, handle_file

    with serving(tmp_path, [str(python), "app.py"], cwd=cpu_space, python_path=str(cpu_space)) as url:
        client = Client(url, verbose=False)
        client.predict(handle_file(str(photo)), api_name="/load_image")
        client.predict("#1e5ac8", 20, "replace", api_name="/mask_from_color")
        result, *_ = client.predict("Colour", "#ffffff", "#ffffff", 0, None, "", "auto", api_name="/background")
    out = np.asarray(PILImage.open(result))
    assert np.array_equal(out[30:60, 40:80], image[30:60, 40:80]) and (out[0, 0] == 255).all()
