"""The subject finders: the classical extractor, and the rembg backend on a tiny ONNX model the test exports."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tiny_subject import NAMES, bright_square_photo, export_tiny_subject

from pipeline import masks
from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.masks.morphology import is_binary
from pipeline.models import make_subject
from pipeline.select.subject import SubjectFinder, gmm
from pipeline.select.subject.backdrop import fill_holes
from pipeline.select.subject.classic import (
    ClassicSubject,
    SubjectTuning,
    drop_small_regions,
    find_subject,
)
from pipeline.select.subject.upsample import guided_upsample
from pipeline.settings import Settings


def product_photo(width: int = 400, height: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """A teal bottle-like shape with a pale label on a warm paper backdrop with a soft gradient."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 25, height, dtype=np.float32)[:, None, None]
    photo = np.clip(np.array([225, 205, 170], np.float32) - ramp + rng.normal(0, 3, (height, width, 3)), 0, 255)
    truth = np.zeros((height, width), np.uint8)
    cv2.ellipse(truth, (width // 2, height // 2 + 20), (70, 100), 0, 0, 360, 1, -1)
    cv2.rectangle(truth, (width // 2 - 18, 20), (width // 2 + 18, 90), 1, -1)
    photo[truth > 0] = (30, 120, 130)
    label = np.zeros_like(truth)
    cv2.rectangle(label, (width // 2 - 40, height // 2), (width // 2 + 40, height // 2 + 50), 1, -1)
    photo[label > 0] = (220, 205, 175)  # the label is the backdrop's colour: a hole to fill
    return photo.astype(np.uint8), truth.astype(np.float32)


# ---------------------------------------------------------------- classical


def test_classic_finds_a_product_on_its_backdrop_with_no_clicks() -> None:
    photo, truth = product_photo()
    before = photo.copy()
    mask = ClassicSubject().find(photo)
    assert mask.shape == truth.shape and mask.dtype == np.float32 and is_binary(mask)
    assert masks.iou(mask, truth) > 0.95
    assert np.array_equal(photo, before)  # the photo is never modified
    assert np.array_equal(mask, find_subject(photo))  # the same photo gives the same mask


def test_classic_works_at_full_size_from_a_small_working_copy() -> None:
    photo, truth = product_photo(1200, 900)
    mask = find_subject(photo, SubjectTuning(work_side_px=200))
    assert mask.shape == (900, 1200)
    assert masks.iou(mask, truth) > 0.95


def test_classic_on_a_flat_photo_selects_nothing_rather_than_everything() -> None:
    flat = np.full((120, 160, 3), 128, np.uint8)
    assert find_subject(flat).sum() == 0


def test_classic_rejects_what_is_not_a_photo() -> None:
    with pytest.raises(InvalidInput):
        find_subject(np.zeros((10, 10), np.uint8))  # type: ignore[arg-type]


def test_small_regions_go_and_enclosed_holes_fill() -> None:
    subject = np.zeros((60, 60), bool)
    subject[10:50, 10:50] = True
    subject[25:35, 25:35] = False  # a hole: 100 px of a 1500 px subject
    subject[2:4, 55:57] = True  # a speck
    cleaned = drop_small_regions(subject, 0.05)
    assert not cleaned[2:4, 55:57].any() and cleaned[10:50, 10:50].sum() == 1500
    assert fill_holes(cleaned, 0.1)[25:35, 25:35].all()
    assert not fill_holes(cleaned, 0.05)[25:35, 25:35].any()  # a hole above the share stays
    assert not fill_holes(cleaned, 0.0)[25:35, 25:35].any()


def test_guided_upsample_keeps_the_size_and_snaps_to_the_photo_edge() -> None:
    photo = np.zeros((80, 80, 3), np.uint8)
    photo[:, 37:] = 255  # the true edge at column 37
    small = np.zeros((10, 10), np.float32)
    small[:, 5:] = 1.0  # the coarse edge at column 40
    up = guided_upsample(small, photo)
    assert up.shape == (80, 80) and is_binary(up)
    assert abs(int(up[40].argmax()) - 37) <= 1


def test_gmm_scores_its_own_colours_above_others() -> None:
    rng = np.random.default_rng(1)
    reds = rng.normal((200, 30, 30), 5, (500, 3)).astype(np.float32)
    blues = rng.normal((30, 30, 200), 5, (500, 3)).astype(np.float32)
    model = gmm.fit(reds, 3)
    assert gmm.log_likelihood(model, reds).mean() > gmm.log_likelihood(model, blues).mean() + 50


# ---------------------------------------------------------------- the choice of backend


def test_auto_is_classical_without_a_model_and_says_how_to_get_one(tmp_path: Path) -> None:
    chosen = make_subject("auto", Settings(subject_model=None, models_dir=tmp_path))
    assert isinstance(chosen.backend, ClassicSubject) and isinstance(chosen.backend, SubjectFinder)
    assert "classical" in chosen.reason and "stencil download birefnet-general" in chosen.reason
    with pytest.raises(ModelUnavailable, match="STENCIL_SUBJECT_MODEL"):
        make_subject("rembg", Settings(subject_model=None, models_dir=tmp_path))
    with pytest.raises(InvalidInput, match="auto, rembg, classic"):
        make_subject("sam", Settings())  # type: ignore[arg-type]


# ---------------------------------------------------------------- rembg


@pytest.fixture(scope="module")
def tiny_u2net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("rembg")
    pytest.importorskip("onnx")
    return export_tiny_subject(tmp_path_factory.mktemp("subject") / "my-u2net.onnx")


def test_rembg_runs_the_users_file_through_rembgs_session(tiny_u2net: Path, tmp_path: Path) -> None:
    chosen = make_subject("auto", Settings(subject_model=tiny_u2net, models_dir=tmp_path))
    assert chosen.backend.name == "rembg u2net" and str(tiny_u2net) in chosen.reason
    photo, truth = bright_square_photo()
    mask = chosen.backend.find(photo)
    assert mask.shape == truth.shape and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert masks.iou(masks.threshold(mask), truth) > 0.9


def test_rembg_finds_a_downloaded_model_in_the_models_folder(tiny_u2net: Path, tmp_path: Path) -> None:
    (tmp_path / "u2net.onnx").write_bytes(tiny_u2net.read_bytes())
    chosen = make_subject("auto", Settings(subject_model=None, models_dir=tmp_path))
    assert chosen.backend.name == "rembg u2net" and str(tmp_path / "u2net.onnx") in chosen.reason


def test_rembg_birefnet_at_its_own_input_size(tmp_path: Path) -> None:
    pytest.importorskip("rembg")
    pytest.importorskip("onnx")
    path = export_tiny_subject(tmp_path / "BiRefNet-tiny.onnx", side_px=1024, names=NAMES["birefnet"])
    finder = make_subject("rembg", Settings(subject_model=path)).backend
    assert finder.name == "rembg birefnet"
    photo, truth = bright_square_photo()
    assert masks.iou(masks.threshold(finder.find(photo)), truth) > 0.9


def test_a_file_that_is_not_onnx_is_one_clear_error_even_on_auto(tmp_path: Path) -> None:
    pytest.importorskip("rembg")
    fake = tmp_path / "u2net.onnx"
    fake.write_bytes(b"this is not a model")
    for kind in ("auto", "rembg"):
        with pytest.raises(InvalidInput, match="not an ONNX model"):
            make_subject(kind, Settings(subject_model=fake))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="does not exist"):
        make_subject("auto", Settings(subject_model=tmp_path / "missing.onnx"))


def test_a_model_with_the_wrong_input_shape_is_refused(tiny_u2net: Path, tmp_path: Path) -> None:
    wrong = export_tiny_subject(tmp_path / "isnet-small.onnx", side_px=320)  # ISNet takes 1024 px
    with pytest.raises(InvalidInput, match="takes 320x320 images but isnet models take 1024x1024"):
        make_subject("rembg", Settings(subject_model=wrong))
    unnamed = export_tiny_subject(tmp_path / "model.onnx", side_px=1024)
    with pytest.raises(InvalidInput, match="--subject-arch"):
        make_subject("rembg", Settings(subject_model=unnamed))
    assert make_subject("rembg", Settings(subject_model=unnamed, subject_arch="bria")).backend.name == "rembg bria"
