"""The short load and fault suite (``bench/load.py``): clients, cancels, bad inputs and a killed upload
against one served page; every job completes, none is lost, and model jobs never overlap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_short_load_run_completes_every_job_one_model_job_at_a_time() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.load", "--clients", "4", "--jobs", "2", "--cancels", "2", "--bad", "1"]
        # a session lives TTL s after its last change, queued or not: 10 s outlasts the queue on 2 busy cores
        + ["--ttl", "10", "--wait", "18", "--port", "0", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr[-3000:]
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    clients = figures["clients"]
    assert (clients["completed"], clients["errored"], clients["lost"]) == (8, 0, 0)
    assert clients["leaks"] == 0 and clients["cancels"] == 2
    assert (clients["bad_clear"], clients["bad"]) == (2, 2)  # each bad input got its clear message
    assert figures["peak_jobs"] == 1
    assert figures["after"]["disk"] < figures["peak"]["disk"]  # the ended sessions' files went
