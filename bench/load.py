"""Load and fault suite: N ``gradio_client`` clients x M jobs against one server on loopback.

    flock -x /tmp/stencil-bench.lock python -m bench.load                   # 20 clients x 5 jobs, 5 cancels
    python -m bench.load --clients 4 --jobs 2 --cancels 1 --ttl 5            # the short version the tests run

This process serves the page (``ui.page.build_demo`` with the classical backends and the launch
settings of ``ui.launch``, ``STENCIL_SESSION_TTL_S`` = ``--ttl``; warmed up as ``app.py`` does, and
"before" is read once that is done) and counts, through its model
slot (``ui.slot``), how many model jobs ever ran at once. The clients run in a child process
(so their memory is not the server's): each loads its own photo (every client a different
size), selects it with one click and removes it ("a job": load, select, edit), ``--jobs`` times;
a client told "busy" waits and retries (counted as refused). Mixed in: ``--cancels`` removals
cancelled 50 ms after they start, ``--bad`` clients that also send a text file named .jpg and a
grow of 1e9 (each must get its clear message), and one client that dies in the middle of an
upload. A result of another client's size would be a session leak.

Printed: jobs completed / refused / errored / lost, p50 and p95 job latency, the peak number of
model jobs at once, the server's RSS and its temp-disk use (Gradio's upload cache and the app's
session folders) before, at peak and after the sessions end (``--wait`` s after the last client).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.census import Gauge, census

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]  # bench/select.py shadows select
sys.path.insert(0, str(ROOT))

MB = 2**20
BUSY = ("busy", "queue is full")


# ---------------------------------------------------------------- clients (child process)


def _photo(folder: Path, index: int) -> tuple[Path, tuple[int, int]]:
    """A product photo of its own size: a red disc on a light grey backdrop with mild noise."""
    from PIL import Image as PILImage

    width, height = 320 + 8 * index, 240
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.full((height, width, 3), 225, np.uint8)
    rgb[(xx - width // 2) ** 2 + (yy - height // 2) ** 2 < 60**2] = (200, 30, 30)
    noise = np.random.default_rng(index).integers(-6, 7, rgb.shape)
    path = folder / f"client-{index}.png"
    PILImage.fromarray(np.clip(rgb + noise, 0, 255).astype(np.uint8)).save(path)
    return path, (width, height)


def _retrying(call: Any, tally: dict[str, int]) -> Any:
    while True:
        try:
            return call()
        except Exception as error:
            if not any(word in str(error).lower() for word in BUSY):
                raise
            tally["refused"] += 1
            time.sleep(0.5)


def _client(url: str, index: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from gradio_client import Client, handle_file

    tally: dict[str, Any] = {"completed": 0, "refused": 0, "errored": 0, "cancels": 0, "leaks": 0}
    tally.update({"bad_clear": 0, "bad": 0, "latencies": [], "errors": []})
    photo, size = _photo(folder, index)
    client = Client(url, verbose=False)
    try:
        for job in range(args.jobs):
            started = time.perf_counter()
            try:
                info = _retrying(lambda: client.predict(handle_file(str(photo)), api_name="/load_image"), tally)
                points = json.dumps([[size[0] // 2, size[1] // 2, 1]])
                _retrying(lambda p=points: client.predict(p, "", "replace", api_name="/select"), tally)
                if index < args.cancels and job == 0:
                    pending = client.submit("auto", -1, api_name="/remove")
                    time.sleep(0.05)
                    pending.cancel()
                    tally["cancels"] += 1
                result = _retrying(lambda: client.predict("auto", -1, api_name="/remove"), tally)
                from PIL import Image as PILImage

                with PILImage.open(result[0]) as picture:
                    if picture.size != size or (info["width"], info["height"]) != size:
                        tally["leaks"] += 1
                tally["completed"] += 1
                tally["latencies"].append(time.perf_counter() - started)
            except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                tally["errored"] += 1
                tally["errors"].append(f"{type(error).__name__}: {error}"[:200])
        if index < args.bad:
            _bad_inputs(client, folder, index, tally)
    finally:
        client.close()
    return tally


def _bad_inputs(client: Any, folder: Path, index: int, tally: dict[str, Any]) -> None:
    """A text file named .jpg, then a grow of 1e9: each must be refused with its clear message."""
    from gradio_client import handle_file

    fake = folder / f"not-a-photo-{index}.jpg"
    fake.write_text("this is text, not a picture\n")
    cases = [
        (lambda: client.predict(handle_file(str(fake)), api_name="/load_image"), "is not an image Stencil can read"),
        (lambda: client.predict(1e9, 0, False, False, 0, api_name="/refine"), "grow / shrink is 1e+09"),
    ]
    for call, expected in cases:
        tally["bad"] += 1
        try:
            call()
        except Exception as error:  # noqa: BLE001 - the refusal is the point
            clear = expected in str(error) and "/tmp" not in str(error)
            tally["bad_clear"] += clear
            if not clear:
                tally["errors"].append(f"bad input answered: {error}"[:200])


def _killed_upload(url: str) -> None:
    """Start a 20 MB upload, send 1 MB of it, and vanish."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    boundary = "stencilboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="cut.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /gradio_api/upload HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {20 * MB}\r\n\r\n"
            ).encode()
            + head
            + os.urandom(MB)
        )


def run_clients(url: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="stencil-load-clients-") as folder:
        _killed_upload(url)
        with ThreadPoolExecutor(args.clients) as pool:
            tallies = list(pool.map(lambda i: _client(url, i, args, Path(folder)), range(args.clients)))
    total: dict[str, Any] = {"latencies": [], "errors": []}
    for tally in tallies:
        for key, value in tally.items():
            total[key] = total.get(key, 0 if not isinstance(value, list) else []) + value
    total["submitted"] = args.clients * args.jobs
    total["lost"] = total["submitted"] - total["completed"] - total["errored"]
    return total


# ---------------------------------------------------------------- server (this process)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_and_measure(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["STENCIL_SESSION_TTL_S"] = str(args.ttl)
    cache = Path(tempfile.mkdtemp(prefix="stencil-load-cache-"))
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from pipeline.settings import Settings
    from ui import notebook
    from ui.launch import launch_options, warm_up_soon
    from ui.page import build_demo
    from ui.state import trim_heap

    demo = build_demo(Settings(sam_checkpoint=None, inpaint_model=None, models_dir=cache / "no-models"))
    port = args.port or _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options())
    if not args.cold:
        warm_up_soon(demo).join()  # as app.py does; joined so that 'before' is the served-from state
    slot = demo.stencil_handlers.services.slot  # type: ignore[attr-defined]
    gauge = Gauge([cache, notebook.temp_root()], slot)
    if args.warm:  # one client job first, so that "before" is a server that has served (imports, thread pools)
        warm = argparse.Namespace(**{**vars(args), "clients": 1, "jobs": 1, "cancels": 0, "bad": 0})
        with tempfile.TemporaryDirectory(prefix="stencil-load-warm-") as folder:
            warmed = _client(demo.local_url, 0, warm, Path(folder))
        if warmed["completed"] != 1:
            raise SystemExit(f"the warm-up job failed: {warmed['errors']}")
        time.sleep(args.ttl + 5)
        trim_heap()
    time.sleep(1.0)
    before = {"rss": gauge.rss(), "disk": gauge.disk()}
    if args.census:
        print("census before:", json.dumps(census()), flush=True)
    try:
        with gauge:
            child = subprocess.run(
                [sys.executable, "-m", "bench.load", "--clients-only", demo.local_url, *sys.argv[1:]],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=args.timeout_s,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            if child.returncode != 0:
                raise SystemExit(f"the clients failed:\n{child.stderr[-3000:]}")
            clients = json.loads(child.stdout.strip().splitlines()[-1])
            peak_jobs = slot.stats()["peak"]
            deadline = time.monotonic() + args.wait
            while time.monotonic() < deadline:  # sessions end: closed clients at the next heartbeat, others by TTL
                time.sleep(1.0)
                trim_heap()
        after = {"rss": gauge.rss(), "disk": gauge.disk(), "sessions": len(demo.state_holder.session_data)}
        if args.census:
            print("census after:", json.dumps(census()), flush=True)
        peak = {"rss": gauge.peak_rss, "disk": gauge.peak_disk}
    finally:
        demo.close()
    return {"clients": clients, "peak_jobs": peak_jobs, "before": before, "peak": peak, "after": after}


def report(args: argparse.Namespace, measured: dict[str, Any]) -> str:
    c = measured["clients"]
    latencies = sorted(c["latencies"]) or [0.0]
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    b, p, a = measured["before"], measured["peak"], measured["after"]
    lines = [
        f"{args.clients} clients x {args.jobs} jobs (load, select, remove), {c['cancels']} cancels, "
        f"{c['bad']} bad inputs, 1 upload killed mid-way; session TTL {args.ttl} s",
        f"jobs: {c['completed']}/{c['submitted']} completed, {c['refused']} refused as busy (retried), "
        f"{c['errored']} errored, {c['lost']} lost; {c['leaks']} results of another session's size",
        f"bad inputs answered with their clear message: {c['bad_clear']}/{c['bad']}",
        f"job latency: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s",
        f"peak model jobs at once: {measured['peak_jobs']}",
        f"server RSS: before {b['rss'] / MB:.0f} MB, peak {p['rss'] / MB:.0f} MB, after {a['rss'] / MB:.0f} MB "
        f"({(a['rss'] - b['rss']) / MB:+.0f} MB)",
        f"temp disk: before {b['disk'] / MB:.1f} MB, peak {p['disk'] / MB:.1f} MB, after {a['disk'] / MB:.1f} MB "
        f"({(a['disk'] - b['disk']) / MB:+.1f} MB)",
        f"sessions the server still holds after the wait: {a['sessions']}",
    ]
    lines += [f"  error: {e}" for e in c["errors"][:10]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--cancels", type=int, default=5, help="clients that cancel one removal")
    parser.add_argument("--bad", type=int, default=3, help="clients that also send bad inputs")
    parser.add_argument("--ttl", type=int, default=30, help="STENCIL_SESSION_TTL_S of the server")
    parser.add_argument("--wait", type=float, default=None, help="seconds to wait after the clients (TTL + 20)")
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    parser.add_argument("--timeout-s", type=float, default=900)
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--warm", action="store_true", help="measure 'before' after one warm-up job has ended")
    parser.add_argument("--cold", action="store_true", help="skip the launch warm-up that app.py does")
    parser.add_argument("--census", action="store_true", help="print live arrays, threads and the largest mappings")
    parser.add_argument("--clients-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.clients_only:
        print(json.dumps(run_clients(args.clients_only, args)))
        return 0
    args.wait = args.ttl + 20 if args.wait is None else args.wait
    measured = serve_and_measure(args)
    print(report(args, measured))
    if args.json:
        print(json.dumps(measured | {"clients": {k: v for k, v in measured["clients"].items() if k != "latencies"}}))
    c = measured["clients"]
    return 0 if c["lost"] == 0 and c["errored"] == 0 and measured["peak_jobs"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
