"""Start ``python app.py`` on 127.0.0.1 for the client and browser tests, with the real classical backends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(tmp: Path, *extra: str) -> Iterator[str]:
    """Run the app in a subprocess with no weights configured; yields its URL; stops it after."""
    with serving(tmp, [sys.executable, str(ROOT / "app.py"), *extra], cwd=ROOT) as url:
        yield url


@contextmanager
def serving(tmp: Path, command: list[str], *, cwd: Path, python_path: str | None = None) -> Iterator[str]:
    """Run ``command`` (a Stencil page that reads GRADIO_SERVER_PORT) from ``cwd`` on a free loopback
    port with no weights configured; yields its URL; stops it after. ``python_path`` replaces PYTHONPATH."""
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "STENCIL_MODELS_DIR": str(tmp / "models"),
        "GRADIO_TEMP_DIR": str(tmp / "gradio"),
    }
    env.pop("STENCIL_SAM_CHECKPOINT", None)
    env.pop("STENCIL_INPAINT_MODEL", None)
    env.pop("STENCIL_CONTROLNET", None)
    env.pop("STENCIL_SUBJECT_MODEL", None)
    env.pop("STENCIL_SAM3_MODEL", None)
    env.pop("STENCIL_MATTE_MODEL", None)
    if python_path is not None:
        env["PYTHONPATH"] = python_path
    env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port))  # app.py and a Space's app read these
    log = (tmp / "app.log").open("w")
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait(url, process, tmp / "app.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1.0)
    raise RuntimeError(f"app.py did not answer on {url} within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
