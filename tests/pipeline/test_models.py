"""Settings from the environment, and what `auto` picks and why, on a machine without weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.colors import parse_color, to_hex
from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.models import make_inpainter, make_segmenter, resolve_device
from pipeline.select.classic.selector import ClassicSelector
from pipeline.settings import Settings


@pytest.fixture
def empty_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("STENCIL_SAM_CHECKPOINT", "STENCIL_INPAINT_MODEL", "STENCIL_SAM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STENCIL_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return Settings(device="cpu")


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STENCIL_SAM_CHECKPOINT", str(tmp_path / "sam.pth"))
    monkeypatch.setenv("STENCIL_SAM_MODEL", "vit_h")
    monkeypatch.setenv("STENCIL_INPAINT_CONTEXT_PX", "64")
    monkeypatch.setenv("STENCIL_MODELS_DIR", str(tmp_path / "m"))
    settings = Settings()
    assert settings.sam_checkpoint == tmp_path / "sam.pth"
    assert settings.sam_model == "vit_h"
    assert settings.context_px == 64
    assert settings.models_dir == tmp_path / "m"
    assert settings.with_overrides(sam_model="vit_b", inpaint_model=None).sam_model == "vit_b"


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("STENCIL_SAM_MODEL", "vit_x", "STENCIL_SAM_MODEL"),
        ("STENCIL_INPAINT_CONTEXT_PX", "wide", "STENCIL_INPAINT_CONTEXT_PX"),
        ("STENCIL_INPAINT_CONTEXT_PX", "-3", "STENCIL_INPAINT_CONTEXT_PX"),
        ("STENCIL_SAM_CACHE_MB", "0", "STENCIL_SAM_CACHE_MB"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(InvalidInput, match=needle):
        Settings()


def test_auto_falls_back_to_classical_backends_and_says_why(empty_models: Settings) -> None:
    selector = make_segmenter("auto", empty_models)
    assert isinstance(selector.backend, ClassicSelector)
    assert "no SAM checkpoint" in selector.reason and "stencil download sam-vit-b" in selector.reason
    engine = make_inpainter("auto", empty_models)
    assert isinstance(engine.backend, ClassicInpainter)
    assert "--inpaint-model" in engine.reason


def test_asking_for_a_missing_model_is_an_error(empty_models: Settings, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="stencil download"):
        make_segmenter("sam", empty_models)
    with pytest.raises(ModelUnavailable, match="STENCIL_INPAINT_MODEL"):
        make_inpainter("diffusion", empty_models)
    missing = empty_models.with_overrides(inpaint_model=str(tmp_path / "nowhere"))
    assert "does not exist" in make_inpainter("auto", missing).reason


def test_unknown_backend_names_are_refused(empty_models: Settings) -> None:
    with pytest.raises(InvalidInput, match="auto, sam, sam3, classic"):
        make_segmenter("grabcut", empty_models)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="auto, diffusion, classic"):
        make_inpainter("opencv", empty_models)  # type: ignore[arg-type]


def test_cpu_is_chosen_when_asked_for() -> None:
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize(
    ("text", "rgb"),
    [("#1e90ff", (30, 144, 255)), ("1E90FF", (30, 144, 255)), ("#fff", (255, 255, 255)),
     ("#1e90ff80", (30, 144, 255)), ("30, 144, 255", (30, 144, 255)), ("rgba(30, 144, 255, 0.5)", (30, 144, 255)),
     ("White", (255, 255, 255))],
)  # fmt: skip
def test_colours_parse_from_every_notation(text: str, rgb: tuple[int, int, int]) -> None:
    assert parse_color(text) == rgb
    assert parse_color(to_hex(rgb)) == rgb


@pytest.mark.parametrize("text", ["", "#12345", "300,0,0", "rgb(1,2)", "mauve-ish"])
def test_bad_colours_say_how_to_write_one(text: str) -> None:
    with pytest.raises(InvalidInput, match="#RRGGBB"):
        parse_color(text)
