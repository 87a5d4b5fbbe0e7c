"""What runs on Ray's workers for ``pipeline.recipe.ray_batch``: the ``_Replay`` actors that load a
recipe and its engines once and replay it photo by photo, the ``_Attempts`` counter that stops a
photo which keeps killing its worker, and reading photos from URIs (``s3://``, ``file://``...)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlparse

from pipeline.errors import PipelineError
from pipeline.recipe.batch import MAX_RETRIES, Item, Kinds, Row, make_engines, one_core_each, process, recipe_sha256
from pipeline.recipe.codec import loads
from pipeline.settings import Settings

if TYPE_CHECKING:
    import pyarrow
    from ray.actor import ActorHandle


class _Attempts:
    """How many times each unfinished photo was started: a Ray actor shared by a run's ``_Replay`` actors.

    A photo is forgotten when it finishes, so only the photos in flight (or whose worker died) are held,
    and a finished photo that a retried task does again starts from one.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def begin(self, source: str) -> int:
        self.counts[source] = self.counts.get(source, 0) + 1
        return self.counts[source]

    def finish(self, source: str) -> None:
        self.counts.pop(source, None)


class _Replay:
    """One Ray Data actor: the recipe and engines loaded once, then ``process`` per photo.

    Engines that cannot load (a named model that is missing) put the reason in every photo's
    ``fatal`` column instead of killing the actor, so the driver stops the batch with one line.
    """

    def __init__(self, recipe_json: str, settings: Settings, kinds: Kinds, attempts: ActorHandle) -> None:
        one_core_each()  # an actor has one CPU
        self.recipe = loads(recipe_json)
        self.hash = recipe_sha256(self.recipe)
        self.attempts = attempts
        self.fatal = ""
        try:
            self.engines = make_engines(settings, kinds)
        except PipelineError as error:
            self.fatal = str(error)

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        """Items (``Item``'s fields as columns) in; a ``row`` column of manifest JSON lines and ``fatal`` out."""
        import pyarrow
        import ray

        items = [Item(**fields) for fields in batch.to_pylist()]
        if self.fatal:
            return pyarrow.table({"row": [""] * len(items), "fatal": [self.fatal] * len(items)})
        rows: list[str] = []
        for item in items:
            tries = cast(int, ray.get(self.attempts.begin.remote(item.source)))
            rows.append(self._replay(item, tries).to_json())
            self.attempts.finish.remote(item.source)
        return pyarrow.table({"row": rows, "fatal": [""] * len(rows)})

    def _replay(self, item: Item, tries: int) -> Row:
        if tries > MAX_RETRIES + 1:
            message = f"its worker died {tries - 1} times (out of memory?); try it alone"
            return Row(item.source, "", (), "error", message, 0.0, self.hash)
        if not any(_is_uri(path) for path in (item.source, item.labels)):
            return process(self.recipe, item, self.engines, self.hash)
        with tempfile.TemporaryDirectory(prefix="stencil-ray-") as folder:
            try:
                labels = None if item.labels is None else _fetch(item.labels, folder, "labels")
                local = replace(item, source=_fetch(item.source, folder, "photo"), labels=labels)
            except (OSError, ValueError) as error:
                return Row(item.source, "", (), "error", f"cannot read it: {error}", 0.0, self.hash)
            return replace(process(self.recipe, local, self.engines, self.hash), input=item.source)


def _is_uri(path: str | None) -> bool:
    return path is not None and len(urlparse(path).scheme) > 1  # "C:" is a drive, not a scheme


def _fetch(path: str, folder: str, role: str) -> str:
    """``path`` itself when it is local, else a copy of the URI's bytes in ``folder`` (named ``role-NAME``)."""
    if not _is_uri(path):
        return path
    copy = Path(folder, f"{role}-{Path(urlparse(path).path).name}")
    copy.write_bytes(_read(path))
    return str(copy)


def _read(uri: str) -> bytes:
    """The bytes at ``uri``: ``pyarrow.fs`` (s3, gs, hdfs, file), else fsspec when it knows the scheme."""
    import pyarrow.fs

    try:
        filesystem, path = pyarrow.fs.FileSystem.from_uri(uri)
    except ValueError:
        try:
            import fsspec
        except ImportError:
            raise ValueError(f"no file system reads {urlparse(uri).scheme}:// URIs (pip install fsspec)") from None
        with fsspec.open(uri, "rb") as stream:
            return bytes(stream.read())
    with filesystem.open_input_stream(path) as stream:
        return bytes(stream.read())
