"""The ``TextPrompt`` step and the edge matte's engine in recipes: JSON, replay with a tiny SAM 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from tiny_transformers import save_sam3, save_vitmatte  # noqa: E402

from pipeline import recipe  # noqa: E402
from pipeline.errors import InvalidInput, ModelUnavailable  # noqa: E402
from pipeline.recipe import Engines, Recipe, Refine, TextPrompt  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3(tmp_path_factory.mktemp("sam3") / "tiny")


def engines_with(folder: Path) -> Engines:
    return Engines(Settings(device="cpu", sam3_model=str(folder)))


def test_text_steps_round_trip_through_json() -> None:
    steps = Recipe(
        (TextPrompt(text="red cup", instances=(0, 2), threshold=0.3), Refine(matte_px=6, matte_engine="classic"))
    )
    assert recipe.loads(recipe.dumps(steps)) == steps
    assert recipe.loads(recipe.dumps(Recipe((TextPrompt(text="bottle"),)))).steps[0].instances is None


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"text": ""}, "empty"),
        ({"text": "x" * 10_000}, "10,000 characters"),
        ({"text": "cup", "instances": ()}, "at least one"),
        ({"text": "cup", "instances": (0, 0)}, "repeat"),
        ({"text": "cup", "instances": (16,)}, "instance"),
        ({"text": "cup", "threshold": 1.5}, "threshold"),
    ],
)
def test_bad_text_steps_are_refused(fields: dict, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        TextPrompt(**fields)


def test_all_instances_are_the_union_of_each_one(sam3_folder: Path, photo) -> None:
    engines = engines_with(sam3_folder)
    every = recipe.run(Recipe((TextPrompt(text="cup", threshold=0.0),)), photo, engines=engines).mask
    finder = engines.chosen_text_finder().backend
    found = finder.find(photo, "cup", threshold=0.0)
    assert np.array_equal(every, np.maximum.reduce([c.mask for c in found]))
    first = recipe.run(Recipe((TextPrompt(text="cup", instances=(0,), threshold=0.0),)), photo, engines=engines).mask
    assert np.array_equal(first, found[0].mask)


def test_no_match_and_a_missing_instance_are_clear_errors(sam3_folder: Path, photo) -> None:
    engines = engines_with(sam3_folder)
    with pytest.raises(InvalidInput, match=r"step 1 \(text\): nothing in this photo matches 'cup'"):
        recipe.run(Recipe((TextPrompt(text="cup", threshold=0.99),)), photo, engines=engines)
    with pytest.raises(InvalidInput, match="instance 15 of 'cup' does not exist"):
        recipe.run(Recipe((TextPrompt(text="cup", instances=(15,), threshold=0.0),)), photo, engines=engines)


def test_without_sam3_the_step_says_how_to_get_it(tmp_path: Path, monkeypatch, photo) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("STENCIL_SAM3_MODEL", raising=False)
    with pytest.raises(ModelUnavailable, match="hf download facebook/sam3"):
        recipe.run(Recipe((TextPrompt(text="cup"),)), photo, engines=Engines(Settings(device="cpu")))


def test_a_refine_with_the_vitmatte_engine_runs_the_users_model(tmp_path: Path, photo, disc_mask) -> None:
    folder = save_vitmatte(tmp_path / "vitmatte")
    engines = Engines(Settings(device="cpu", matte_model=str(folder)))
    steps = Recipe(
        (recipe.StoredMask(levels=(disc_mask * 255).astype(np.uint8)), Refine(matte_px=4, matte_engine="vitmatte"))
    )
    mask = recipe.run(steps, photo, engines=engines).mask
    assert engines.chosen_matter("auto").reason.startswith("ViTMatte on cpu")
    soft = (mask > 0) & (mask < 1)
    assert soft.any() and np.all(np.abs(mask[soft] - 0.5) < 0.01)  # the random tiny model says 0.5
