"""``stencil space``: both presets written, their front matter valid, requirements pinned, bad input refused."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
import yaml

from pipeline.cli.main import main
from pipeline.errors import InvalidInput
from pipeline.space import write_space
from pipeline.space.front_matter import read_front_matter
from pipeline.space.presets import MODEL_PACKAGES, HubModel
from pipeline.space.runtime import MAX_GPU_SECONDS, MIN_GPU_SECONDS, gpu_seconds


def requirement_names(folder: Path) -> dict[str, str]:
    lines = [line for line in (folder / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    return dict(line.split("==") for line in lines)


def test_cpu_basic_space_has_no_model_packages_and_pins_tested_versions(tmp_path: Path) -> None:
    folder = write_space(tmp_path / "cpu", "cpu-basic")
    pins = requirement_names(folder)
    assert not {name.lower() for name in pins} & {name.lower() for name in MODEL_PACKAGES}
    assert pins["gradio"] == importlib.metadata.version("gradio")
    assert pins["opencv-python-headless"] == importlib.metadata.version("opencv-python-headless")
    fields = read_front_matter((folder / "README.md").read_text())
    assert fields["suggested_hardware"] == "cpu-basic"
    assert fields["sdk"] == "gradio" and fields["sdk_version"] == importlib.metadata.version("gradio")
    assert fields["app_file"] == "app.py" and (folder / "app.py").is_file()
    assert "preload_from_hub" not in fields
    for package in ("pipeline", "ui", "examples"):
        assert (folder / package / "__init__.py").is_file()
    assert not list(folder.rglob("__pycache__"))


def test_zero_gpu_space_preloads_the_configured_models(tmp_path: Path) -> None:
    folder = write_space(tmp_path / "zero", "zero-gpu", {"inpaint": "someone/my-inpainting"})
    pins = requirement_names(folder)
    assert "torch" in pins and "spaces" in pins and "diffusers" in pins
    fields = read_front_matter((folder / "README.md").read_text())
    assert fields["suggested_hardware"] == "zero-a10g"
    assert "someone/my-inpainting" in fields["preload_from_hub"]
    assert any(line.startswith("facebook/sam3") for line in fields["preload_from_hub"])
    assert "ybelkada/segment-anything checkpoints/sam_vit_b_01ec64.pth" in fields["preload_from_hub"]
    assert "someone/my-inpainting" in (folder / "app.py").read_text()


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        (
            {"sdk": "gradio", "sdk_version": "6.0", "app_file": "app.py", "colour": "red"},
            "not a Spaces configuration field",
        ),
        ({"sdk": "gradio", "app_file": "app.py"}, "needs sdk_version"),
        ({"sdk": "gradio", "sdk_version": "6", "app_file": "a.py", "colorFrom": "teal"}, "colorFrom"),
        ({"sdk": "gradio", "sdk_version": "6", "app_file": "a.py", "suggested_hardware": "h100"}, "flavour"),
        ({"sdk": "gradio", "sdk_version": "6", "app_file": "a.py", "short_description": "x" * 61}, "60"),
        ({"sdk": "gradio", "sdk_version": "6", "app_file": "a.py", "preload_from_hub": ["not a repo"]}, "owner/repo"),
        ({"sdk": "gradio", "sdk_version": "6", "app_file": "a.py", "pinned": "no"}, "pinned must be a bool"),
    ],
)
def test_front_matter_check_names_what_is_wrong(fields: dict, complaint: str) -> None:
    readme = f"---\n{yaml.safe_dump(fields)}---\n# x\n"
    with pytest.raises(InvalidInput, match=complaint):
        read_front_matter(readme)


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    cases = [
        (["space", str(tmp_path / "a"), "--hardware", "tpu-pod"], "unknown hardware preset 'tpu-pod'"),
        (["space", str(tmp_path / "b"), "--hardware", "zero-gpu", "--model", "vae=x/y"], "no 'vae' model"),
        (["space", str(tmp_path / "c"), "--hardware", "cpu-basic", "--model", "inpaint=x/y"], "no models"),
        (
            ["space", str(tmp_path / "d"), "--hardware", "zero-gpu", "--model", "inpaint=not-an-id"],
            "not a Hub model id",
        ),
        (["space", str(taken)], "is not an empty folder"),
    ]
    for argv, complaint in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert complaint in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no half-written folder, no staging left
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]


def test_an_empty_out_dir_is_filled(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["space", str(tmp_path / "empty")]) == 0
    assert (tmp_path / "empty" / "README.md").is_file()


def test_gpu_seconds_grow_with_the_work_and_stay_in_zero_gpu_bounds() -> None:
    small = gpu_seconds(pixels=1_000_000)
    assert MIN_GPU_SECONDS <= small < gpu_seconds(pixels=12_000_000, steps=30) <= MAX_GPU_SECONDS
    assert gpu_seconds(pixels=10**9, steps=150) == MAX_GPU_SECONDS


def test_hub_model_parse() -> None:
    model = HubModel.parse("owner/repo:a/b.pth,c.json")
    assert model.repo == "owner/repo" and model.files == ("a/b.pth", "c.json")
    assert model.preload_line == "owner/repo a/b.pth,c.json"
    with pytest.raises(InvalidInput):
        HubModel.parse("owner/repo/extra")


def test_presets_queue_like_the_serving_default() -> None:
    from pipeline.space.presets import PRESETS
    from ui.launch import QUEUE_SIZE

    assert {p.queue_size for p in PRESETS.values()} == {QUEUE_SIZE}
