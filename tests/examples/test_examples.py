"""The example gallery: files exist and load, masks are real, suggestions work, the renderer is deterministic."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from examples.catalog import EXAMPLES_DIR, Example, load_catalog
from pipeline import masks
from pipeline.io.images import load_image, load_labels, load_mask

CATALOG = load_catalog()
BY_NAME = {e.name: e for e in CATALOG}
PHOTOS = EXAMPLES_DIR / "photos"
CLICK_EDGE_PX = 20  # click points sit at least this far inside the product


def _ids(examples: tuple[Example, ...]) -> list[str]:
    return [e.name for e in examples]


def test_catalog_covers_every_workflow() -> None:
    assert len(CATALOG) >= 8
    assert len(BY_NAME) == len(CATALOG), "example names must be unique"
    sources = {e.mask_source.source for e in CATALOG}
    ops = {e.operation.op for e in CATALOG}
    assert {"click", "color", "import"} <= sources
    assert {"background", "remove", "outpaint"} <= ops
    sizes = [e.size for e in CATALOG]
    assert (4000, 3000) in sizes, "one 12 MP example"
    assert any(h / w >= 1.4 for w, h in sizes), "one tall example"
    assert any(w / h >= 1.9 for w, h in sizes), "one wide example"
    assert any(e.labels_file is not None for e in CATALOG), "one example with a label map"


@pytest.mark.parametrize("example", CATALOG, ids=_ids(CATALOG))
def test_photo_and_mask_load_with_the_same_size(example: Example) -> None:
    photo = load_image(example.file)
    assert photo.size == example.size
    mask = load_mask(example.mask_file, size=example.size)
    assert mask.shape == (example.size[1], example.size[0])
    fraction = float((mask >= 0.5).mean())
    assert 0.01 < fraction < 0.6, f"product covers {fraction:.1%} of the photo"
    assert mask.min() == 0.0 and mask.max() == 1.0
    inside, outside = photo.rgb[mask >= 0.99], photo.rgb[mask <= 0.01]
    assert np.abs(inside.mean(axis=0) - outside.mean(axis=0)).max() > 5 or inside.std() > 20


def test_committed_files_stay_small() -> None:
    files = [p for p in EXAMPLES_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert all(p.stat().st_size < 5_000_000 for p in files), "every committed file under 5 MB"
    assert sum(p.stat().st_size for p in PHOTOS.iterdir()) < 12_000_000
    large = next(e for e in CATALOG if e.size == (4000, 3000))
    assert large.file.stat().st_size < 4_000_000


def test_transparent_item_has_a_fractional_alpha() -> None:
    mask = load_mask(BY_NAME["perfume_glass"].mask_file)
    product = mask > 0.02
    soft = (mask > 0.05) & (mask < 0.95)
    assert soft.sum() / product.sum() > 0.2, "the glass should be see-through, not just anti-aliased"
    others = load_mask(BY_NAME["studio_bottle"].mask_file)
    assert ((others > 0.05) & (others < 0.95)).sum() / (others > 0.02).sum() < 0.05


def test_label_map_gives_each_product_an_id() -> None:
    example = next(e for e in CATALOG if e.labels_file is not None)
    labels = load_labels(example.labels_file, size=example.size)
    ids = sorted(int(v) for v in np.unique(labels))
    assert ids[0] == 0 and len(ids) >= 4
    assert all((labels == i).sum() > 2000 for i in ids[1:])
    mask = load_mask(example.mask_file, size=example.size)
    assert masks.iou((labels > 0).astype(np.float32), masks.threshold(mask)) > 0.98


@pytest.mark.parametrize(
    "example",
    [e for e in CATALOG if e.mask_source.source == "click"],
    ids=_ids(tuple(e for e in CATALOG if e.mask_source.source == "click")),
)
def test_click_points_are_well_inside_their_product(example: Example) -> None:
    mask = load_mask(example.mask_file, size=example.size)
    inside = cv2.distanceTransform((mask >= 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((mask < 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    assert example.mask_source.points[0][2], "the first click is on the product"
    for x, y, positive in example.mask_source.points:
        # negative clicks sit on the background, often in a gap such as inside a headband
        depth, margin = (inside, CLICK_EDGE_PX) if positive else (outside, CLICK_EDGE_PX // 2)
        assert depth[int(y), int(x)] >= margin, f"({x}, {y}) is within {margin} px of the edge"


NON_CLICK = tuple(e for e in CATALOG if e.mask_source.source != "click")


@pytest.mark.parametrize("example", NON_CLICK, ids=_ids(NON_CLICK))
def test_suggested_mask_source_matches_the_true_mask(example: Example) -> None:
    from examples.suggest import suggested_mask

    image = load_image(example.file).rgb
    mask = suggested_mask(example, image)
    truth = load_mask(example.mask_file, size=example.size)
    assert masks.iou(masks.threshold(mask), masks.threshold(truth)) > 0.97


CLICKS = tuple(e for e in CATALOG if e.mask_source.source == "click")


@pytest.mark.slow
@pytest.mark.parametrize("example", CLICKS, ids=_ids(CLICKS))
def test_suggested_clicks_select_the_product_with_the_classic_selector(example: Example) -> None:
    """The clicks, then "fill holes" (labels and logos are islands of another colour), select the product."""
    from examples.suggest import suggested_mask

    image = load_image(example.file).rgb
    mask = masks.fill_holes(suggested_mask(example, image))
    assert masks.iou(mask, _clicked_truth(example)) > 0.9


def _clicked_truth(example: Example) -> np.ndarray:
    """The true mask of what the clicks aim at: the whole mask, or the clicked product's label."""
    truth = masks.threshold(load_mask(example.mask_file, size=example.size))
    if example.labels_file is None:
        return truth
    labels = load_labels(example.labels_file, size=example.size)
    x, y, _ = example.mask_source.points[0]
    return (labels == labels[int(y), int(x)]).astype(np.float32)


def test_renderer_is_deterministic_and_matches_the_committed_photo(tmp_path: Path) -> None:
    from examples.render import write
    from examples.scenes import render

    first = render("box_shadow")
    assert np.array_equal(first.mask, render("box_shadow").mask)
    write("box_shadow", first, tmp_path)
    committed = np.asarray(Image.open(PHOTOS / "box_shadow.jpg").convert("RGB"), dtype=np.int16)
    fresh = np.asarray(Image.open(tmp_path / "box_shadow.jpg").convert("RGB"), dtype=np.int16)
    assert np.abs(committed - fresh).mean() < 0.5
    assert np.abs(committed - first.image.astype(np.int16)).mean() < 2.0  # only JPEG's loss
    committed_mask = np.asarray(Image.open(PHOTOS / "box_shadow.mask.png"), dtype=np.int16)
    assert np.abs(committed_mask - first.mask.astype(np.int16)).max() <= 1


def test_quickstart_replaces_the_background(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from examples.quickstart import main

    assert main(["--example", "studio_bottle", "--out", str(tmp_path)]) == 0
    assert "IoU" in capsys.readouterr().out
    example = BY_NAME["studio_bottle"]
    result = load_image(tmp_path / "studio_bottle.result.png").rgb
    mask = load_mask(tmp_path / "studio_bottle.mask.png")
    truth = load_mask(example.mask_file)
    assert masks.iou(masks.threshold(mask), masks.threshold(truth)) > 0.97
    assert np.abs(result[mask == 0].astype(int) - np.array(example.operation.color)).max() == 0
    photo = load_image(example.file).rgb
    assert np.array_equal(result[mask == 1], photo[mask == 1])
    from pipeline import recipe

    replayed = recipe.run(recipe.loads((tmp_path / "studio_bottle.recipe.json").read_text()), photo)
    assert np.array_equal(replayed.image, result)


def test_quickstart_never_writes_into_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples.quickstart import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["--example", "mug_paper"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]
    written = next((tmp_path / "tmp").iterdir())
    assert (written / "mug_paper.result.png").exists() and str(written) in capsys.readouterr().out


def test_catalog_imports_without_gradio_or_the_pipeline() -> None:
    import subprocess
    import sys

    code = "import sys, examples.catalog; print('gradio' in sys.modules, 'pipeline' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
