"""A recipe over a folder on Ray Data: the local pool's ``process``, on a local Ray or a cluster.

``run_ray`` turns the photos the manifest does not show done into a dataset of paths
(``ray.data.from_items``; one photo a block up to ``MAX_BLOCKS`` photos, then a few a block) and
maps it with ``_Replay`` actors (``map_batches`` with a callable class on a fixed
``ActorPoolStrategy``) that each load the recipe and the engines once. Rows stream back
(``iter_rows``) and are appended to the manifest and reported as they come; results are never
held whole on the driver.

A dead worker: Ray Data restarts its actor (``max_restarts=-1``) and sends its photos again
(``max_task_retries=-1``), its defaults for actor pools; outputs are written through a temporary
name and a rename, so a photo redone gives the same file, and the driver keeps one row a photo.
``_Attempts`` (in ``ray_worker``, with the actors) counts the unfinished starts of each photo, so
one that kills its worker ``MAX_RETRIES + 1`` times gets an error row instead of looping.

Sources may be local paths or URIs that ``pyarrow.fs`` (or fsspec) reads, such as ``s3://``; the
actors copy those to a temporary file first. Outputs are paths: on a cluster every node must see
the output folder (a shared file system) and have Stencil installed. Ray is imported inside the
functions only, so ``import pipeline`` never loads it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlparse

from pipeline.edits.background import PromptBackground
from pipeline.recipe.batch import (
    BatchError,
    Item,
    Kinds,
    Manifest,
    ProgressFn,
    Row,
    Summary,
    make_output_folders,
    recipe_sha256,
    remove_partial_files,
    stop_on_sigterm,
)
from pipeline.recipe.codec import dumps
from pipeline.recipe.ray_worker import _Attempts, _Replay
from pipeline.recipe.steps import EDIT_STEPS, Clicks, Recipe, ReplaceBackground
from pipeline.settings import Settings

if TYPE_CHECKING:
    from ray.actor import ActorHandle

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
"""How long a cluster address may take to accept a connection before the batch is refused."""
MAX_BLOCKS = 1000
"""Most blocks a run's dataset is cut into: one photo a block up to that, then photos shared evenly.
Ray keeps about 30 KB of bookkeeping a block and ~10 ms of scheduling a task; rows come back a block
at a time."""


def run_ray(
    recipe: Recipe,
    items: list[Item],
    manifest: Manifest,
    *,
    address: str = "local",
    settings: Settings | None = None,
    kinds: Kinds = ("auto", "auto"),
    progress: ProgressFn | None = None,
    workers: int | None = None,
) -> Summary:
    """Run ``items`` on Ray Data; what ``run_local`` does, on Ray's actors.

    ``address`` is "local" (the Ray this process already started, or a new one on every core),
    "auto" (the cluster this machine belongs to) or "ray://host:port" (Ray Client). An address
    that cannot be reached raises ``BatchError`` before anything is written. ``workers`` actors
    (default: one a CPU of the cluster, or one a GPU when the recipe runs SAM or diffusion)
    work at once. Photos the manifest shows done are skipped; rows are appended as photos finish.
    """
    started = time.perf_counter()
    recipe_hash = recipe_sha256(recipe)
    summary = Summary(total=len(items))
    todo = [item for item in items if not manifest.is_done(item, recipe_hash)]
    summary.skipped = len(items) - len(todo)
    if todo:
        import ray

        make_output_folders(todo)  # on a cluster the output folder is shared: the driver makes it once
        owned = _connect(address)
        try:
            stream = _stream(recipe, todo, settings or Settings(), kinds, workers)
            with stop_on_sigterm(), _quiet_data(), closing(stream):  # closed before a shutdown
                for row in stream:
                    summary.record(row, manifest, progress)
        finally:
            if owned:
                ray.shutdown()
            remove_partial_files(*{Path(p).parent for item in todo for p in item.outputs})
    summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------- the runtime


def _connect(address: str) -> bool:
    """Join or start the Ray runtime for ``address``; True when this call started one (to shut down)."""
    import ray

    if address != "local":
        _check_reachable(address)
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address == "local":
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, **quiet)
        return True
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BatchError(f"cannot connect to Ray at {address}: {first}") from None
    return False


def _check_reachable(address: str) -> None:
    """Refuse at once a ``ray://host:port`` or ``host:port`` nothing listens on ("auto" is Ray's to find)."""
    if address == "auto":
        return
    parsed = urlparse(address if "://" in address else f"ray://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise BatchError(f"Ray address {address!r} is not 'auto', 'ray://HOST:PORT' or HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise BatchError(f"cannot connect to Ray at {address}: {error.strerror or error}") from None


@contextmanager
def _quiet_data() -> Iterator[None]:
    """Ray Data without its progress bars and info lines on the console, so the caller's progress shows,
    and without the ordering a photo batch does not use.

    Its warnings still show (but the one that says the bars are off); its log file keeps everything.
    """
    from ray.data import DataContext

    context = DataContext.get_current()
    quiet = {"enable_progress_bars": False, "print_on_execution_start": False, "verbose_stats_logs": False}
    before = {name: getattr(context, name) for name in quiet}
    options = context.execution_options
    kept = options.preserve_order
    # Rows go to the manifest in the order photos finish: keeping the input order only costs here.
    options.preserve_order = False
    consoles = [
        handler
        for handler in logging.getLogger("ray.data").handlers
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
    ]
    levels = [handler.level for handler in consoles]
    for name, value in quiet.items():
        setattr(context, name, value)
    for handler in consoles:
        handler.setLevel(max(handler.level, logging.WARNING))
        handler.addFilter(_bars_off_notice)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(context, name, value)
        options.preserve_order = kept
        for handler, level in zip(consoles, levels, strict=True):
            handler.setLevel(level)
            handler.removeFilter(_bars_off_notice)


def _bars_off_notice(record: logging.LogRecord) -> bool:
    """False for Ray Data's notice that its progress bars are off (we turned them off)."""
    return not record.getMessage().startswith("Progress bars disabled")


# ---------------------------------------------------------------- the dataset


def _stream(
    recipe: Recipe, todo: list[Item], settings: Settings, kinds: Kinds, workers: int | None
) -> Generator[Row, None, None]:
    """Map ``todo`` with a pool of ``_Replay`` actors and yield each photo's row as it comes back."""
    import ray
    from ray.data import ActorPoolStrategy

    gpu = _needs_gpu(recipe, settings, kinds) and ray.cluster_resources().get("GPU", 0) >= 1
    available = ray.cluster_resources().get("GPU" if gpu else "CPU", 1)
    size = max(1, min(workers or int(available), len(todo)))
    attempts = cast("ActorHandle", ray.remote(_Attempts).options(num_cpus=0, max_restarts=-1).remote())
    dataset = ray.data.from_items([asdict(item) for item in todo], override_num_blocks=min(len(todo), MAX_BLOCKS))
    rows = dataset.map_batches(
        _Replay,
        batch_size=1,  # one photo a call; a task is one block
        batch_format="pyarrow",  # keeps None (a missing mask or label path) as None
        compute=ActorPoolStrategy(size=size),
        fn_constructor_args=(dumps(recipe), settings, kinds, attempts),
        num_cpus=None if gpu else 1,
        num_gpus=1 if gpu else None,
    )
    log.info("ray: %d photos on %d %s actors", len(todo), size, "GPU" if gpu else "CPU")
    seen: set[str] = set()
    try:
        for record in rows.iter_rows():
            if record["fatal"]:
                raise BatchError(f"the Ray workers cannot load their engines: {record['fatal']}")
            row = _row(record["row"])
            if row.input not in seen:  # a photo redone by a retried task reports once
                seen.add(row.input)
                yield row
    finally:
        ray.kill(attempts)


def _needs_gpu(recipe: Recipe, settings: Settings, kinds: Kinds) -> bool:
    """Whether the recipe runs SAM (clicks) or diffusion (an edit's engine), given settings and kinds."""
    if settings.device == "cpu":
        return False
    if any(isinstance(s, Clicks) for s in recipe.steps) and kinds[0] != "classic":
        from pipeline.select.sam.segmenter import find_checkpoint

        if kinds[0] in ("sam", "sam3") or find_checkpoint(settings) is not None:
            return True
    edits = [s for s in recipe.steps if isinstance(s, EDIT_STEPS)]
    engines = {
        kinds[1] if step.engine == "auto" else step.engine
        for step in edits
        if not isinstance(step, ReplaceBackground) or isinstance(step.fill, PromptBackground)
    }
    if "diffusion" in engines:
        return True
    if "auto" in engines:
        from pipeline.inpaint.diffusion.loader import find_model

        return find_model(settings) is not None
    return False


def _row(text: str) -> Row:
    fields = json.loads(text)
    return Row(**{**fields, "outputs": tuple(fields["outputs"])})


__all__ = ["run_ray"]
