"""The local pool: a recipe over a folder on N processes of this machine, each loading its models once.

Photos the manifest shows as done are skipped; rows are appended as photos finish. A worker that
dies is replaced and its photos are tried again (``MAX_RETRIES``); Ctrl-C or SIGTERM stops the
batch after the photos being written, so nothing partial remains.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from pipeline.errors import PipelineError
from pipeline.recipe.batch import (
    MAX_RETRIES,
    BatchError,
    Item,
    Kinds,
    Manifest,
    ProgressFn,
    Row,
    Summary,
    make_engines,
    make_output_folders,
    one_core_each,
    process,
    recipe_sha256,
    stop_on_sigterm,
)
from pipeline.recipe.codec import dumps, loads
from pipeline.recipe.steps import Recipe
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_worker_state: dict[str, object] = {}
"""Per worker process: the recipe, its hash and the engines, loaded once (never in the parent)."""


def _init_worker(recipe_json: str, settings: Settings, kinds: Kinds) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the batch; a photo finishes its write
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    one_core_each()
    recipe = loads(recipe_json)
    _worker_state.update(recipe=recipe, hash=recipe_sha256(recipe))
    try:
        _worker_state["engines"] = make_engines(settings, kinds)
    except PipelineError as error:  # a missing model: every photo would fail, so the batch stops
        _worker_state["broken"] = str(error)


def _work(item: Item) -> Row:
    if "broken" in _worker_state:
        raise BatchError(f"the workers cannot load their models: {_worker_state['broken']}")
    recipe, engines = _worker_state["recipe"], _worker_state["engines"]
    return process(recipe, item, engines, str(_worker_state["hash"]))  # type: ignore[arg-type]


def run_local(
    recipe: Recipe,
    items: list[Item],
    manifest: Manifest,
    *,
    workers: int,
    settings: Settings | None = None,
    kinds: Kinds = ("auto", "auto"),
    progress: ProgressFn | None = None,
) -> Summary:
    """Run ``items`` on ``workers`` processes (1: in this process, with ``engines``).

    Photos the manifest shows as done are skipped. Rows are appended as photos finish. A worker
    that dies is replaced and its photos are tried again (``MAX_RETRIES``). Ctrl-C or SIGTERM
    stops the batch after the photos being written: their rows are kept, nothing partial remains.
    """
    started = time.perf_counter()
    recipe_hash = recipe_sha256(recipe)
    summary = Summary(total=len(items))
    todo = [item for item in items if not manifest.is_done(item, recipe_hash)]
    summary.skipped = len(items) - len(todo)
    make_output_folders(todo)

    def record(row: Row) -> None:
        summary.record(row, manifest, progress)

    with stop_on_sigterm():
        if workers <= 1:
            local = make_engines(settings or Settings(), kinds)
            for item in todo:
                record(process(recipe, item, local, recipe_hash))
        else:
            _pool(recipe, todo, workers, (settings or Settings(), kinds), record)
    summary.seconds = time.perf_counter() - started
    return summary


def _pool(
    recipe: Recipe, todo: list[Item], workers: int, setup: tuple[Settings, Kinds], record: Callable[[Row], None]
) -> None:
    """Feed ``todo`` to a process pool, at most two photos a worker in flight."""
    tries: dict[str, int] = {}
    queue = list(reversed(todo))
    while queue:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a parent's OpenCV or BLAS threads
            initializer=_init_worker,
            initargs=(dumps(recipe), *setup),
        )
        running: dict[Future[Row], Item] = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * workers:
                    future = pool.submit(_work, queue[-1])  # raises once the pool broke: the photo stays queued
                    running[future] = queue.pop()
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = future.result()  # raises BrokenProcessPool when a worker died: ``running`` keeps its photo
                    del running[future]
                    record(row)
        except BrokenProcessPool:
            for item in _requeue(running.values(), tries, record, recipe_sha256(recipe)):
                queue.append(item)
            log.warning("a worker died; %d photos are tried again on a new pool", len(running))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _requeue(
    items: Iterable[Item], tries: dict[str, int], record: Callable[[Row], None], recipe_hash: str
) -> Iterator[Item]:
    """The photos of a dead pool to try again; those tried ``MAX_RETRIES`` times get an error row."""
    for item in items:
        tries[item.source] = tries.get(item.source, 0) + 1
        if tries[item.source] > MAX_RETRIES:
            message = f"its worker died {tries[item.source]} times (out of memory?); try it alone"
            record(Row(item.source, "", (), "error", message, 0.0, recipe_hash))
        else:
            yield item
