"""Every API endpoint through ``gradio_client`` against ``python app.py`` with the classical backends."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from ui_server import running_app

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

pytestmark = pytest.mark.slow
DISC = (160, 120, 60)  # centre x, centre y, radius of the product in the 320x240 photo


def product_photo(width: int = 320, height: int = 240, disc: tuple[int, int, int] = DISC) -> np.ndarray:
    """A red disc product on a light grey, slightly noisy backdrop."""
    rng = np.random.default_rng(7)
    image = np.clip(228 + rng.normal(0, 2, (height, width, 3)), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    image[(xx - disc[0]) ** 2 + (yy - disc[1]) ** 2 <= disc[2] ** 2] = (200, 40, 30)
    return image


def disc_mask(width: int = 320, height: int = 240, disc: tuple[int, int, int] = DISC) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    return (xx - disc[0]) ** 2 + (yy - disc[1]) ** 2 <= disc[2] ** 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    paths = {
        "photo": folder / "photo.png",
        "small": folder / "small.png",
        "mask": folder / "mask.png",
        "wrong": folder / "wrong.png",
        "corrupt": folder / "corrupt.jpg",
        "empty": folder / "empty.png",
    }
    PILImage.fromarray(product_photo()).save(paths["photo"])
    PILImage.fromarray(product_photo(200, 150, (100, 75, 40))).save(paths["small"])
    PILImage.fromarray((disc_mask() * 255).astype(np.uint8)).save(paths["mask"])
    PILImage.fromarray(np.zeros((50, 60), np.uint8)).save(paths["wrong"])
    PILImage.fromarray(np.zeros((240, 320), np.uint8)).save(paths["empty"])
    paths["corrupt"].write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 4)
    return paths


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("app")) as address:
        yield address


@pytest.fixture
def client(url: str) -> Client:
    return Client(url, verbose=False)


def read(path: str) -> np.ndarray:
    return np.asarray(PILImage.open(path))


def selected(client: Client, files: dict[str, Path]) -> None:
    client.predict(handle_file(str(files["photo"])), api_name="/load_image")
    client.predict(handle_file(str(files["mask"])), "replace", api_name="/import_mask")


def test_load_and_select_by_points(client: Client, files: dict[str, Path]) -> None:
    info = client.predict(handle_file(str(files["photo"])), api_name="/load_image")
    assert info["width"] == 320 and info["height"] == 240
    mask_png, reply = client.predict("[[160, 120, 1]]", "", "replace", api_name="/select")
    mask = read(mask_png) > 127
    assert mask.shape == (240, 320) and mask[120, 160] and not mask[5, 5]
    truth = disc_mask()
    assert (mask & truth).sum() / (mask | truth).sum() > 0.8
    assert reply["candidates"] and reply["width"] == 320
    boxed, boxed_reply = client.predict("", "[95, 55, 226, 186]", "replace", api_name="/select")
    assert read(boxed)[120, 160] > 127
    # the candidates on offer are the latest selection's (their number depends on the prompt)
    other, _ = client.predict(len(boxed_reply["candidates"]) - 1, "replace", api_name="/choose_candidate")
    assert read(other).shape == (240, 320)


def test_colour_luminance_import_and_refine(client: Client, files: dict[str, Path]) -> None:
    client.predict(handle_file(str(files["photo"])), api_name="/load_image")
    colour, _ = client.predict("#c8281e", 12, "replace", api_name="/mask_from_color")
    assert read(colour)[120, 160] > 127 and read(colour)[5, 5] < 128
    dark, _ = client.predict(0.0, 0.5, "replace", api_name="/mask_from_luminance")
    assert read(dark)[120, 160] > 127 and read(dark)[5, 5] < 128
    imported, _ = client.predict(handle_file(str(files["mask"])), "replace", api_name="/import_mask")
    assert np.array_equal(read(imported) > 127, disc_mask())
    grown, info = client.predict(6, 0, False, False, 0, api_name="/refine")
    assert (read(grown) > 127).sum() > disc_mask().sum() and "Selection" in info["summary"]
    inverted, _ = client.predict(0, 0, True, False, 0, api_name="/refine")
    assert read(inverted)[120, 160] < 128 and read(inverted)[5, 5] > 127


def test_edits_keep_pixels_outside_the_mask(client: Client, files: dict[str, Path]) -> None:
    selected(client, files)
    client.predict(0, 0, False, False, 0, api_name="/refine")
    photo, truth = product_photo(), disc_mask()
    result, mask, cutout, recipe = client.predict(
        "Colour", "#00ff00", "#0000ff", 10, None, "", "auto", api_name="/background"
    )
    out = read(result)
    assert out.shape == (240, 320, 3) and np.array_equal(out[truth], photo[truth])
    assert (out[5, 5] == (0, 255, 0)).all()
    assert read(cutout).shape == (240, 320, 4) and recipe["steps"][-1]["step"] == "background"
    removed, used, _, _ = client.predict("auto", 1, api_name="/remove")
    outside = read(used) == 0
    assert np.array_equal(read(removed)[outside], photo[outside]) and not np.array_equal(read(removed), photo)
    painted, used, _, recipe = client.predict("a lamp", "", "classic", 5, 1.0, 7.5, 1, 32, api_name="/inpaint")
    assert np.array_equal(read(painted)[read(used) == 0], photo[read(used) == 0])
    assert recipe["steps"][-1]["prompting"]["prompt"] == "a lamp"
    wider, _, _, _ = client.predict(40, 40, 0, 0, "Sides only", "", "auto", 1, api_name="/outpaint")
    assert read(wider).shape == (240, 400, 3)
    assert client.predict(api_name="/use_result")["width"] == 400


def test_bad_inputs_give_clear_errors(client: Client, files: dict[str, Path]) -> None:
    with pytest.raises(AppError, match="(?i)corrupt|cannot|not .*image|decode"):
        client.predict(handle_file(str(files["corrupt"])), api_name="/load_image")
    client.predict(handle_file(str(files["photo"])), api_name="/load_image")
    with pytest.raises(AppError, match="60x50 but"):
        client.predict(handle_file(str(files["wrong"])), "replace", api_name="/import_mask")
    client.predict(handle_file(str(files["empty"])), "replace", api_name="/import_mask")
    with pytest.raises(AppError, match="mask is empty"):
        client.predict("auto", 1, api_name="/remove")
    with pytest.raises(AppError, match="outside the 320x240 photo"):
        client.predict("[[999, 5, 1]]", "", "replace", api_name="/select")
    with pytest.raises(AppError, match="JSON list"):
        client.predict("click here", "", "replace", api_name="/select")


def test_two_clients_keep_separate_state(url: str, files: dict[str, Path]) -> None:
    first, second = Client(url, verbose=False), Client(url, verbose=False)
    first.predict(handle_file(str(files["photo"])), api_name="/load_image")
    second.predict(handle_file(str(files["small"])), api_name="/load_image")
    shapes: dict[str, tuple[int, ...]] = {}

    def select(name: str, client: Client, points: str) -> None:
        shapes[name] = read(client.predict(points, "", "replace", api_name="/select")[0]).shape

    threads = [
        threading.Thread(target=select, args=("first", first, "[[160, 120, 1]]")),
        threading.Thread(target=select, args=("second", second, "[[100, 75, 1]]")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert shapes == {"first": (240, 320), "second": (150, 200)}


def test_api_lists_every_endpoint_and_rest_cannot_bypass_the_queue(client: Client, url: str) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    expected = {
        "/load_image",
        "/select",
        "/choose_candidate",
        "/mask_subject",
        "/mask_from_color",
        "/mask_from_luminance",
        "/import_mask",
        "/refine",
        "/remove",
        "/inpaint",
        "/background",
        "/outpaint",
        "/use_result",
        "/recipe",
        "/apply_recipe",
    }
    assert expected <= names
    request = urllib.request.Request(
        url + "gradio_api/run/select",
        data=json.dumps({"data": ["", "", ""]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=30)


def test_recipe_from_the_api_replays_identically_there_and_in_the_cli(
    client: Client, files: dict[str, Path], tmp_path: Path
) -> None:
    client.predict(handle_file(str(files["photo"])), api_name="/load_image")
    client.predict("#c8281e", 12, "replace", api_name="/mask_from_color")
    client.predict(2, 3, False, True, 0, api_name="/refine")
    result, mask, cutout, recipe = client.predict(
        "Gradient", "#ffffff", "#3366ff", 10, None, "", "classic", api_name="/background"
    )
    assert [s["step"] for s in recipe["steps"]] == ["color", "refine", "background"]
    assert client.predict(api_name="/recipe") == recipe  # the session's recipe is the shown result's
    again, again_mask, again_cutout, _ = client.predict(
        json.dumps(recipe), handle_file(str(files["photo"])), api_name="/apply_recipe"
    )
    assert np.array_equal(read(again), read(result)) and np.array_equal(read(again_mask), read(mask))
    assert np.array_equal(read(again_cutout), read(cutout))
    from pipeline.cli import main

    saved = tmp_path / "recipe.json"
    saved.write_text(json.dumps(recipe))
    assert main(["apply", str(saved), str(files["photo"]), "-o", str(tmp_path / "cli.png")]) == 0
    assert np.array_equal(read(str(tmp_path / "cli.png")), read(result))


def test_bad_recipes_are_refused_with_the_step_and_field(client: Client, files: dict[str, Path]) -> None:
    photo = handle_file(str(files["photo"]))
    bad = {"stencil_recipe": 2, "steps": [{"step": "refine", "grow_px": 5000}]}
    with pytest.raises(AppError, match=r"step 1 \(refine\).*grow_px"):
        client.predict(json.dumps(bad), photo, api_name="/apply_recipe")
    with pytest.raises(AppError, match="version 9"):
        client.predict(json.dumps({"stencil_recipe": 9, "steps": []}), photo, api_name="/apply_recipe")
    clicks = {"stencil_recipe": 2, "steps": [{"step": "clicks", "size": [10, 10], "points": [{"x": 1, "y": 1}]}]}
    with pytest.raises(AppError, match="10x10 photo but this one is 320x240"):
        client.predict(json.dumps(clicks), photo, api_name="/apply_recipe")
