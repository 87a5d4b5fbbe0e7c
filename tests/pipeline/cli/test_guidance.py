"""``stencil inpaint | background --control ...`` with a tiny SD 1.5 model and ControlNets saved by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from tiny_diffusion import one_torch_thread, save_tiny_controlnet, save_tiny_pipeline  # noqa: E402, F401

from pipeline import recipe as recipes  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.inpaint import ade20k  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-models")
    return {
        "model": save_tiny_pipeline(root / "inpaint"),
        "sdxl-net": save_tiny_controlnet(root / "sdxl-net", "sdxl"),
        **{
            kind: save_tiny_controlnet(root / f"{kind}-net", seed=i)
            for i, kind in enumerate(("seg", "canny", "mask", "image"))
        },
    }


@pytest.fixture
def files(tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray) -> dict[str, Path]:
    paths = {"image": tmp_path / "shot.png", "mask": tmp_path / "shot_mask.png", "dir": tmp_path}
    PILImage.fromarray(photo).save(paths["image"])
    PILImage.fromarray((disc_mask * 255).astype(np.uint8)).save(paths["mask"])
    ids = np.full(photo.shape[:2], 1, np.uint8)  # wall
    ids[70:] = 4  # floor
    PILImage.fromarray(ids).save(tmp_path / "ids.png")
    colours = ade20k.palette()[ids].copy()
    PILImage.fromarray(colours).save(tmp_path / "colours.png")
    colours[0, :3] = (1, 2, 3)
    PILImage.fromarray(colours).save(tmp_path / "off-palette.png")
    PILImage.fromarray(np.flipud(photo).copy()).save(tmp_path / "control.png")
    PILImage.fromarray(photo[:50, :60].copy()).save(tmp_path / "small-control.png")
    paths.update(ids=tmp_path / "ids.png", colours=tmp_path / "colours.png", off=tmp_path / "off-palette.png")
    paths.update(control=tmp_path / "control.png", small=tmp_path / "small-control.png")
    return paths


def model_args(models: dict[str, Path], *kinds: str) -> list[str]:
    args = ["--engine", "diffusion", "--inpaint-model", str(models["model"]), "--device", "cpu"]
    for kind in kinds:
        args += ["--controlnet", f"{kind}={models[kind]}"]
    return args


def read(path: Path) -> np.ndarray:
    return np.asarray(PILImage.open(path).convert("RGB"))


@pytest.mark.parametrize(
    ("control", "kind"),
    [(["--control", "seg", "--seg-map", "{ids}"], "seg"), (["--control", "seg={colours}"], "seg"),
     (["--control", "canny", "--canny-low", "20", "--canny-high", "90"], "canny"), (["--control", "mask"], "mask"),
     (["--control", "{control}"], "image")],
)  # fmt: skip
def test_each_control_kind_inpaints_and_replays_the_same(
    models: dict[str, Path], files: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray,
    control: list[str], kind: str,
) -> None:  # fmt: skip
    out, saved = files["dir"] / "out.png", files["dir"] / "r.json"
    control = [c.format(**{k: str(v) for k, v in files.items()}) for c in control]
    args = ["inpaint", str(files["image"]), str(files["mask"]), "--prompt", "a plant", "--steps", "2", "--seed", "4",
            *control, "--control-scale", "1.5", "--control-end", "0.8", "-o", str(out),
            "--save-recipe", str(saved)]  # fmt: skip
    assert main([*args, *model_args(models, kind)]) == 0
    result = read(out)
    assert np.array_equal(result[disc_mask == 0], photo[disc_mask == 0])
    edit = recipes.loads(saved.read_text()).steps[-2]
    assert [c.kind for c in edit.controls] == [kind] and edit.controls[0].scale == 1.5 and edit.controls[0].end == 0.8
    again = files["dir"] / "again.png"
    assert main(["apply", str(saved), str(files["image"]), "-o", str(again), *model_args(models, kind)[2:]]) == 0
    assert np.array_equal(read(again), result)


def test_background_with_guidance_keeps_the_product_exact(
    models: dict[str, Path], files: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    out = files["dir"] / "bg.png"
    args = ["background", str(files["image"]), str(files["mask"]), "--prompt", "a beach", "--steps", "2",
            "--control", "mask", "--control", "canny", "-o", str(out),
            *model_args(models, "mask", "canny")]  # fmt: skip
    assert main(args) == 0
    assert np.array_equal(read(out)[disc_mask == 1], photo[disc_mask == 1])


@pytest.mark.parametrize(
    ("extra", "said"),
    [(["--control", "{small}"], "control image is 60x50 but the photo is 128x96"),
     (["--control", "seg={off}"], "colour(s) outside the ADE20K palette: #010203 (3 px)"),
     (["--control", "canny", "--control-scale", "3"], "conditioning scale is 3.0; use 0 to 2"),
     (["--control", "seg"], "--control seg needs the segmentation map"),
     (["--control", "depth.png"], "no such control image file"),
     (["--control", "canny", "--controlnet", "canny={sdxl-net}"], "SDXL ControlNet but the inpainting model is SD 1.5"),
     (["--control", "seg={colours}"], "guidance by seg needs a ControlNet")],
)  # fmt: skip
def test_bad_guidance_is_one_line_and_exit_2(
    models: dict[str, Path], files: dict[str, Path], capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    out = files["dir"] / "bad.png"
    paths = {**{k: str(v) for k, v in files.items()}, "sdxl-net": str(models["sdxl-net"])}
    extra = [e.format(**paths) for e in extra]
    nets = [] if "--controlnet" in extra else ["--controlnet", f"canny={models['canny']}", "--controlnet",
                                               f"image={models['image']}"]  # fmt: skip
    args = ["inpaint", str(files["image"]), str(files["mask"]), "--prompt", "x", "--steps", "2", *extra,
            "-o", str(out), *model_args(models), *nets]  # fmt: skip
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if line.startswith("stencil: error")]) == 1, err
    assert said in err[-1] and not out.exists()


def test_seg_unknown_maps_off_palette_colours_when_asked(
    models: dict[str, Path], files: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    out = files["dir"] / "mapped.png"
    args = ["inpaint", str(files["image"]), str(files["mask"]), "--prompt", "x", "--steps", "2",
            "--control", f"seg={files['off']}", "--seg-unknown", "-o", str(out),
            *model_args(models, "seg")]  # fmt: skip
    assert main(args) == 0
    assert np.array_equal(read(out)[disc_mask == 0], photo[disc_mask == 0])
