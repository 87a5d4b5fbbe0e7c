"""SAM 3 clicks through the real code: a tiny random SAM 3 saved in the published layout, loaded the user's way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_transformers import save_sam3, save_sam3_full  # noqa: E402

from pipeline.errors import InvalidInput, ModelUnavailable  # noqa: E402
from pipeline.models import make_segmenter  # noqa: E402
from pipeline.select.protocol import Segmenter  # noqa: E402
from pipeline.select.sam3.points import Sam3State, load_point_selector, tracker_source  # noqa: E402
from pipeline.select.text.sam3 import load_text_finder  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.types import Box, Point  # noqa: E402


@pytest.fixture(scope="module")
def full_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_sam3_full(tmp_path_factory.mktemp("sam3") / "tiny-sam3-full")


@pytest.fixture(scope="module")
def selector(full_folder: Path):
    return load_point_selector(str(full_folder), device="cpu")


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 60, (72, 100, 3), dtype=np.uint8)
    image[20:55, 30:80] = (220, 40, 40)
    return image


def _stock(selector, image, points, box=None, mask=None, multimask=True):
    """The documented transformers call: processor on image and prompts, model forward, post_process_masks."""
    import torch

    prompt = {}
    if points:
        prompt = {
            "input_points": [[[[p.x, p.y] for p in points]]],
            "input_labels": [[[int(p.positive) for p in points]]],
        }
    if box is not None:
        prompt["input_boxes"] = [[[box.x0, box.y0, box.x1, box.y1]]]
    inputs = selector.processor(images=image, return_tensors="pt", **prompt)
    with torch.inference_mode():
        out = selector.model(
            pixel_values=inputs["pixel_values"],
            input_masks=None if mask is None else torch.as_tensor(mask[None, None]),
            multimask_output=multimask,
            **{k: v for k, v in inputs.items() if k.startswith("input_")},
        )
    masks = selector.processor.post_process_masks(out.pred_masks, inputs["original_sizes"])[0][0].numpy()
    return masks, out.iou_scores[0, 0].numpy(), out.pred_masks[0, 0].numpy()


def test_a_click_gives_three_ranked_candidates_like_the_stock_call(selector, picture: np.ndarray) -> None:
    assert isinstance(selector, Segmenter) and selector.name == "sam3"
    prepared = selector.prepare(picture)
    assert prepared.size == (100, 72)
    selection = selector.select(prepared, [Point(50, 35)])
    assert len(selection.candidates) == 3
    scores = [c.score for c in selection.candidates]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    masks, iou, low_res = _stock(selector, picture, [Point(50, 35)])
    order = np.argsort(-iou, kind="stable")
    for candidate, index in zip(selection.candidates, order, strict=True):
        assert candidate.mask.shape == (72, 100) and candidate.mask.dtype == np.float32
        assert set(np.unique(candidate.mask)) <= {0.0, 1.0}
        assert candidate.score == pytest.approx(float(iou[index]), abs=1e-5)
        assert np.array_equal(candidate.mask > 0.5, masks[index])
    assert isinstance(selection.state, Sam3State)
    assert np.allclose(selection.state.low_res, low_res[order[0]], atol=1e-5)


def test_later_clicks_refine_from_the_previous_logits_and_reuse_the_embedding(selector, picture: np.ndarray) -> None:
    prepared = selector.prepare(picture)
    runs = selector.embeddings_run
    first = selector.select(prepared, [Point(50, 35)])
    again = selector.prepare(picture.copy())  # same pixels, another array: no second embedding
    assert selector.embeddings_run == runs and again.embeddings is prepared.embeddings
    clicks = [Point(50, 35), Point(5, 5, positive=False)]
    refined = selector.select(again, clicks, previous=first)
    assert len(refined.candidates) == 1  # several clicks: one mask
    _, iou, low_res = _stock(selector, picture, clicks, mask=first.state.low_res, multimask=False)
    assert np.allclose(refined.state.low_res, low_res[0], atol=1e-5)
    _, _, unrefined = _stock(selector, picture, clicks, multimask=False)
    assert not np.allclose(low_res[0], unrefined[0], atol=1e-5)  # the previous mask was really used
    selector.prepare(picture[::-1].copy())
    assert selector.embeddings_run == runs + 1


@pytest.mark.parametrize(("points", "box"), [([], Box(20, 10, 90, 60)), ([Point(50, 35)], Box(20, 10, 90, 60))])
def test_a_box_alone_or_with_clicks_gives_one_mask_like_the_stock_call(selector, picture, points, box) -> None:
    selection = selector.select(selector.prepare(picture), points, box)
    assert len(selection.candidates) == 1
    _, _, low_res = _stock(selector, picture, points, box, multimask=False)
    assert np.allclose(selection.state.low_res, low_res[0], atol=1e-5)


def test_bf16_weights_run_and_agree_with_fp32(selector, picture: np.ndarray) -> None:
    """What CUDA runs (bf16 weights, fp32 points and boxes), checked on the CPU."""
    import copy

    import torch

    from pipeline.select.sam3.points import Sam3PointSelector

    half = Sam3PointSelector(
        copy.deepcopy(selector.model).to(torch.bfloat16),
        selector.processor,
        device="cpu",
        source="bf16",
        cache_bytes=1 << 20,
    )
    prepared = half.prepare(picture)
    assert prepared.embeddings[-1].dtype == torch.bfloat16
    first = half.select(prepared, [Point(50, 35)])
    refined = half.select(prepared, [Point(50, 35), Point(5, 5, positive=False)], Box(20, 10, 90, 60), previous=first)
    assert len(first.candidates) == 3 and len(refined.candidates) == 1
    full = selector.select(selector.prepare(picture), [Point(50, 35)])
    assert [c.score for c in first.candidates] == pytest.approx([c.score for c in full.candidates], abs=0.02)


def test_bad_prompts_and_foreign_photos_are_clear_errors(selector, picture: np.ndarray) -> None:
    prepared = selector.prepare(picture)
    with pytest.raises(InvalidInput, match="outside the 100x72 photo"):
        selector.select(prepared, [Point(500, 5)])
    with pytest.raises(InvalidInput, match="nothing to select"):
        selector.select(prepared, [])
    with pytest.raises(InvalidInput, match="not prepared by this SAM 3"):
        selector.select(object(), [Point(5, 5)])  # type: ignore[arg-type]


def test_the_same_folder_serves_find_by_name(full_folder: Path, picture: np.ndarray) -> None:
    found = load_text_finder(str(full_folder), device="cpu").find(picture, "red box", threshold=0.0)
    assert found and all(c.mask.shape == (72, 100) for c in found)


def test_clicks_and_find_by_name_keep_one_backbone(full_folder: Path, picture: np.ndarray, selector) -> None:
    from pipeline.models import make_text_finder

    settings = Settings(sam3_model=str(full_folder), device="cpu")
    clicks = make_segmenter("sam3", settings).backend
    finder = make_text_finder("auto", settings).backend
    assert clicks.model.vision_encoder.backbone is finder.model.vision_encoder.backbone
    shared = clicks.select(clicks.prepare(picture), [Point(50, 35)])
    alone = selector.select(selector.prepare(picture), [Point(50, 35)])  # loaded by itself
    assert np.array_equal(shared.state.low_res, alone.state.low_res)


def test_a_detector_only_folder_is_refused_before_loading(tmp_path: Path) -> None:
    folder = save_sam3(tmp_path / "detector-only")
    with pytest.raises(ModelUnavailable, match="without the point-prompt .tracker. weights"):
        tracker_source(str(folder))


def test_a_folder_with_files_missing_says_which(full_folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(full_folder, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelUnavailable, match=r"missing \*\.safetensors"):
        load_point_selector(str(broken), device="cpu")
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_point_selector(str(tmp_path / "nowhere"), device="cpu")


def test_weights_that_do_not_fill_the_model_are_refused(full_folder: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    partial = tmp_path / "partial"
    shutil.copytree(full_folder, partial)
    weights = load_file(partial / "model.safetensors")
    kept = {k: v for k, v in weights.items() if not k.startswith("tracker_model.mask_decoder.")}
    save_file(kept, partial / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelUnavailable, match="lacks .* of the click model's weights"):
        load_point_selector(str(partial), device="cpu")


def test_an_uncached_hub_id_is_unavailable_and_never_downloaded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelUnavailable, match="no model is configured or cached"):
        tracker_source(None)
    with pytest.raises(ModelUnavailable, match="not in the local Hugging Face cache"):
        tracker_source("someone/not-cached-sam3")


def test_the_registry_gives_sam3_by_name_and_auto_keeps_to_sam_or_classic(full_folder: Path) -> None:
    settings = Settings(sam3_model=str(full_folder), sam_checkpoint=None, models_dir=full_folder / "none")
    chosen = make_segmenter("sam3", settings)
    assert chosen.backend.name == "sam3" and "SAM 3 clicks on cpu" in chosen.reason
    assert make_segmenter("sam3", settings).backend is chosen.backend  # loaded once
    assert make_segmenter("auto", settings).backend.name == "classic"
    config = json.loads((full_folder / "config.json").read_text())
    assert config["model_type"] == "sam3_video"
