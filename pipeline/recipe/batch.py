"""A recipe over a folder of photos: the plan, one photo's work and the manifest, which the local
pool and Ray share.

``plan`` pairs every photo with its outputs; ``process`` replays the recipe on one photo and
writes its files (each through a temporary name and a rename), returning a manifest ``Row``
instead of raising, so a bad photo never stops a batch; ``Manifest`` appends one JSON line a
photo as results come and tells which photos a new run may skip; ``run_local`` spreads the work
over processes that each load their models once (``pipeline.recipe.pool``), and
``pipeline.recipe.ray_batch`` runs the same ``process`` on Ray Data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from pipeline.errors import InvalidInput, PipelineError
from pipeline.io.files import IMAGE_SUFFIXES, companion
from pipeline.recipe.apply import Engines
from pipeline.recipe.codec import RecipeError, dumps
from pipeline.recipe.steps import Clicks, LabelClasses, Recipe, StoredMask
from pipeline.settings import Settings

log = logging.getLogger(__name__)

FORMAT_SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
PART_GLOB = ".*.part"
"""Temporary files of ``pipeline.io.images`` writes (``.NAME.PID.part``), removed after a batch."""
MAX_RETRIES = 2
"""How many times a photo whose worker died is tried again before it gets an error row."""

Status = Literal["ok", "error"]
ProgressFn = Callable[["Row"], None]


class BatchError(InvalidInput):
    """A batch that cannot start (a recipe tied to one photo, an output folder that cannot be used)."""


@dataclass(frozen=True)
class Item:
    """One photo of a batch: where it is, where its outputs go, and its label map if any."""

    source: str
    target: str
    mask_target: str | None = None
    cutout_target: str | None = None
    labels: str | None = None

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(p for p in (self.target, self.mask_target, self.cutout_target) if p is not None)


@dataclass(frozen=True)
class Row:
    """One manifest line: the photo, its outputs, what happened and how long it took."""

    input: str
    input_sha256: str
    outputs: tuple[str, ...]
    status: Status
    error: str
    seconds: float
    recipe_sha256: str

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "outputs": list(self.outputs)})


@dataclass
class Summary:
    """How a batch went: counts, and the rows of the photos that failed."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    failures: list[Row] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def record(self, row: Row, manifest: Manifest, progress: ProgressFn | None) -> None:
        """Append ``row`` to the manifest (first: a crash after this loses nothing), count it, report it."""
        manifest.append([row])
        self.done += row.status == "ok"
        if row.status == "error":
            self.failures.append(row)
        if progress is not None:
            progress(row)

    def line(self) -> str:
        """The batch's last line: what was done and how many photos failed."""
        rate = self.done / self.seconds if self.seconds > 0 else 0.0
        done = f"{self.done} done, {self.skipped} already done ({rate:.2f} photos/s)"
        return f"{self.failed} of {self.total} photos failed; {done}" if self.failed else done


# ---------------------------------------------------------------- planning


def recipe_sha256(recipe: Recipe) -> str:
    return hashlib.sha256(dumps(recipe).encode()).hexdigest()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_generalises(recipe: Recipe) -> None:
    """Refuse a recipe with a step tied to one photo: it cannot replay on a folder of others."""
    for index, step in enumerate(recipe.steps, start=1):
        if isinstance(step, Clicks | StoredMask) or (isinstance(step, LabelClasses) and step.labels is not None):
            what = {Clicks: "pixel clicks", StoredMask: "a painted or imported mask", LabelClasses: "one label map"}
            raise BatchError(
                f"step {index} ({type(step).kind}) holds {what[type(step)]} made on one photo, so it cannot replay "
                "on a folder; make the mask with a source that generalises (the subject, a colour or luminance "
                "range, the photo's alpha, or label classes with --labels)"
            )


def check_output_folder(source: Path, output: Path) -> None:
    """Refuse an output folder inside the input folder, or one that cannot be written."""
    if output.resolve() == source.resolve() or output.resolve().is_relative_to(source.resolve()):
        raise BatchError(f"the output folder {output} is inside the input folder {source}; choose one outside it")
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / f".stencil-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise BatchError(f"cannot write to the output folder {output}: {error.strerror or error}") from None


def plan(
    source: Path,
    output: Path,
    recipe: Recipe,
    *,
    mask_out: Path | None = None,
    cutout_out: Path | None = None,
    labels: Path | None = None,
) -> list[Item]:
    """One ``Item`` per photo of the folder ``source`` (sorted by name); outputs named by stem."""
    photos = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not photos:
        raise BatchError(f"folder {source} holds no photos ({', '.join(sorted(IMAGE_SUFFIXES))})")
    suffix = FORMAT_SUFFIX[recipe.output.format]
    items = []
    for photo in photos:
        items.append(
            Item(
                source=str(photo),
                target=str(output / f"{photo.stem}{suffix}"),
                mask_target=None if mask_out is None else str(mask_out / f"{photo.stem}.png"),
                cutout_target=None if cutout_out is None else str(cutout_out / f"{photo.stem}.png"),
                labels=None if labels is None else str(companion(labels, photo, "label map")),
            )
        )
    return items


# ---------------------------------------------------------------- one photo


def process(recipe: Recipe, item: Item, engines: Engines, recipe_hash: str) -> Row:
    """Replay ``recipe`` on one photo and write its outputs; a failure becomes an error row."""
    from pipeline.io.images import load_image, load_labels, save_image, save_mask, save_rgba
    from pipeline.recipe.run import run

    started = time.perf_counter()
    try:
        digest = file_sha256(item.source)
    except OSError as error:
        return Row(item.source, "", (), "error", f"cannot read it: {error.strerror or error}", 0.0, recipe_hash)
    try:
        caps = engines.settings
        loaded = load_image(item.source, max_pixels=caps.max_pixels, max_side=caps.max_side)
        label_map = None
        if item.labels is not None:
            as_rgb = any(isinstance(c, tuple) for s in recipe.steps if isinstance(s, LabelClasses) for c in s.classes)
            label_map = load_labels(item.labels, as_rgb=as_rgb, size=loaded.size)
        done = run(recipe, loaded.rgb, engines, alpha=loaded.alpha, labels=label_map)
        save_image(item.target, done.image, exif=loaded.exif, quality=recipe.output.jpeg_quality)
        if item.mask_target is not None:
            save_mask(item.mask_target, done.mask)
        if item.cutout_target is not None:
            save_rgba(item.cutout_target, done.cutout)
    except PipelineError as error:
        return Row(item.source, digest, (), "error", str(error), time.perf_counter() - started, recipe_hash)
    return Row(item.source, digest, item.outputs, "ok", "", time.perf_counter() - started, recipe_hash)


# ---------------------------------------------------------------- the manifest


class Manifest:
    """The batch's record, one JSON line a photo, appended and flushed as each photo finishes.

    A later run of the same recipe skips a photo whose last row is ``ok``, whose input is
    unchanged (same SHA-256) and whose outputs all exist; a truncated last line (a killed run)
    is ignored.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict[str, object]] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("input"), str):
                    self.rows[row["input"]] = row

    def is_done(self, item: Item, recipe_hash: str) -> bool:
        row = self.rows.get(item.source)
        if row is None or row.get("status") != "ok" or row.get("recipe_sha256") != recipe_hash:
            return False
        if not all(Path(p).exists() for p in item.outputs):
            return False
        try:
            return row.get("input_sha256") == file_sha256(item.source)
        except OSError:
            return False

    def append(self, rows: Iterable[Row]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as stream:
            for row in rows:
                stream.write(row.to_json() + "\n")
                self.rows[row.input] = json.loads(row.to_json())
            stream.flush()
            os.fsync(stream.fileno())


def make_output_folders(items: Iterable[Item]) -> None:
    """Create the folders ``items`` write their outputs to (before any worker writes one)."""
    for folder in {Path(path).parent for item in items for path in item.outputs}:
        folder.mkdir(parents=True, exist_ok=True)


def remove_partial_files(*folders: Path | None) -> int:
    """Delete the temporary files a stopped write left in ``folders``; returns how many."""
    removed = 0
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for part in folder.glob(PART_GLOB):
            part.unlink(missing_ok=True)
            removed += 1
    return removed


# ---------------------------------------------------------------- the local pool

Kinds = tuple[str, str]
"""What a batch's "auto" selector and engine are: ``(segmenter kind, engine kind)``, each auto or a name."""


def make_engines(settings: Settings, kinds: Kinds = ("auto", "auto")) -> Engines:
    """The engines of a batch; a named selector or engine is loaded now, "auto" on first use."""
    from pipeline.models import make_inpainter, make_segmenter

    engines = Engines(settings)
    segmenter, engine = kinds
    if segmenter != "auto":
        engines.segmenter = make_segmenter(segmenter, settings)  # type: ignore[arg-type]
    if engine != "auto":
        engines.inpainter = make_inpainter(engine, settings)  # type: ignore[arg-type]
    return engines


def one_core_each() -> None:
    """In a worker of a pool: OpenCV on one thread, so N workers use N cores, not N times all of them."""
    import cv2

    cv2.setNumThreads(1)


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM stops the batch like Ctrl-C (``KeyboardInterrupt``); main thread only."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: SIGTERM is left alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = [
    "BatchError",
    "Item",
    "Manifest",
    "RecipeError",
    "Row",
    "Summary",
    "check_generalises",
    "check_output_folder",
    "plan",
    "process",
    "remove_partial_files",
]
