"""``/inpaint`` and ``/background`` with guidance, through ``gradio_client`` against ``python app.py``.

The app runs a tiny SD 1.5 inpainting model and one tiny ControlNet per kind, saved by the test
and passed as ``--inpaint-model`` and ``--controlnet KIND=FOLDER``, as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from ui_server import running_app

pytest.importorskip("diffusers")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402
from tiny_diffusion import save_tiny_controlnet, save_tiny_pipeline  # noqa: E402

from pipeline.inpaint import ade20k  # noqa: E402

pytestmark = pytest.mark.slow
KINDS = ("seg", "canny", "mask", "image")
H, W = 96, 128


def photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    image = np.clip(225 + rng.normal(0, 3, (H, W, 3)), 0, 255).astype(np.uint8)
    image[30:66, 44:84] = (200, 40, 30)
    return image


def mask() -> np.ndarray:
    out = np.zeros((H, W), bool)
    out[30:66, 44:84] = True
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("guided-inputs")
    paths = {name: folder / f"{name}.png" for name in ("photo", "mask", "ids", "off", "control", "small")}
    PILImage.fromarray(photo()).save(paths["photo"])
    PILImage.fromarray(mask().astype(np.uint8) * 255).save(paths["mask"])
    ids = np.full((H, W), 1, np.uint8)
    ids[70:] = 4
    PILImage.fromarray(ids).save(paths["ids"])
    off = ade20k.palette()[ids].copy()
    off[:2, :2] = (9, 9, 9)
    PILImage.fromarray(off).save(paths["off"])
    PILImage.fromarray(np.fliplr(photo()).copy()).save(paths["control"])
    PILImage.fromarray(photo()[:40, :50].copy()).save(paths["small"])
    return paths


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("guided-app")
    model = save_tiny_pipeline(root / "inpaint")
    nets = [f"--controlnet={kind}={save_tiny_controlnet(root / kind, seed=i)}" for i, kind in enumerate(KINDS)]
    with running_app(root, "--inpaint-model", str(model), "--device", "cpu", *nets) as address:
        yield address


@pytest.fixture
def client(url: str, files: dict[str, Path]) -> Client:
    client = Client(url, verbose=False)
    client.predict(handle_file(str(files["photo"])), api_name="/load_image")
    client.predict(handle_file(str(files["mask"])), "replace", api_name="/import_mask")
    return client


def read(path: str) -> np.ndarray:
    return np.asarray(PILImage.open(path).convert("RGB"))


def inpaint(client: Client, *guidance: object, **named: object) -> tuple:
    base = ("a vase", "", "diffusion", 2, 1.0, 7.5, 5, 16)
    return client.predict(*base, *guidance, api_name="/inpaint", **named)


def test_the_old_call_shape_still_works(client: Client) -> None:
    result, _, _, recipe = inpaint(client)
    assert np.array_equal(read(result)[~mask()], photo()[~mask()])
    assert recipe["steps"][-1]["controls"] == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_control_kind(client: Client, files: dict[str, Path], kind: str) -> None:
    source = {"seg": files["ids"], "image": files["control"]}.get(kind)
    upload = handle_file(str(source)) if source else None
    result, _, _, recipe = inpaint(client, kind, 1.3, 0.0, 0.9, False, upload)
    assert np.array_equal(read(result)[~mask()], photo()[~mask()])
    (control,) = recipe["steps"][-1]["controls"]
    assert control["kind"] == kind and control["scale"] == 1.3 and control["end"] == 0.9


def test_a_guided_prompt_background_keeps_the_product(client: Client) -> None:
    result, _, _, recipe = client.predict(
        "Prompt", "#ffffff", "#000000", 10, None, "a kitchen", "diffusion", "mask", api_name="/background"
    )
    assert np.array_equal(read(result)[mask()], photo()[mask()])
    assert [c["kind"] for c in recipe["steps"][-1]["controls"]] == ["mask"]


@pytest.mark.parametrize(
    ("guidance", "said"),
    [(("image", 1.0, 0.0, 1.0, False, "small"), "control image is 50x40 but the photo is 128x96"),
     (("seg", 1.0, 0.0, 1.0, False, "off"), r"colour\(s\) outside the ADE20K palette: #090909 \(4 px\)"),
     (("canny", 2.5, 0.0, 1.0, False, None), "conditioning scale is 2.5; use 0 to 2"),
     (("depth", 1.0, 0.0, 1.0, False, None), "guidance 'depth' is not one of")],
)  # fmt: skip
def test_bad_guidance_is_one_clear_error_and_the_session_is_kept(
    client: Client, files: dict[str, Path], guidance: tuple, said: str
) -> None:
    *values, upload = guidance
    with pytest.raises(AppError, match=said):
        inpaint(client, *values, handle_file(str(files[upload])) if upload else None)
    result, _, _, _ = inpaint(client)  # the photo and mask are still there
    assert np.array_equal(read(result)[~mask()], photo()[~mask()])
