"""Find by name through the real code: a tiny random SAM 3 saved by the test, loaded the user's way."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_transformers import save_sam3  # noqa: E402

from pipeline.errors import InvalidInput, ModelUnavailable  # noqa: E402
from pipeline.limits import MAX_NAME_CHARS  # noqa: E402
from pipeline.select.text.sam3 import check_text, find_model, load_text_finder  # noqa: E402


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3(tmp_path_factory.mktemp("sam3") / "tiny-sam3")


def test_a_saved_model_loads_from_its_folder_and_finds_instances_best_first(sam3_folder: Path, photo) -> None:
    finder = load_text_finder(str(sam3_folder), device="cpu")
    found = finder.find(photo, "red cup", threshold=0.0)
    assert 1 <= len(found) <= 8  # the tiny model has 8 queries
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    for candidate in found:
        assert candidate.mask.shape == photo.shape[:2] and candidate.mask.dtype == np.float32
        assert set(np.unique(candidate.mask)) <= {0.0, 1.0} and candidate.mask.any()
    assert finder.find(photo, "red cup", threshold=0.99) == ()  # nothing scores that high


def test_the_same_model_gives_the_same_masks(sam3_folder: Path, photo) -> None:
    first = load_text_finder(str(sam3_folder), device="cpu").find(photo, "bottle", threshold=0.0)
    again = load_text_finder(str(sam3_folder), device="cpu").find(photo, "bottle", threshold=0.0)
    assert [c.score for c in first] == [c.score for c in again]
    assert all(np.array_equal(a.mask, b.mask) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize(("text", "needle"), [("", "empty"), ("   \n", "empty"), ("x" * 10_000, "10,000 characters")])
def test_bad_text_is_one_clear_error(text: str, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        check_text(text)


def test_text_is_normalised_and_bounded() -> None:
    assert check_text("  red \n cup ") == "red cup"
    assert check_text("a" * MAX_NAME_CHARS) == "a" * MAX_NAME_CHARS


def test_a_folder_with_files_missing_says_which(sam3_folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(sam3_folder, broken)
    (broken / "tokenizer_config.json").unlink()
    with pytest.raises(ModelUnavailable, match="missing tokenizer_config.json"):
        load_text_finder(str(broken), device="cpu")
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_text_finder(str(tmp_path / "nowhere"), device="cpu")


def test_an_uncached_hub_id_is_unavailable_and_never_downloaded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert find_model(None) is None
    with pytest.raises(ModelUnavailable, match="hf download"):
        load_text_finder("someone/not-cached-sam3", device="cpu")
