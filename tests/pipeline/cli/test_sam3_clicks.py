"""``stencil select`` and ``stencil apply`` with ``--segmenter sam3``: a tiny SAM 3 the tests save themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from cli_run import one_line_error, stencil  # noqa: E402
from tiny_transformers import save_sam3, save_sam3_full  # noqa: E402

from pipeline import recipe as rc  # noqa: E402
from pipeline.edits.background import SolidColor  # noqa: E402
from pipeline.io import images as imageio  # noqa: E402
from pipeline.recipe.codec import dumps  # noqa: E402
from pipeline.types import Point  # noqa: E402


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3_full(tmp_path_factory.mktemp("sam3") / "tiny-full")


def test_select_with_sam3_writes_the_best_candidate(tmp_path: Path, photo: np.ndarray, sam3_folder, capsys) -> None:
    from pipeline.select.sam3.points import load_point_selector

    source, out = tmp_path / "disc.png", tmp_path / "mask.png"
    imageio.save_image(source, photo)
    code = stencil("select", source, "--point", "64,48", "--segmenter", "sam3", "--sam3-model", sam3_folder,
                   "--candidate", "2", "-o", out)  # fmt: skip
    assert code == 0
    assert "SAM 3 clicks on cpu" in capsys.readouterr().err
    selector = load_point_selector(str(sam3_folder), device="cpu")
    expected = selector.select(selector.prepare(photo), [Point(64, 48)]).candidates[1].mask
    assert np.array_equal(imageio.load_mask(out) > 0.5, expected > 0.5)


def test_apply_replays_a_clicks_recipe_with_sam3(tmp_path: Path, photo: np.ndarray, sam3_folder) -> None:
    from pipeline.select.sam3.points import load_point_selector

    imageio.save_image(tmp_path / "shot.png", photo)
    clicks = rc.Clicks(size=(128, 96), points=(Point(64, 48), Point(4, 4, positive=False)))
    recipe = rc.Recipe((clicks, rc.ReplaceBackground(fill=SolidColor((10, 20, 30)))))
    (tmp_path / "r.json").write_text(dumps(recipe))
    code = stencil("apply", tmp_path / "r.json", tmp_path / "shot.png", "-o", tmp_path / "out.png",
                   "--mask-out", tmp_path / "mask.png", "--segmenter", "sam3", "--sam3-model", sam3_folder)  # fmt: skip
    assert code == 0
    selector = load_point_selector(str(sam3_folder), device="cpu")
    prepared = selector.prepare(photo)
    first = selector.select(prepared, [Point(64, 48)])
    expected = selector.select(prepared, list(clicks.points), previous=first).best.mask
    assert np.array_equal(imageio.load_mask(tmp_path / "mask.png") > 0.5, expected > 0.5)


def test_sam3_without_tracker_weights_is_one_line_and_writes_nothing(tmp_path: Path, photo, capsys) -> None:
    source, out = tmp_path / "disc.png", tmp_path / "mask.png"
    imageio.save_image(source, photo)
    detector_only = save_sam3(tmp_path / "detector-only")
    capsys.readouterr()  # what saving the test's model printed
    assert stencil("select", source, "--point", "64,48", "--segmenter", "sam3", "--sam3-model", detector_only,
                   "-o", out) == 2  # fmt: skip
    one_line_error(capsys, "without the point-prompt (tracker) weights", "hf download facebook/sam3")
    assert not out.exists()


def test_sam3_folder_with_files_missing_is_one_line(tmp_path: Path, photo, sam3_folder, capsys) -> None:
    source, out = tmp_path / "disc.png", tmp_path / "mask.png"
    imageio.save_image(source, photo)
    broken = tmp_path / "broken"
    shutil.copytree(sam3_folder, broken)
    (broken / "processor_config.json").unlink()
    capsys.readouterr()
    assert stencil("select", source, "--point", "64,48", "--segmenter", "sam3", "--sam3-model", broken,
                   "-o", out) == 2  # fmt: skip
    one_line_error(capsys, "missing *processor_config.json")
    assert not out.exists()
