"""Step 5's batch: the shown result's recipe replayed on many photos uploaded at once, bounded.

The photos come as image files and/or zip archives. Everything is surveyed before a byte is
unpacked: at most ``MANY_MAX_PHOTOS`` photos and ``MANY_MAX_BYTES`` in total (a zip counts with
the uncompressed sizes its directory declares, every entry included), at most
``MANY_MAX_ENTRIES`` entries a zip. A zip entry's name is only shown, never used as a path: a
photo is unpacked to ``inputs/<unique stem><suffix>``, so no name (``../x.png``, ``/etc/x.png``)
can write outside the batch's folder; such names are skipped with a note, as are entries that
are not photos. Larger batches belong to ``stencil apply`` (``CLI_HINT``).

Each photo runs through ``pipeline.recipe.batch.process`` with the app's engines, in this process
(inside ``Services.run_model``, one photo at a time); a failure becomes an error row of the
manifest and the batch goes on. The results, ``manifest.jsonl`` and ``recipe.json`` are zipped
(written under a temporary name, then renamed) in a fresh ``many-*`` folder of the session's
folder, which goes away with the session. Nothing here knows about Gradio.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from pipeline import recipe as recipes
from pipeline.errors import InvalidInput
from pipeline.inpaint.protocol import CancelFlag
from pipeline.recipe import Recipe
from pipeline.recipe.batch import (
    FORMAT_SUFFIX,
    IMAGE_SUFFIXES,
    BatchError,
    Item,
    Manifest,
    Row,
    Summary,
    check_generalises,
    process,
    recipe_sha256,
)
from ui.notebook import session_folder
from ui.services import Services
from ui.state import Session

log = logging.getLogger(__name__)

MANY_MAX_PHOTOS = 200
MANY_MAX_BYTES = 300 * 1024 * 1024
"""Input bytes of one batch: image files as uploaded, zips as their declared uncompressed sizes."""
MANY_MAX_ENTRIES = 2000
"""Entries (files and folders) read from one zip's directory."""
MANY_MAX_NOTES = 8
"""Skipped names listed in the summary; the rest are counted."""
CLI_HINT = (
    "for a larger batch, download recipe.json (step 5's downloads) and run "
    "`stencil apply recipe.json FOLDER -o OUT --workers N` (or `--ray` on a Ray cluster)"
)
UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)
"""What reading one zip entry can raise (damaged data, encryption, an unsupported compression)."""

ReportFn = Callable[[int, int, str], None]
"""``report(done, total, name)``: before each photo (``name`` is the next), and ``(total, total, "")``
before the zip is written."""


@dataclass(frozen=True)
class Source:
    """One photo of a batch: its shown name (``b.jpg``, ``photos.zip/shoot/a.jpg``), the uploaded
    file it is in, its zip entry if any, its size in bytes (declared, for an entry) and its output
    stem (unique within the batch)."""

    name: str
    upload: Path
    size: int
    entry: zipfile.ZipInfo | None = None
    stem: str = ""


@dataclass(frozen=True)
class Survey:
    """What the uploads hold: the photos, names skipped with why, and the total input bytes."""

    sources: tuple[Source, ...]
    skipped: tuple[str, ...]
    total_bytes: int


@dataclass(frozen=True)
class Batch:
    """A finished batch: the zip to download, how it went, and the names that were skipped."""

    archive: Path
    summary: Summary
    skipped: tuple[str, ...]
    stopped: bool = False

    def markdown(self) -> str:
        """``"2 done, 1 failed (3 photos, 1.2 s)"``, then one line per failure and the skipped names."""
        s = self.summary
        photos = "1 photo" if s.total == 1 else f"{s.total} photos"
        head = f"**{s.done} done, {s.failed} failed** ({photos}, {s.seconds:.1f} s)"
        if self.stopped:
            head += f"; cancelled after {s.done + s.failed} photos"
        lines = [head, *(f"- {row.input}: {row.error}" for row in s.failures)]
        if self.skipped:
            shown = ", ".join(self.skipped[:MANY_MAX_NOTES])
            more = f" and {len(self.skipped) - MANY_MAX_NOTES} more" if len(self.skipped) > MANY_MAX_NOTES else ""
            lines.append(f"\nSkipped: {shown}{more}.")
        return "\n".join(lines)


# ---------------------------------------------------------------- the recipe


def shown_recipe(session: Session) -> Recipe:
    """The recipe of the result shown in step 5; raises ``InvalidInput`` without one, ``BatchError``
    when it holds a step made on one photo (clicks, a painted mask)."""
    if session.shown_cell is None:
        raise InvalidInput("no result yet: run an edit in step 4 first; its recipe is what runs on the photos")
    recipe = session.cell(session.shown_cell).recipe
    check_generalises(recipe)
    return recipe


# ---------------------------------------------------------------- the uploads


def survey(uploads: Iterable[str | Path]) -> Survey:
    """Read what ``uploads`` (image files and zips) hold, without unpacking; raises ``BatchError``
    over the bounds, ``InvalidInput`` for an unreadable zip or no photos at all."""
    sources: list[Source] = []
    skipped: list[str] = []
    total = 0
    for upload in map(Path, uploads):
        if upload.suffix.lower() == ".zip":
            found, skipped_here, declared = _survey_zip(upload)
            sources += found
            skipped += skipped_here
            total += declared
        elif upload.suffix.lower() in IMAGE_SUFFIXES:
            size = upload.stat().st_size
            sources.append(Source(upload.name, upload, size))
            total += size
        else:
            skipped.append(f"{upload.name} (not a photo or a zip)")
    if total > MANY_MAX_BYTES:
        raise BatchError(
            f"the photos add up to {total / 2**20:,.0f} MB, above the {MANY_MAX_BYTES / 2**20:,.0f} MB the page "
            f"takes at once; {CLI_HINT}"
        )
    if len(sources) > MANY_MAX_PHOTOS:
        raise BatchError(f"{len(sources)} photos is more than the {MANY_MAX_PHOTOS} the page takes at once; {CLI_HINT}")
    if not sources:
        raise InvalidInput(
            f"no photos to run on: add a .zip or photos ({', '.join(sorted(IMAGE_SUFFIXES))})"
            + (f"; skipped {', '.join(skipped[:MANY_MAX_NOTES])}" if skipped else "")
        )
    return Survey(tuple(with_unique_stems(sources)), tuple(skipped), total)


def _survey_zip(upload: Path) -> tuple[list[Source], list[str], int]:
    """The photos of one zip, the entries skipped, and the uncompressed size its directory declares."""
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidInput(f"{upload.name} is not a readable zip file ({error}); zip the photos again") from None
    if len(entries) > MANY_MAX_ENTRIES:
        raise BatchError(
            f"{upload.name} holds {len(entries)} entries, more than the {MANY_MAX_ENTRIES} the page reads; {CLI_HINT}"
        )
    sources, skipped = [], []
    for entry in entries:
        name = entry.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if entry.is_dir() or not parts or _is_hidden(parts):
            continue
        shown = f"{upload.name}/{name}"
        if name.startswith("/") or ".." in parts or ":" in parts[0]:
            skipped.append(f"{shown} (its path leaves the folder)")
        elif PurePosixPath(name).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{shown} (not a photo)")
        else:
            sources.append(Source(shown, upload, entry.file_size, entry))
    return sources, skipped, sum(entry.file_size for entry in entries)


def _is_hidden(parts: Sequence[str]) -> bool:
    """macOS resource forks (``__MACOSX/``, ``._a.jpg``) and other dot files: skipped silently."""
    return parts[0] == "__MACOSX" or parts[-1].startswith(".")


SAFE_STEM = re.compile(r"[^A-Za-z0-9._ -]+")


def with_unique_stems(sources: Iterable[Source]) -> list[Source]:
    """``sources`` with safe output stems, unique regardless of case (``a``, ``a-2``, ...)."""
    taken: set[str] = set()
    named = []
    for source in sources:
        base = SAFE_STEM.sub("_", PurePosixPath(source.name.replace("\\", "/")).stem).strip(" .")[:100] or "photo"
        stem, n = base, 1
        while stem.lower() in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem.lower())
        named.append(replace(source, stem=stem))
    return named


def unpack(source: Source, folder: Path) -> Path:
    """The photo as a file: the upload itself, or its zip entry copied to ``folder`` (never more
    bytes than the entry declares)."""
    if source.entry is None:
        return source.upload
    folder.mkdir(exist_ok=True)
    target = folder / f"{source.stem}{PurePosixPath(source.entry.filename).suffix.lower()}"
    written = 0
    with zipfile.ZipFile(source.upload) as archive, archive.open(source.entry) as stream, target.open("wb") as out:
        while block := stream.read(1 << 20):
            written += len(block)
            if written > source.entry.file_size:
                raise zipfile.BadZipFile("it unpacks to more bytes than the zip declares")
            out.write(block)
    return target


# ---------------------------------------------------------------- the run


def run_many(
    services: Services,
    session: Session,
    uploads: Sequence[str | Path],
    *,
    report: ReportFn | None = None,
    cancel: CancelFlag | None = None,
) -> Batch:
    """Replay the shown result's recipe on every photo of ``uploads``; see the module docstring."""
    recipe = shown_recipe(session)
    found = survey(uploads)
    parent = session_folder(session)
    for old in parent.glob("many-*"):  # one batch a session on disk (the page has copied the last zip)
        shutil.rmtree(old, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="many-", dir=parent))
    manifest = Manifest(work / "manifest.jsonl")
    summary, recipe_hash = Summary(total=len(found.sources)), recipe_sha256(recipe)
    started, stopped = time.perf_counter(), False
    for index, source in enumerate(found.sources):
        if cancel is not None and cancel.is_set():
            stopped = True
            break
        if report is not None:
            report(index, summary.total, source.name)
        row = _one(services, recipe, recipe_hash, source, work)
        manifest.append([row])
        summary.done += row.status == "ok"
        if row.status == "error":
            summary.failures.append(row)
    summary.seconds = time.perf_counter() - started
    if report is not None:
        report(summary.total, summary.total, "")
    archive = write_archive(work, recipe, name=f"stencil-{session.shown_cell}-batch.zip")
    shutil.rmtree(work / "inputs", ignore_errors=True)
    shutil.rmtree(work / "results", ignore_errors=True)
    return Batch(archive, summary, found.skipped, stopped)


def _one(services: Services, recipe: Recipe, recipe_hash: str, source: Source, work: Path) -> Row:
    """One photo's manifest row (paths as shown: the photo's name, ``results/<stem>.png``)."""
    try:
        path = unpack(source, work / "inputs")
    except UNPACK_ERRORS as error:
        return Row(source.name, "", (), "error", f"cannot unpack it ({error})", 0.0, recipe_hash)
    target = work / "results" / f"{source.stem}{FORMAT_SUFFIX[recipe.output.format]}"
    target.parent.mkdir(exist_ok=True)
    item = Item(source=str(path), target=str(target))
    engines = services.engines
    try:
        row = services.run_model(lambda: process(recipe, item, engines, recipe_hash))
    except Exception as error:  # one photo's failure, whatever it is, must not stop the batch
        log.exception("batch photo %s failed", source.name)
        row = Row(str(path), "", (), "error", f"{type(error).__name__}: {error}", 0.0, recipe_hash)
    finally:
        if source.entry is not None:
            path.unlink(missing_ok=True)
    outputs = tuple(f"results/{Path(output).name}" for output in row.outputs)
    return replace(row, input=source.name, outputs=outputs, error=row.error.replace(str(path), source.name))


def write_archive(work: Path, recipe: Recipe, *, name: str) -> Path:
    """``work/name``: ``results/*``, ``manifest.jsonl`` and ``recipe.json``, written under a
    temporary name and renamed, so a half-written zip is never offered."""
    target = work / name
    part = work / f".{name}.part"
    manifest = work / "manifest.jsonl"
    with zipfile.ZipFile(part, "w") as archive:
        for result in sorted((work / "results").glob("*")) if (work / "results").is_dir() else ():
            archive.write(result, f"results/{result.name}", compress_type=zipfile.ZIP_STORED)  # already compressed
        archive.writestr("manifest.jsonl", manifest.read_text() if manifest.exists() else "", zipfile.ZIP_DEFLATED)
        archive.writestr("recipe.json", recipes.dumps(recipe), zipfile.ZIP_DEFLATED)
    os.replace(part, target)
    return target
