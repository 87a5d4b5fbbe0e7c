"""A bounded, thread-safe cache for expensive per-photo results (SAM image embeddings).

Entries are kept least-recently-used first out under a byte budget. A value being computed is
shared: a second caller asking for the same key while the first computes waits for that result
instead of computing it again, so a photo is embedded once even when the UI starts ``prepare``
in a background thread and a click arrives before it finishes.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

from pipeline.errors import InvalidInput

log = logging.getLogger(__name__)

V = TypeVar("V")


class EmbeddingCache(Generic[V]):
    """Key -> value, at most ``max_bytes`` in all (as measured by ``size_of``), LRU eviction.

    The most recent entry is always kept, even when it alone is over the budget, so the photo
    being worked on is never recomputed. ``computed`` counts the ``compute`` calls that ran.
    """

    def __init__(self, *, max_bytes: int, size_of: Callable[[V], int]) -> None:
        if max_bytes < 0:
            raise InvalidInput(f"cache budget must be 0 bytes or more, got {max_bytes}")
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._pending: dict[Hashable, Future[V]] = {}
        self._bytes = 0
        self.computed = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value for ``key``; else wait for one in flight; else ``compute()`` it now.

        An exception from ``compute`` reaches every caller waiting on that key; nothing is cached.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = Future()
                owner = True
                self.computed += 1
            else:
                owner = False
        if not owner:
            return pending.result()
        try:
            value = compute()
        except BaseException as error:
            with self._lock:
                del self._pending[key]
            pending.set_exception(error)
            raise
        with self._lock:
            del self._pending[key]
            self._store(key, value)
        pending.set_result(value)
        return value

    def _store(self, key: Hashable, value: V) -> None:
        size = self._size_of(value)
        self._entries[key] = (value, size)
        self._bytes += size
        while self._bytes > self.max_bytes and len(self._entries) > 1:
            old_key, (_, old_size) = self._entries.popitem(last=False)
            self._bytes -= old_size
            log.debug("cache evicted %r (%d bytes)", old_key, old_size)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def bytes_used(self) -> int:
        with self._lock:
            return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
