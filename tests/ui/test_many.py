"""Step 5's "Apply this recipe to many photos" (``ui.many``) through its handler, with fake backends.

The recipe is made on the page: a colour range picks the red disc, the background is replaced by
a flat colour (the fake engine is never needed). Photos are tiny synthesised PNGs, zipped by the
tests; the zips with hostile names or sizes are built (or patched) by hand.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from PIL import Image as PILImage
from ui_fakes import fake_services

from pipeline import recipe as recipes
from pipeline.edits.background import SolidColor
from pipeline.recipe import ColorRange, Output, ReplaceBackground
from pipeline.types import Point
from ui import cells, many, notebook
from ui.handlers import Handlers
from ui.page import build_demo
from ui.state import Session

RED = (200, 40, 30)


class FakeRequest:
    session_hash = "many-tab"


def no_progress(*args: object, **kwargs: object) -> None:
    return None


@pytest.fixture(scope="module")
def h() -> Handlers:
    return build_demo(services=fake_services()).stencil_handlers  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def session_folders_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "sessions"))
    (tmp_path / "sessions").mkdir()


def product(cx: int, cy: int, radius: int = 20) -> np.ndarray:
    """A 64x96 photo: a flat red disc at ``(cx, cy)`` on light grey."""
    yy, xx = np.mgrid[0:64, 0:96]
    image = np.full((64, 96, 3), 225, np.uint8)
    image[(xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2] = RED
    return image


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def with_result(h: Handlers, *, clicks: bool = False) -> Session:
    """A session showing a background replacement whose mask is a colour range (or a click)."""
    s = notebook.load(h.services, product(40, 30), "first.png", Session())
    if clicks:
        s = notebook.select(h.services, s, [Point(40, 30)], None, "replace")
    else:
        s = notebook.add_source(s, ColorRange(color=RED, tolerance=10.0))
    return cells.run_edit(h.services, s, ReplaceBackground(fill=SolidColor((20, 90, 200))), Output())


def run_many(h: Handlers, s: Session | None, files: list[Path]) -> dict[Any, Any]:
    v = {h.p.session: s, h.p.many_files: [str(f) for f in files]}
    return h.on_many_run_click(v, FakeRequest(), no_progress)  # type: ignore[arg-type]


def read_zip(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# ---------------------------------------------------------------- a batch


def test_zip_of_three_with_one_corrupt_gives_two_results_and_three_rows(h: Handlers, tmp_path: Path) -> None:
    s = with_result(h)
    photos = {"shoot/a.png": product(30, 30), "shoot/b.png": product(60, 25, radius=15)}
    upload = zipped(tmp_path / "photos.zip", {**{k: png_bytes(v) for k, v in photos.items()}, "c.png": b"not a png"})
    out = run_many(h, s, [upload])
    files = read_zip(out[h.p.many_out])
    assert sorted(files) == ["manifest.jsonl", "recipe.json", "results/a.png", "results/b.png"]
    rows = [json.loads(line) for line in files["manifest.jsonl"].decode().splitlines()]
    assert [(r["input"], r["status"]) for r in rows] == [
        ("photos.zip/shoot/a.png", "ok"),
        ("photos.zip/shoot/b.png", "ok"),
        ("photos.zip/c.png", "error"),
    ]
    assert rows[0]["outputs"] == ["results/a.png"] and rows[2]["outputs"] == []
    assert "c.png" in rows[2]["error"] and str(tmp_path) not in rows[2]["error"]  # no server paths shown
    info = out[h.p.many_info]
    assert "2 done, 1 failed" in info and "- photos.zip/c.png:" in info
    recipe = s.cell(s.shown_cell).recipe
    assert recipes.loads(files["recipe.json"].decode()) == recipe
    for name, image in photos.items():
        expected = recipes.run(recipe, image, h.services.engines).image
        result = np.asarray(PILImage.open(io.BytesIO(files[f"results/{Path(name).name}"])))
        assert np.array_equal(result, expected)
    assert not np.array_equal(expected, photos["shoot/b.png"])  # the background did change
    work = Path(out[h.p.many_out]).parent
    kept = sorted(p.name for p in work.iterdir())
    assert work.parent == s.folder and kept == ["manifest.jsonl", Path(out[h.p.many_out]).name]
    # inside the session's folder, which goes with the session; unpacked photos and loose results are gone


def test_photos_and_zip_together_get_unique_names_and_others_are_skipped(h: Handlers, tmp_path: Path) -> None:
    s = with_result(h)
    (tmp_path / "a.png").write_bytes(png_bytes(product(30, 30)))
    (tmp_path / "notes.txt").write_text("hello")
    upload = zipped(
        tmp_path / "more.zip", {"A.png": png_bytes(product(50, 30)), "readme.md": b"#", "__MACOSX/._A.png": b""}
    )
    out = run_many(h, s, [tmp_path / "a.png", upload, tmp_path / "notes.txt"])
    assert sorted(n for n in read_zip(out[h.p.many_out]) if n.startswith("results/")) == [
        "results/A-2.png",
        "results/a.png",
    ]
    info = out[h.p.many_info]
    assert "2 done, 0 failed" in info and "notes.txt (not a photo or a zip)" in info and "more.zip/readme.md" in info
    assert "__MACOSX" not in info


def test_a_second_batch_replaces_the_first_on_disk(h: Handlers, tmp_path: Path) -> None:
    s = with_result(h)
    (tmp_path / "a.png").write_bytes(png_bytes(product(30, 30)))
    first = Path(run_many(h, s, [tmp_path / "a.png"])[h.p.many_out])
    second = Path(run_many(h, s, [tmp_path / "a.png"])[h.p.many_out])
    assert second.exists() and not first.parent.exists()


def test_cancel_stops_between_photos(h: Handlers, tmp_path: Path) -> None:
    s = with_result(h)
    (tmp_path / "a.png").write_bytes(png_bytes(product(30, 30)))
    cancel = threading.Event()
    cancel.set()
    batch = many.run_many(h.services, s, [tmp_path / "a.png"], cancel=cancel)
    assert batch.stopped and batch.summary.done == 0 and "cancelled after 0 photos" in batch.markdown()
    assert read_zip(str(batch.archive))["manifest.jsonl"] == b""


# ---------------------------------------------------------------- refusals


def test_no_result_yet_is_a_clear_error(h: Handlers, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes(product(30, 30)))
    with pytest.raises(gr.Error, match="no result yet: run an edit in step 4"):
        run_many(h, None, [tmp_path / "a.png"])


def test_a_recipe_made_of_clicks_names_the_step(h: Handlers, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes(product(30, 30)))
    with pytest.raises(gr.Error, match=r"step 1 \(clicks\) holds pixel clicks.*colour or luminance range"):
        run_many(h, with_result(h, clicks=True), [tmp_path / "a.png"])


def test_201_photos_point_to_the_cli(h: Handlers, tmp_path: Path) -> None:
    data = png_bytes(product(30, 30))
    upload = zipped(tmp_path / "many.zip", {f"p{i:03d}.png": data for i in range(many.MANY_MAX_PHOTOS + 1)})
    s = with_result(h)
    with pytest.raises(gr.Error, match=r"201 photos is more than the 200.*stencil apply recipe.json FOLDER"):
        run_many(h, s, [upload])
    assert not list(s.folder.glob("many-*"))


def test_unsafe_member_names_are_skipped_and_nothing_leaves_the_folder(h: Handlers, tmp_path: Path) -> None:
    data = png_bytes(product(30, 30))
    members = {"../evil.png": data, "/abs-evil.png": data, "..\\win-evil.png": data, "ok/a.png": data}
    upload = zipped(tmp_path / "hostile.zip", members)
    out = run_many(h, with_result(h), [upload])
    assert sorted(read_zip(out[h.p.many_out])) == ["manifest.jsonl", "recipe.json", "results/a.png"]
    assert "1 done, 0 failed" in out[h.p.many_info] and "hostile.zip/../evil.png (its path leaves" in out[h.p.many_info]
    assert not [p for p in tmp_path.rglob("*evil*")]
    assert not (tmp_path.parent / "evil.png").exists()


def declaring(path: Path, size: int) -> Path:
    """``path`` (a one-entry zip) with the central directory declaring ``size`` uncompressed bytes."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")
    raw[at + 24 : at + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(raw))
    return path


def test_a_zip_declaring_a_huge_size_is_refused_before_unpacking(
    h: Handlers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = declaring(zipped(tmp_path / "bomb.zip", {"a.png": png_bytes(product(30, 30))}), 0xF000_0000)
    assert zipfile.ZipFile(upload).infolist()[0].file_size == 0xF000_0000
    unpacked: list[object] = []
    monkeypatch.setattr(many, "unpack", lambda *args: unpacked.append(args))
    s = with_result(h)
    with pytest.raises(gr.Error, match=r"add up to 3,840 MB, above the 300 MB.*--workers N"):
        run_many(h, s, [upload])
    assert unpacked == [] and not list(s.folder.glob("many-*"))


def test_an_entry_larger_than_declared_is_an_error_row(h: Handlers, tmp_path: Path) -> None:
    data = png_bytes(product(30, 30))
    upload = declaring(zipped(tmp_path / "liar.zip", {"a.png": data}), 100)
    out = run_many(h, with_result(h), [upload])
    assert "0 done, 1 failed" in out[h.p.many_info] and "liar.zip/a.png: cannot unpack it" in out[h.p.many_info]


def test_too_many_zip_entries_are_refused(h: Handlers, tmp_path: Path) -> None:
    upload = zipped(tmp_path / "entries.zip", {f"n{i}.txt": b"" for i in range(many.MANY_MAX_ENTRIES + 1)})
    with pytest.raises(gr.Error, match="2001 entries, more than the 2000"):
        run_many(h, with_result(h), [upload])


def test_nothing_to_run_on(h: Handlers, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(gr.Error, match=r"no photos to run on.*skipped notes.txt"):
        run_many(h, with_result(h), [tmp_path / "notes.txt"])
    with pytest.raises(gr.Error, match="no photos to run on"):
        run_many(h, with_result(h), [])
