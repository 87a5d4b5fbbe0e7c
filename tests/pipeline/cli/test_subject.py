"""``stencil mask --subject``, ``stencil apply`` of a subject recipe, and ``stencil download`` of a subject model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import one_line_error, stencil
from PIL import Image as PILImage
from tiny_subject import bright_square_photo, export_tiny_subject

from pipeline import masks
from pipeline.io import images as imageio
from pipeline.select.subject import learned


@pytest.fixture
def square(tmp_path: Path) -> tuple[Path, np.ndarray]:
    photo, truth = bright_square_photo()
    path = tmp_path / "square.png"
    PILImage.fromarray(photo).save(path)
    return path, truth


def test_mask_subject_writes_the_mask_and_a_recipe_that_replays_it(
    square: tuple[Path, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("STENCIL_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.delenv("STENCIL_SUBJECT_MODEL", raising=False)
    path, truth = square
    out, recipe = tmp_path / "mask.png", tmp_path / "r.json"
    assert stencil("mask", path, "--subject", "-o", out, "--save-recipe", recipe) == 0
    assert "classical subject extractor" in capsys.readouterr().err  # which finder, and why
    mask = imageio.load_mask(out)
    assert masks.iou(mask, truth) > 0.9
    assert json.loads(recipe.read_text())["steps"] == [{"step": "subject", "engine": "auto", "combine": "replace"}]
    again = tmp_path / "again.png"
    assert stencil("apply", recipe, path, "--mask-out", again, "-o", tmp_path / "out.png") == 0
    assert np.array_equal(imageio.load_mask(again), mask)


def test_mask_subject_with_the_users_onnx_model(square: tuple[Path, np.ndarray], tmp_path: Path, capsys) -> None:
    pytest.importorskip("rembg")
    pytest.importorskip("onnx")
    path, truth = square
    model = export_tiny_subject(tmp_path / "u2net-tiny.onnx")
    out = tmp_path / "mask.png"
    assert stencil("mask", path, "--subject", "--subject-model", model, "--subject-engine", "rembg", "-o", out) == 0
    assert "rembg u2net" in capsys.readouterr().err
    assert masks.iou(masks.threshold(imageio.load_mask(out)), truth) > 0.9


def test_a_bad_subject_model_exits_2_with_one_line_and_writes_nothing(
    square: tuple[Path, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rembg")
    path, _ = square
    fake = tmp_path / "birefnet.onnx"
    fake.write_text("not a model")
    out = tmp_path / "mask.png"
    assert stencil("mask", path, "--subject", "--subject-model", fake, "-o", out) == 2
    one_line_error(capsys, "not an ONNX model", "BiRefNet")
    assert not out.exists()
    assert stencil("mask", path, "--subject", "--subject-engine", "sam", "-o", out) == 2
    assert "invalid choice" in capsys.readouterr().err and not out.exists()


def test_download_lists_and_fetches_a_subject_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from pipeline.io.download import Artifact

    served = tmp_path / "served"
    served.mkdir()
    payload = b"\x08\x01" + bytes(range(256)) * 5000
    (served / "u2net.onnx").write_bytes(payload)

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/u2net.onnx"
        artifact = Artifact("u2net", url, "u2net.onnx", hashlib.sha256(payload).hexdigest())
        monkeypatch.setitem(learned.KNOWN_MODELS, "u2net", (artifact, "u2net"))
        models = tmp_path / "models"
        assert stencil("download", "u2net", "--models-dir", models) == 0
        assert (models / "u2net.onnx").read_bytes() == payload
        assert "u2net" in capsys.readouterr().err  # the progress bar
        assert learned.find_model(None, models) == models / "u2net.onnx"  # "auto" now finds it
    finally:
        httpd.shutdown()
        httpd.server_close()
    for name in ("birefnet-general", "isnet-general-use"):
        assert name in learned.KNOWN_MODELS and len(learned.KNOWN_MODELS[name][0].sha256) == 64
