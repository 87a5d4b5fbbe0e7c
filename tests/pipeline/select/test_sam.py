"""SAM through the real code: a tiny random SAM saved as a checkpoint and loaded the user's way."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("segment_anything")

from segment_anything import SamPredictor  # noqa: E402
from segment_anything.build_sam import _build_sam  # noqa: E402

from pipeline.errors import InvalidInput, ModelUnavailable  # noqa: E402
from pipeline.models import make_segmenter  # noqa: E402
from pipeline.select.protocol import Segmenter  # noqa: E402
from pipeline.select.sam import embed as sam_embed  # noqa: E402
from pipeline.select.sam import segmenter as sam_module  # noqa: E402
from pipeline.select.sam.cache import EmbeddingCache  # noqa: E402
from pipeline.select.sam.fast import binary_masks  # noqa: E402
from pipeline.select.sam.segmenter import (  # noqa: E402
    SamSegmenter,
    SamState,
    find_checkpoint,
    load_segmenter,
    missing_checkpoint_message,
)
from pipeline.settings import Settings  # noqa: E402
from pipeline.types import Box, Point  # noqa: E402

HINT = "--sam-checkpoint / STENCIL_SAM_CHECKPOINT"


def _tiny_sam(seed: int = 0, embed_dim: int = 32):
    torch.manual_seed(seed)
    model = _build_sam(
        encoder_embed_dim=embed_dim, encoder_depth=2, encoder_num_heads=2, encoder_global_attn_indexes=[1]
    )
    with torch.no_grad():  # non-zero relative positions, so their code path is checked too
        for block in model.image_encoder.blocks:
            block.attn.rel_pos_h.normal_(0.0, 0.3)
            block.attn.rel_pos_w.normal_(0.0, 0.3)
    return model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sam") / "tiny_sam.pth"
    torch.save(_tiny_sam().state_dict(), path)
    return path


@pytest.fixture(scope="module")
def segmenter(checkpoint: Path) -> SamSegmenter:
    return load_segmenter(checkpoint, model_type="custom", device="cpu")


@pytest.fixture(scope="module")
def stock(segmenter: SamSegmenter, photo_module: np.ndarray) -> SamPredictor:
    predictor = SamPredictor(segmenter.sam)
    predictor.set_image(photo_module)
    return predictor


@pytest.fixture(scope="module")
def photo_module() -> np.ndarray:
    rng = np.random.default_rng(7)
    image = np.full((96, 128, 3), 220, np.uint8)
    yy, xx = np.mgrid[0:96, 0:128]
    image[(xx - 64) ** 2 + (yy - 48) ** 2 <= 900] = (200, 40, 30)
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def test_click_gives_three_ranked_full_size_candidates(segmenter: SamSegmenter, photo_module: np.ndarray) -> None:
    assert isinstance(segmenter, Segmenter)
    prepared = segmenter.prepare(photo_module)
    assert prepared.size == (128, 96)
    selection = segmenter.select(prepared, [Point(64, 48)])
    assert len(selection.candidates) == 3
    scores = [c.score for c in selection.candidates]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    for candidate in selection.candidates:
        assert candidate.mask.shape == (96, 128) and candidate.mask.dtype == np.float32
        assert set(np.unique(candidate.mask)) <= {0.0, 1.0}
    assert isinstance(selection.state, SamState) and selection.state.low_res.shape == (256, 256)

    runs = segmenter.embeddings_run
    again = segmenter.prepare(photo_module.copy())  # same pixels, another array: no second embedding
    assert segmenter.embeddings_run == runs and again.features is prepared.features
    two = segmenter.select(again, [Point(64, 48), Point(5, 5, positive=False)], previous=selection)
    assert len(two.candidates) == 1  # several clicks: one refined mask, as SAM's demo does
    segmenter.prepare(photo_module[::-1].copy())
    assert segmenter.embeddings_run == runs + 1


def test_embedding_matches_stock(segmenter: SamSegmenter, stock: SamPredictor, photo_module: np.ndarray) -> None:
    ours = sam_embed.embed(segmenter.sam, photo_module)
    error = float((ours - stock.features).norm() / stock.features.norm())
    assert error < 1e-4


@pytest.mark.parametrize(
    ("points", "box", "refine"),
    [
        ([Point(64, 48)], None, False),
        ([Point(64, 48), Point(10, 80, positive=False)], None, True),
        ([], Box(30, 15, 100, 85), False),
        ([Point(64, 48)], Box(30, 15, 100, 85), True),
        ([Point(20 + 5 * i, 48, positive=i % 3 > 0) for i in range(14)], None, True),  # block 1 unfolds its t2i
        ([Point(10 + 3 * i, 30 + i, positive=i % 4 > 0) for i in range(30)], None, True),  # nothing folded
        ([Point(10 + 3 * i, 30 + i, positive=i % 4 > 0) for i in range(30)], None, False),
    ],
)
def test_fast_decoder_matches_stock_predictor(
    segmenter: SamSegmenter,
    stock: SamPredictor,
    photo_module: np.ndarray,
    points: list[Point],
    box: Box | None,
    refine: bool,
) -> None:
    prepared = segmenter.prepare(photo_module)
    previous = segmenter.select(prepared, [Point(60, 40)]) if refine else None
    selection = segmenter.select(prepared, points, box, previous=previous)
    multimask = len(points) == 1 and box is None
    masks, iou, low_res = stock.predict(
        np.array([[p.x, p.y] for p in points]) if points else None,
        np.array([int(p.positive) for p in points]) if points else None,
        box=np.array([box.x0, box.y0, box.x1, box.y1]) if box else None,
        mask_input=previous.state.low_res[None] if previous else None,
        multimask_output=multimask,
    )
    order = np.argsort(-iou, kind="stable")
    assert len(selection.candidates) == len(order)
    for candidate, i in zip(selection.candidates, order, strict=True):
        assert _iou(candidate.mask > 0.5, masks[i]) >= 0.99
        assert candidate.score == pytest.approx(float(np.clip(iou[i], 0, 1)), abs=1e-5)
    np.testing.assert_allclose(selection.state.low_res, low_res[order[0]], atol=1e-4, rtol=1e-4)


def test_upsampling_matches_stock_postprocess(segmenter: SamSegmenter) -> None:
    torch.manual_seed(3)
    low = torch.nn.functional.interpolate(torch.randn(1, 3, 16, 16), (256, 256), mode="bilinear")
    for original in [(333, 517), (1200, 900), (64, 64)]:
        input_hw = sam_embed.input_size(*original)
        ours = binary_masks(low[0].numpy(), input_hw, original)
        theirs = segmenter.sam.postprocess_masks(low, input_hw, original)[0].numpy() > 0
        assert ours.shape == (3, *original) and ours.dtype == np.float32
        for a, b in zip(ours, theirs, strict=True):
            assert _iou(a > 0.5, b) >= 0.99


def test_concurrent_prepare_of_one_photo_embeds_once(
    segmenter: SamSegmenter, photo_module: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_embed = sam_embed.embed

    def slow_embed(model, image):
        calls.append(1)
        time.sleep(0.3)  # long enough for every thread to arrive while this one is in flight
        return real_embed(model, image)

    monkeypatch.setattr(sam_embed, "embed", slow_embed)
    image = np.ascontiguousarray(photo_module[:, ::-1])
    results = []
    threads = [threading.Thread(target=lambda: results.append(segmenter.prepare(image))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 4
    assert all(r.features is results[0].features for r in results)


def test_cache_evicts_under_the_memory_cap(checkpoint: Path, photo_module: np.ndarray) -> None:
    small = load_segmenter(checkpoint, model_type="custom", device="cpu", cache_mb=15)  # room for one photo
    a, b = photo_module, photo_module[::-1].copy()
    small.prepare(a)
    small.prepare(b)  # evicts a
    assert small.embeddings_run == 2 and len(small.cache) == 1 and small.cache.bytes_used <= 15 << 20
    small.prepare(b)
    assert small.embeddings_run == 2
    small.prepare(a)
    assert small.embeddings_run == 3


def test_embedding_cache_unit() -> None:
    cache: EmbeddingCache[bytes] = EmbeddingCache(max_bytes=10, size_of=len)
    assert cache.get_or_compute("a", lambda: b"12345") == b"12345"
    cache.get_or_compute("b", lambda: b"12345")
    cache.get_or_compute("a", lambda: b"xxxxx")  # hit: refreshes a
    cache.get_or_compute("c", lambda: b"123")
    assert "b" not in cache and "a" in cache and "c" in cache and cache.computed == 3
    cache.get_or_compute("big", lambda: b"x" * 50)  # over budget alone: kept, the rest goes
    assert len(cache) == 1 and "big" in cache
    with pytest.raises(ZeroDivisionError):
        cache.get_or_compute("bad", lambda: 1 // 0)  # type: ignore[arg-type, return-value]
    assert "bad" not in cache and cache.get_or_compute("bad", lambda: b"ok") == b"ok"


def test_missing_corrupt_and_mismatched_checkpoints(checkpoint: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pth"
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(checkpoint.read_bytes()[:5000])
    for path, model_type, what in [
        (missing, "vit_b", "does not exist"),
        (corrupt, "vit_b", "cannot be read"),
        (checkpoint, "vit_b", "does not fit model vit_b"),  # tiny weights for vit_b
    ]:
        with pytest.raises(ModelUnavailable) as caught:
            load_segmenter(path, model_type=model_type, device="cpu")
        message = str(caught.value)
        assert what in message and str(path) in message and HINT in message
        assert "stencil download sam-vit-b" in message


def test_checkpoint_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(sam_checkpoint=None, models_dir=tmp_path, sam_model="vit_l")
    assert find_checkpoint(settings) is None
    message = missing_checkpoint_message(settings)
    assert (
        HINT in message
        and str(tmp_path / "sam_vit_l_0b3195.pth") in message
        and "stencil download sam-vit-l" in message
    )
    with pytest.raises(ModelUnavailable, match="stencil download sam-vit-l"):
        make_segmenter("sam", settings)
    (tmp_path / "sam_vit_l_0b3195.pth").write_bytes(b"")
    assert find_checkpoint(settings) == tmp_path / "sam_vit_l_0b3195.pth"
    explicit = Settings(sam_checkpoint=tmp_path / "mine.pth", models_dir=tmp_path)
    assert find_checkpoint(explicit) == tmp_path / "mine.pth"
    assert sam_module.download_command("vit_h") == "stencil download sam-vit-h"


def test_bad_prompts_and_foreign_photos(segmenter: SamSegmenter, checkpoint: Path, photo_module: np.ndarray) -> None:
    prepared = segmenter.prepare(photo_module)
    with pytest.raises(InvalidInput, match="outside"):
        segmenter.select(prepared, [Point(500, 10)])
    with pytest.raises(InvalidInput, match="nothing to select"):
        segmenter.select(prepared, [])
    other = SamSegmenter(segmenter.sam, description="another", cache_bytes=1 << 20)
    with pytest.raises(InvalidInput, match="prepare"):
        other.select(prepared, [Point(10, 10)])
    with pytest.raises(InvalidInput):
        segmenter.prepare(np.zeros((10, 10), np.uint8))


def test_head_softmax_matches_torch_including_far_apart_groups() -> None:
    from pipeline.select.sam.layers import head_softmax as _head_softmax

    scores = torch.randn(64, 8 * 7, generator=torch.Generator().manual_seed(0)) * 4
    scores[3, :7] -= 300.0  # this head's group would underflow after the shared row shift
    expected = torch.softmax(scores.view(64, 8, 7), dim=-1).reshape(64, -1)
    got = _head_softmax(scores.clone(), 8)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(_head_softmax(scores[4:].clone(), 8), expected[4:], atol=1e-6)  # small: no shift
    shifted = _head_softmax(scores[4:] + 150.0, 8)  # exp(150) overflows float32 unless shifted
    assert torch.isfinite(shifted).all() and torch.allclose(shifted, expected[4:], atol=1e-6)


def test_fused_linear_gelu_matches_the_plain_ops() -> None:
    from pipeline.select.sam.layers import linear_gelu

    generator = torch.Generator().manual_seed(1)
    x, weight, bias = (torch.randn(shape, generator=generator) for shape in [(512, 64), (128, 64), (128,)])
    with torch.inference_mode():
        fused, plain = linear_gelu(x, weight, bias), linear_gelu(x, weight, bias, fused=False)
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(plain, torch.nn.functional.gelu(x @ weight.T + bias))


def test_upsampling_of_only_the_framed_rows_equals_the_whole_frame() -> None:
    import cv2

    rng = np.random.default_rng(5)
    low = cv2.GaussianBlur(rng.standard_normal((256, 256, 2)).astype(np.float32), (0, 0), 2.0).transpose(2, 0, 1)
    for original in [(768, 1024), (1024, 768), (333, 517), (3000, 4000), (1001, 999), (37, 1500)]:
        input_hw = sam_embed.input_size(*original)
        expected = []
        for logits in low:  # the whole 1024 frame, cropped, then to the photo: stock's two steps
            framed = cv2.resize(logits, (1024, 1024), interpolation=cv2.INTER_LINEAR)[: input_hw[0], : input_hw[1]]
            expected.append(cv2.resize(framed, original[::-1], interpolation=cv2.INTER_LINEAR) > 0)
        np.testing.assert_array_equal(binary_masks(np.ascontiguousarray(low), input_hw, original) > 0.5, expected)
