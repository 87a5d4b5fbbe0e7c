"""``app.py``: flags -> Settings, ``--auth`` parsing, the status line, and ``--share`` without network."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest
from ui_fakes import fake_services
from ui_server import running_app

import app
from pipeline.errors import InvalidInput
from ui.page import build_demo


def test_flags_parse_with_local_defaults() -> None:
    args = app.parse_args([])
    assert args.host == "127.0.0.1" and args.share is False and args.device == "auto" and args.queue_size == 64
    args = app.parse_args(
        [
            "--device",
            "cpu",
            "--sam-checkpoint",
            "sam.pth",
            "--sam-model",
            "vit_l",
            "--inpaint-model",
            "some/model",
            "--max-side",
            "4096",
            "--queue-size",
            "4",
        ]
    )
    assert args.sam_checkpoint == Path("sam.pth") and args.sam_model == "vit_l" and args.max_side == 4096


def test_auth_comes_from_a_file_or_the_environment_and_inline_passwords_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("STENCIL_AUTH", raising=False)
    monkeypatch.delenv("STENCIL_AUTH_FILE", raising=False)
    assert app.read_auth(app.parse_args([])) is None
    accounts = tmp_path / "users.txt"
    accounts.write_text("# team\nann:one\n\nbob:two:with-colon\n")
    assert app.read_auth(app.parse_args(["--auth-file", str(accounts)])) == [("ann", "one"), ("bob", "two:with-colon")]
    assert app.read_auth(app.parse_args(["--auth", str(accounts)])) == [("ann", "one"), ("bob", "two:with-colon")]
    monkeypatch.setenv("STENCIL_AUTH", "cy:three")
    assert app.read_auth(app.parse_args([])) == [("cy", "three")]
    monkeypatch.setenv("STENCIL_AUTH_FILE", str(accounts))
    assert app.read_auth(app.parse_args([]))[0] == ("ann", "one")  # the file wins over the variable
    with caplog.at_level("WARNING", logger="stencil.app"):
        assert app.read_auth(app.parse_args(["--auth", "ann:secret"])) == [("ann", "secret")]
    assert "process list" in caplog.text
    with pytest.raises(InvalidInput, match="USER:PASS"):
        app.read_auth(app.parse_args(["--auth", "no-colon"]))


def test_status_line_names_device_selector_engine_and_why() -> None:
    services = fake_services()
    assert "cpu" in services.status and "fake selector: test" in services.status
    demo = build_demo(services=services)
    assert demo.config is not None
    api_names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"select", "background", "remove", "inpaint", "outpaint", "refine"} <= api_names


@pytest.mark.slow
def test_share_without_network_warns_and_keeps_serving(tmp_path: Path) -> None:
    with running_app(tmp_path, "--share") as url:
        # the page is served while gradio is still trying to open the tunnel: wait for the warning
        deadline = time.monotonic() + 90
        log = ""
        while "still served locally" not in log and time.monotonic() < deadline:
            time.sleep(0.5)
            log = (tmp_path / "app.log").read_text()
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
    assert "--share could not open a public link" in log and "still served locally" in log


def test_classical_backends_leave_torch_unloaded(tmp_path: Path) -> None:
    """Without weights nothing runs on a device, so the app does not import torch (about 500 MB)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from pipeline.settings import Settings; from ui.services import make_services;"
        "s = make_services(Settings()); print('torch' in sys.modules, s.device)"
    )
    env = {**os.environ, "STENCIL_MODELS_DIR": str(tmp_path)}
    env.pop("STENCIL_SAM_CHECKPOINT", None)
    env.pop("STENCIL_INPAINT_MODEL", None)
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False cpu (classical backends)"
