"""What a server process holds: RSS and temp-disk gauges sampled in the background, and a census
of live arrays, threads and the largest memory mappings (to tell a leak from one-time cost).

Used by ``bench/load.py``; Linux only for the mappings (``/proc/self/smaps``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

MB = 2**20


class Gauge:
    """Samples the server's RSS, its temp-disk use and the model slot every 0.2 s; keeps the peaks."""

    def __init__(self, folders: list[Path], slot: Any) -> None:
        import psutil

        self.process, self.folders, self.slot = psutil.Process(), folders, slot
        self.peak_rss = self.peak_disk = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def disk(self) -> int:
        total = 0
        for folder in self.folders:  # sessions' folders come and go while this walks: skip what went
            for parent, _, names in os.walk(folder, onerror=lambda error: None):
                for name in names:
                    with contextlib.suppress(OSError):
                        total += os.stat(os.path.join(parent, name)).st_size
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_rss, self.peak_disk = max(self.peak_rss, self.rss()), max(self.peak_disk, self.disk())

    def __enter__(self) -> Gauge:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def census(mappings: int = 6) -> dict[str, Any]:
    """Live numpy arrays (owning their data), threads, and the ``mappings`` largest mappings by RSS
    (anonymous memory is the heap, allocator arenas and compiled code; a file is a loaded library)."""
    gc.collect()
    arrays = [item for item in gc.get_objects() if isinstance(item, np.ndarray) and item.base is None]
    rss: Counter[str] = Counter()
    where = "[anon]"
    with contextlib.suppress(OSError), open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if fields and "-" in fields[0] and not fields[0].endswith(":"):
                where = os.path.basename(fields[5]) if len(fields) > 5 else "[anon]"
            elif fields and fields[0] == "Rss:":
                rss[where] += int(fields[1]) * 1024
    return {
        "arrays": len(arrays),
        "array_mb": round(sum(item.nbytes for item in arrays) / MB, 1),
        "threads": threading.active_count(),
        "largest_mappings_mb": {name: round(size / MB) for name, size in rss.most_common(mappings)},
    }
