"""ControlNet guidance with tiny random SD 1.5 and SDXL models and ControlNets, saved and loaded like a user's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from tiny_diffusion import one_torch_thread, save_tiny_controlnet, save_tiny_pipeline  # noqa: E402, F401

from pipeline.edits import background, remove  # noqa: E402
from pipeline.errors import InvalidInput, ModelUnavailable  # noqa: E402
from pipeline.inpaint.classic import ClassicInpainter  # noqa: E402
from pipeline.inpaint.control import Control  # noqa: E402
from pipeline.inpaint.crop import CropOptions  # noqa: E402
from pipeline.inpaint.diffusion.controlnet import WrongFamily, parse_specs  # noqa: E402
from pipeline.inpaint.diffusion.loader import DiffusionInpainter, load_inpainter  # noqa: E402
from pipeline.inpaint.protocol import InpaintRequest, Prompting  # noqa: E402
from pipeline.masks import feather_outward  # noqa: E402
from pipeline.models import make_inpainter  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("controlnets")
    return {
        "sd15": save_tiny_pipeline(root / "sd15-inpaint"),
        "sdxl": save_tiny_pipeline(root / "sdxl-inpaint", "sdxl"),
        "sd15-net": save_tiny_controlnet(root / "sd15-net"),
        "sd15-net-2": save_tiny_controlnet(root / "sd15-net-2", seed=1),
        "sdxl-net": save_tiny_controlnet(root / "sdxl-net", "sdxl"),
    }


@pytest.fixture(scope="module")
def sd15(models: dict[str, Path]) -> DiffusionInpainter:
    nets = (("canny", str(models["sd15-net"])), ("mask", str(models["sd15-net-2"])))
    return load_inpainter(str(models["sd15"]), device="cpu", controlnets=nets)


def small_request(photo: np.ndarray, mask: np.ndarray, *controls: Control, seed: int = 3) -> InpaintRequest:
    return InpaintRequest(photo, mask, Prompting("a blue cup", seed=seed, steps=2), controls=controls)


def test_specs_name_a_kind_each() -> None:
    assert parse_specs(("seg=a/b", " canny = /x/y ")) == (("seg", "a/b"), ("canny", "/x/y"))
    with pytest.raises(InvalidInput, match="has no kind; write KIND=MODEL"):
        parse_specs(("lllyasviel/control_v11p_sd15_seg",))
    with pytest.raises(InvalidInput, match="'depth'.*not one of seg, canny, mask, image"):
        parse_specs(("depth=x",))
    with pytest.raises(InvalidInput, match="two ControlNets for seg"):
        parse_specs(("seg=a", "seg=b"))


def test_controlnets_load_through_the_users_path_in_the_models_dtype(sd15: DiffusionInpainter) -> None:
    assert sd15.control_kinds == ("canny", "mask")
    assert all(net.dtype == torch.float32 and net.device.type == "cpu" for net in sd15.controlnets.values())


def test_guidance_changes_the_fill_and_keeps_every_pixel_outside_the_mask(
    sd15: DiffusionInpainter, photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    plain = sd15.run(small_request(photo, disc_mask))
    guided = sd15.run(small_request(photo, disc_mask, Control(kind="canny", scale=2.0)))
    again = sd15.run(small_request(photo, disc_mask, Control(kind="canny", scale=2.0)))
    assert np.array_equal(guided.image, again.image)  # seeded: repeatable
    assert not np.array_equal(guided.image, plain.image)  # the ControlNet's residuals reach the UNet
    for run in (plain, guided):
        assert np.array_equal(run.image[disc_mask == 0], photo[disc_mask == 0])
    both = sd15.run(small_request(photo, disc_mask, Control(kind="canny"), Control(kind="mask", end=0.5)))
    assert np.array_equal(both.image[disc_mask == 0], photo[disc_mask == 0])


def test_guidance_keeps_the_loaded_dtype(models: dict[str, Path], photo: np.ndarray, disc_mask: np.ndarray) -> None:
    """Building the guided pipeline must not cast the shared modules (fp16 on CUDA) to float32."""
    engine = load_inpainter(str(models["sd15"]), device="cpu", controlnets=(("canny", str(models["sd15-net"])),))
    engine.pipe.to(torch.float64)
    engine.controlnets["canny"].to(torch.float64)
    run = engine.run(small_request(photo, disc_mask, Control(kind="canny")))
    assert np.array_equal(run.image[disc_mask == 0], photo[disc_mask == 0])
    assert engine.pipe.unet.dtype == torch.float64 and engine.pipe.vae.dtype == torch.float64
    assert engine.controlnets["canny"].dtype == torch.float64


def test_zero_scale_guidance_equals_the_plain_run(sd15: DiffusionInpainter, photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[10:40, 20:60] = 1.0
    crop = sd15.with_crop(CropOptions(mode="crop"))
    plain = crop.run(small_request(photo, mask))
    off = crop.run(small_request(photo, mask, Control(kind="canny", scale=0.0)))
    assert off.plan == plain.plan and off.plan.mode == "crop"
    assert np.abs(off.image.astype(int) - plain.image.astype(int)).max() <= 1


def test_a_kind_without_a_controlnet_is_a_clear_error(sd15: DiffusionInpainter, photo: np.ndarray) -> None:
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[10:20, 10:20] = 1.0
    seg = Control(kind="seg", picture=np.ones(photo.shape[:2], np.uint8))
    with pytest.raises(InvalidInput, match=r"guidance by seg needs a ControlNet.*has canny, mask.*--controlnet seg="):
        sd15.run(small_request(photo, mask, seg))


def test_sdxl_loads_an_sdxl_controlnet_and_guides(models: dict[str, Path], photo: np.ndarray) -> None:
    engine = load_inpainter(str(models["sdxl"]), device="cpu", controlnets=(("seg", str(models["sdxl-net"])),))
    ids = np.full(photo.shape[:2], 1, np.uint8)
    ids[60:] = 4
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[30:70, 40:90] = 1.0
    run = engine.run(small_request(photo, mask, Control(kind="seg", picture=ids)))
    assert np.array_equal(run.image[mask == 0], photo[mask == 0])


@pytest.mark.parametrize(
    ("model", "net", "said"),
    [("sd15", "sdxl-net", "an SDXL ControlNet but the inpainting model is SD 1.5"),
     ("sdxl", "sd15-net", "an SD 1.5 ControlNet but the inpainting model is SDXL")],
)  # fmt: skip
def test_a_controlnet_of_the_other_family_is_refused_at_load(
    models: dict[str, Path], model: str, net: str, said: str
) -> None:
    with pytest.raises(WrongFamily, match=said):
        load_inpainter(str(models[model]), device="cpu", controlnets=(("seg", str(models[net])),))


def test_missing_or_pickled_controlnets_say_what_to_do(models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_inpainter(str(models["sd15"]), device="cpu", controlnets=(("seg", str(tmp_path / "none.safetensors")),))
    with pytest.raises(ModelUnavailable, match="pickle"):
        load_inpainter(str(models["sd15"]), device="cpu", controlnets=(("seg", "net.ckpt"),))
    with pytest.raises(ModelUnavailable, match="cannot load ControlNet seg=.*hub is offline"):
        load_inpainter(str(models["sd15"]), device="cpu", controlnets=(("seg", "nobody/no-such-controlnet"),))


def test_a_single_safetensors_file_loads_with_its_config_beside_it(
    models: dict[str, Path], tmp_path: Path, photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    weights = lone / "seg-controlnet.safetensors"
    shutil.copy(models["sd15-net"] / "diffusion_pytorch_model.safetensors", weights)
    with pytest.raises(ModelUnavailable, match="a single file needs its config"):
        load_inpainter(str(models["sd15"]), device="cpu", controlnets=(("seg", str(weights)),))
    shutil.copy(models["sd15-net"] / "config.json", lone / "config.json")
    engine = load_inpainter(str(models["sd15"]), device="cpu", controlnets=(("seg", str(weights)),))
    ids = np.full(photo.shape[:2], 1, np.uint8)
    run = engine.run(small_request(photo, disc_mask, Control(kind="seg", picture=ids)))
    assert np.array_equal(run.image[disc_mask == 0], photo[disc_mask == 0])


def test_auto_does_not_hide_a_controlnet_of_the_wrong_family(models: dict[str, Path]) -> None:
    settings = Settings(inpaint_model=str(models["sdxl"]), device="cpu", controlnets=(f"seg={models['sd15-net']}",))
    with pytest.raises(WrongFamily, match="SD 1.5 ControlNet but the inpainting model is SDXL"):
        make_inpainter("auto", settings)


def test_settings_and_the_environment_reach_the_engine(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STENCIL_CONTROLNET", f"canny={models['sd15-net']},mask={models['sd15-net-2']}")
    settings = Settings(inpaint_model=str(models["sd15"]), device="cpu")
    assert settings.controlnets == (f"canny={models['sd15-net']}", f"mask={models['sd15-net-2']}")
    chosen = make_inpainter("diffusion", settings)
    assert "with ControlNet canny, mask" in chosen.reason
    assert chosen.backend.control_kinds == ("canny", "mask")  # type: ignore[attr-defined]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    box=st.tuples(st.integers(0, 90), st.integers(0, 60), st.integers(8, 60), st.integers(8, 40)),
    soft=st.booleans(),
    kind=st.sampled_from(["canny", "mask"]),
)
def test_the_promise_holds_with_guidance_on(
    sd15: DiffusionInpainter, photo: np.ndarray, box: tuple[int, int, int, int], soft: bool, kind: str
) -> None:
    """Inpaint: pixels outside the mask byte-identical; background: the product pixel-exact, guided."""
    x, y, w, h = box
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[y : y + h, x : x + w] = 1.0
    if soft:
        mask = feather_outward(mask, 3.0)
    control = (Control(kind=kind, scale=1.5),)  # type: ignore[arg-type]
    painted = remove.inpaint(photo, mask, sd15, prompting=Prompting("a stone", seed=1, steps=2), controls=control)
    assert np.array_equal(painted.image[mask == 0], photo[mask == 0])
    behind = background.replace_background(
        photo, mask, background.PromptBackground(Prompting("a beach", seed=2, steps=2)), inpainter=sd15,
        controls=control,
    )  # fmt: skip
    assert np.array_equal(behind.image[mask == 1.0], photo[mask == 1.0])


def test_guidance_needs_a_guiding_engine(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match="guidance by canny needs a ControlNet.*classic engine has none"):
        remove.inpaint(photo, disc_mask, ClassicInpainter(), prompting=Prompting(), controls=(Control(kind="canny"),))
    with pytest.raises(InvalidInput, match="steers a generated background only"):
        background.replace_background(
            photo, disc_mask, background.SolidColor((1, 2, 3)), controls=(Control(kind="canny"),)
        )
