"""The diffusion engine with a tiny random SD inpainting pipeline, saved and loaded like a user's model."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from tiny_diffusion import MAX_TOKENS, one_torch_thread, save_tiny_pipeline  # noqa: E402, F401

from pipeline.errors import BackendFailed, Cancelled, EmptyMask, InvalidInput, ModelUnavailable  # noqa: E402
from pipeline.inpaint.crop import CropOptions  # noqa: E402
from pipeline.inpaint.diffusion.loader import (  # noqa: E402
    DEFAULT_MODEL_ID,
    DiffusionInpainter,
    find_model,
    load_inpainter,
    missing_model_message,
)
from pipeline.inpaint.protocol import Inpainter, InpaintRequest, Prompting  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

COMMIT = "0123456789abcdef0123456789abcdef01234567"  # the HF cache layout wants a full commit hash



@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-inpaint")


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> DiffusionInpainter:
    source = find_model(Settings(inpaint_model=str(model_dir)))
    assert source == str(model_dir)
    return load_inpainter(source, device="cpu", cpu_offload=False)


@pytest.fixture
def small_mask() -> np.ndarray:
    mask = np.zeros((96, 128), np.float32)
    mask[20:30, 90:100] = 1.0
    return mask


def request(image: np.ndarray, mask: np.ndarray, **fields: object) -> InpaintRequest:
    values: dict[str, object] = {"prompt": "a red apple", "seed": 7, "steps": 2, "guidance": 5.0, **fields}
    return InpaintRequest(image, mask, Prompting(**values))  # type: ignore[arg-type]


def assert_kept_outside(out: np.ndarray, image: np.ndarray, mask: np.ndarray) -> None:
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], image[mask == 0])


def test_loaded_engine_is_an_fp32_sdpa_inpainter_on_the_cpu(engine: DiffusionInpainter) -> None:
    from diffusers.models.attention_processor import AttnProcessor2_0

    assert isinstance(engine, Inpainter) and engine.name == "diffusion"
    assert engine.native_px == 32  # tiny UNet: 16 latent px x VAE factor 2
    assert engine.pipe.unet.dtype == torch.float32 and engine.pipe.unet.config.in_channels == 9
    processors = list(engine.pipe.unet.attn_processors.values())
    assert processors and all(isinstance(p, AttnProcessor2_0) for p in processors)


def test_full_image_mode(engine: DiffusionInpainter, photo: np.ndarray, disc_mask: np.ndarray) -> None:
    run = engine.run(request(photo, disc_mask))
    assert run.plan.mode == "full"  # the disc's crop would cover most of the photo
    assert run.plan.work_size == (32, 24)
    assert run.unet_calls == 2 and run.latent_size == (16, 12)
    assert_kept_outside(run.image, photo, disc_mask)
    inside = disc_mask == 1
    assert np.abs(run.image[inside].astype(int) - photo[inside]).mean() > 5  # random weights: it changed


def test_crop_mode(engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray) -> None:
    run = engine.run(request(photo, small_mask))
    assert run.plan.mode == "crop"
    assert run.plan.region_size == (74, 74)  # 10 px box + 32 px context on each side
    assert run.plan.x0 <= 90 and run.plan.x1 >= 100 and run.plan.y0 <= 20 and run.plan.y1 >= 30
    assert run.plan.work_size == (32, 32) and run.latent_size == (16, 16) and run.unet_calls == 2
    assert_kept_outside(run.image, photo, small_mask)
    assert not np.array_equal(run.image[20:30, 90:100], photo[20:30, 90:100])
    full = engine.with_crop(CropOptions(mode="full")).run(request(photo, small_mask))
    assert full.plan.mode == "full" and full.latent_size == (16, 12)
    assert not np.array_equal(full.image, run.image)


def test_same_seed_same_image(engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray) -> None:
    first = engine.inpaint(request(photo, small_mask, seed=123))
    again = engine.inpaint(request(photo, small_mask, seed=123))
    other = engine.inpaint(request(photo, small_mask, seed=124))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    picked = engine.run(request(photo, small_mask, seed=None))
    assert 0 <= picked.seed < 2**63
    assert np.array_equal(engine.inpaint(request(photo, small_mask, seed=picked.seed)), picked.image)


def test_soft_mask_keeps_zero_pixels_byte_identical(engine: DiffusionInpainter, photo: np.ndarray) -> None:
    yy, xx = np.mgrid[0:96, 0:128]
    soft = np.clip(1.0 - np.hypot(xx - 40, yy - 60) / 25.0, 0.0, 1.0).astype(np.float32)
    for mode in ("crop", "full"):
        out = engine.with_crop(CropOptions(mode=mode)).inpaint(request(photo, soft))  # type: ignore[arg-type]
        assert_kept_outside(out, photo, soft)
        assert not np.array_equal(out[soft == 1], photo[soft == 1])


def test_progress_reports_every_step(engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray) -> None:
    steps: list[tuple[int, int]] = []
    engine.inpaint(request(photo, small_mask, steps=3), progress=lambda step, total: steps.append((step, total)))
    assert steps == [(1, 3), (2, 3), (3, 3)]
    steps.clear()
    run = engine.run(request(photo, small_mask, steps=4, strength=0.5), progress=lambda s, t: steps.append((s, t)))
    assert steps == [(1, 2), (2, 2)] and run.unet_calls == 2  # strength 0.5 skips half the schedule


class CancelAfter:
    """A cancel flag that turns on after ``checks`` calls of ``is_set``."""

    def __init__(self, checks: int) -> None:
        self.checks = checks
        self.calls = 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls > self.checks


def test_cancel_between_steps(engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray) -> None:
    steps: list[int] = []
    with pytest.raises(Cancelled, match="after step 1"):
        engine.inpaint(
            request(photo, small_mask, steps=5), progress=lambda s, t: steps.append(s), cancel=CancelAfter(1)
        )
    assert steps == [1]
    already = threading.Event()
    already.set()
    with pytest.raises(Cancelled, match="before it started"):
        engine.inpaint(request(photo, small_mask), progress=lambda s, t: steps.append(s), cancel=already)
    assert steps == [1]
    run = engine.run(request(photo, small_mask), cancel=threading.Event())  # the engine still works
    assert run.unet_calls == 2


@pytest.mark.parametrize(
    "error",
    [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("CUDA error: out of memory"),
    ],
)
def test_out_of_memory_is_reported_and_released(
    engine: DiffusionInpainter,
    photo: np.ndarray,
    small_mask: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    expected = engine.inpaint(request(photo, small_mask))
    released: list[bool] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: released.append(True))

    def fail_once(module: object, args: object) -> None:
        handle.remove()
        raise error

    handle = engine.pipe.unet.register_forward_pre_hook(fail_once)
    with pytest.raises(BackendFailed, match="out of memory at 32x32 px; try a smaller crop or the classical engine"):
        engine.inpaint(request(photo, small_mask))
    assert released == [True]
    assert np.array_equal(engine.inpaint(request(photo, small_mask)), expected)  # the next run works


def test_other_runtime_errors_become_backend_failed(
    engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray
) -> None:
    def broken(module: object, args: object) -> None:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    handle = engine.pipe.unet.register_forward_pre_hook(broken)
    try:
        with pytest.raises(BackendFailed, match="diffusion model failed: mat1"):
            engine.inpaint(request(photo, small_mask))
    finally:
        handle.remove()


def test_empty_mask_runs_no_model(engine: DiffusionInpainter, photo: np.ndarray) -> None:
    calls: list[object] = []
    handle = engine.pipe.unet.register_forward_pre_hook(lambda module, args: calls.append(args))
    try:
        with pytest.raises(EmptyMask, match="nothing selected"):
            engine.inpaint(request(photo, np.zeros((96, 128), np.float32)))
    finally:
        handle.remove()
    assert calls == []


def test_full_mask_replaces_everything(engine: DiffusionInpainter, photo: np.ndarray) -> None:
    run = engine.run(request(photo, np.ones((96, 128), np.float32)))
    assert run.plan.mode == "full" and run.image.shape == photo.shape
    assert (np.abs(run.image.astype(int) - photo).max(axis=2) > 0).mean() > 0.5


def test_steps_times_strength_below_one_is_refused(
    engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray
) -> None:
    with pytest.raises(InvalidInput, match="no denoising step"):
        engine.inpaint(request(photo, small_mask, steps=1, strength=0.5))


def test_overlong_prompt_is_truncated_with_a_warning(
    engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    prompt = "a very detailed description " * 20  # ~560 byte-level tokens against a limit of 77
    with caplog.at_level(logging.WARNING, logger="pipeline.inpaint.diffusion.engine"):
        out = engine.inpaint(request(photo, small_mask, prompt=prompt, negative_prompt=prompt))
    messages = [r.getMessage() for r in caplog.records if r.name == "pipeline.inpaint.diffusion.engine"]
    assert any(m.startswith("prompt is") and f"first {MAX_TOKENS}" in m for m in messages)
    assert any(m.startswith("negative prompt is") for m in messages)
    assert_kept_outside(out, photo, small_mask)


def test_missing_model_folder_names_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    settings = Settings(inpaint_model=str(missing))
    assert find_model(settings) is None
    assert "STENCIL_INPAINT_MODEL" in missing_model_message(settings)
    with pytest.raises(ModelUnavailable, match="STENCIL_INPAINT_MODEL"):
        load_inpainter(str(missing), device="cpu")


def test_missing_model_through_make_inpainter(tmp_path: Path) -> None:
    pytest.importorskip("pipeline.inpaint.classic")
    from pipeline.models import make_inpainter

    with pytest.raises(ModelUnavailable, match="STENCIL_INPAINT_MODEL"):
        make_inpainter("diffusion", Settings(inpaint_model=str(tmp_path / "gone")))


@pytest.mark.parametrize("damage", ["truncated weights", "bad model_index.json", "no model_index.json"])
def test_corrupt_model_folder_names_the_setting(model_dir: Path, tmp_path: Path, damage: str) -> None:
    broken = Path(shutil.copytree(model_dir, tmp_path / "broken"))
    if damage == "truncated weights":
        weights = broken / "unet" / "diffusion_pytorch_model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "bad model_index.json":
        (broken / "model_index.json").write_text("{ not json", encoding="utf-8")
    else:
        (broken / "model_index.json").unlink()
    assert find_model(Settings(inpaint_model=str(broken))) == str(broken)  # it exists ...
    with pytest.raises(ModelUnavailable, match="STENCIL_INPAINT_MODEL"):  # ... but cannot be loaded
        load_inpainter(str(broken), device="cpu")


def test_corrupt_single_file_and_ckpt_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(ModelUnavailable, match="STENCIL_INPAINT_MODEL"):
        load_inpainter(str(bad), device="cpu")
    pickle = tmp_path / "model.ckpt"
    pickle.write_bytes(b"x")
    with pytest.raises(ModelUnavailable, match="safetensors"):
        load_inpainter(str(pickle), device="cpu")


def test_hub_ids_count_only_when_cached_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert find_model(Settings(inpaint_model="someone/some-inpainting")) is None
    assert "HF_HUB_OFFLINE" in missing_model_message(Settings(inpaint_model="someone/some-inpainting"))
    assert find_model(Settings(inpaint_model=None)) is None
    assert DEFAULT_MODEL_ID in missing_model_message(Settings(inpaint_model=None))
    for repo in ("someone/some-inpainting", DEFAULT_MODEL_ID):  # a cached snapshot makes them available
        snapshot = tmp_path / "hub" / f"models--{repo.replace('/', '--')}" / "snapshots" / COMMIT
        snapshot.mkdir(parents=True)
        (snapshot / "model_index.json").write_text("{}", encoding="utf-8")
        (snapshot.parent.parent / "refs").mkdir()
        (snapshot.parent.parent / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    assert find_model(Settings(inpaint_model="someone/some-inpainting")) == "someone/some-inpainting"
    assert find_model(Settings(inpaint_model=None)) == DEFAULT_MODEL_ID
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert find_model(Settings(inpaint_model="someone/other")) == "someone/other"  # online: downloadable


HUB_SCRIPT = """
import numpy as np
from pipeline.inpaint.protocol import InpaintRequest, Prompting
from pipeline.models import make_inpainter
from pipeline.settings import Settings

chosen = make_inpainter("auto", Settings())
mask = np.zeros((40, 40), np.float32)
mask[10:20, 10:20] = 1.0
out = chosen.backend.inpaint(InpaintRequest(np.full((40, 40, 3), 90, np.uint8), mask, Prompting(seed=1, steps=2)))
print(chosen.backend.name, out.shape, int((out[mask == 0] == 90).all()), chosen.reason)
"""


@pytest.mark.slow
def test_hub_id_loads_from_the_cache_through_make_inpainter(model_dir: Path, tmp_path: Path) -> None:
    """The real ``from_pretrained(hub id)`` path, offline, from a Hugging Face cache holding the tiny model."""
    repo = tmp_path / "hub" / "models--someone--tiny-inpaint"
    shutil.copytree(model_dir, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(tmp_path / "hub"),
        "HF_HUB_OFFLINE": "1",
        "STENCIL_INPAINT_MODEL": "someone/tiny-inpaint",
        "OMP_NUM_THREADS": "1",
    }
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", HUB_SCRIPT], env=env, cwd=root, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith("diffusion (40, 40, 3) 1 diffusion engine on cpu: someone/tiny-inpaint")


def test_sdxl_inpainting_model_loads_and_runs(tmp_path: Path, photo: np.ndarray, small_mask: np.ndarray) -> None:
    folder = save_tiny_pipeline(tmp_path / "tiny-sdxl-inpaint", "sdxl")
    engine = load_inpainter(find_model(Settings(inpaint_model=str(folder))) or "", device="cpu")
    assert type(engine.pipe).__name__ == "StableDiffusionXLInpaintPipeline"
    assert engine.native_px == 32  # real SDXL: 128 latent px x 8 = 1024
    steps: list[tuple[int, int]] = []
    run = engine.run(request(photo, small_mask), progress=lambda s, t: steps.append((s, t)))
    assert run.plan.mode == "crop" and run.latent_size == (16, 16) and run.unet_calls == 2
    assert steps == [(1, 2), (2, 2)]
    assert_kept_outside(run.image, photo, small_mask)
    assert np.array_equal(engine.inpaint(request(photo, small_mask)), run.image)


def test_concurrent_runs_match_sequential_ones(
    engine: DiffusionInpainter, photo: np.ndarray, small_mask: np.ndarray
) -> None:
    expected = {seed: engine.inpaint(request(photo, small_mask, seed=seed)) for seed in (11, 12)}
    results: dict[int, np.ndarray] = {}

    def work(seed: int) -> None:
        results[seed] = engine.inpaint(request(photo, small_mask, seed=seed))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (11, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(results) == {11, 12}
    assert all(np.array_equal(results[seed], expected[seed]) for seed in (11, 12))


SINGLE_FILES = [
    ("model.diffusion_model.input_blocks.0.0.weight", "StableDiffusionInpaintPipeline"),
    ("conditioner.embedders.1.model.ln_final.weight", "StableDiffusionXLInpaintPipeline"),
]


@pytest.mark.parametrize(("key", "expected"), SINGLE_FILES)
def test_single_file_picks_sd15_or_sdxl_from_its_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, expected: str
) -> None:
    """Which ``from_single_file`` a checkpoint goes to (the conversion itself is diffusers' and needs real weights)."""
    import diffusers
    from safetensors.torch import save_file

    checkpoint = tmp_path / "model.safetensors"
    save_file({key: torch.zeros(2)}, str(checkpoint))
    calls: list[tuple[str, dict[str, object]]] = []

    def recorder(name: str) -> object:
        def from_single_file(source: str, **kwargs: object) -> None:
            calls.append((name, {"source": source, **kwargs}))
            raise OSError("stop here")

        return from_single_file

    for name in ("StableDiffusionInpaintPipeline", "StableDiffusionXLInpaintPipeline"):
        monkeypatch.setattr(getattr(diffusers, name), "from_single_file", recorder(name))
    with pytest.raises(ModelUnavailable, match="stop here.*STENCIL_INPAINT_MODEL|STENCIL_INPAINT_MODEL.*stop here"):
        load_inpainter(str(checkpoint), device="cpu")
    assert calls == [(expected, {"source": str(checkpoint), "dtype": torch.float32, "local_files_only": True})]
