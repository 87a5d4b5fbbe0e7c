"""Benchmark of the server's memory under real ``gradio_client`` sessions (loopback, no weights).

    flock -x /tmp/stencil-bench.lock python3 -m bench.sessions                  # all three parts
    python3 -m bench.sessions --sessions 10 --wait 30 --edits 30 --skip-big     # a quick look
    python3 -m bench.sessions --repo /tmp/work/before                           # another checkout

Each part starts its own server (``python app.py --port P`` with the classical selector and
engine, ``STENCIL_SESSION_TTL_S`` set from ``--ttl``) and reads its resident memory (RSS of the
server process and its children, with psutil) once it answers: that idle server is the baseline
printed beside every figure. The server is killed at the end of each part, on errors and on Ctrl-C.

1. Many sessions freed: ``--sessions`` clients (``--parallel`` at a time), each one session:
   ``/load_image`` a 1600x1200 photo, ``/select`` one click on the product, ``/background``
   white, then ``client.close()``. Peak RSS is sampled every 0.2 s while they run; RSS is then
   polled until ``--wait`` s after the last client closed. Target: after <= baseline + 150 MB.
2. History cap: one session runs ``--edits`` ``/background`` edits in alternating colours; RSS
   after every 10th edit and the slope over the last half (least squares). Target < 2 MB/edit.
3. One big session: a 4000x3000 photo, ``--big-clicks`` ``/select`` calls with a growing point
   list, ``--big-edits`` edits. Target: peak <= baseline + 600 MB.

Photos come from ``examples/photos`` of this checkout (``mug_paper.jpg``, ``sneaker_wood.jpg``);
clicks are placed deep inside (or, for negative clicks, far outside) their true masks.
Memory is printed in MB of 2**20 bytes. A closed client's heartbeat stream ends at the server's
next beat (up to 15 s later); only then does the server see the session go.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds a select.py that would shadow the standard library's select module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import psutil  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

PHOTOS = ROOT / "examples" / "photos"
MB = 1024 * 1024
COLOURS = ("#ffffff", "#202020")
SETTLE_S = 3.0
"""Seconds the server is left alone after it first answers, before the baseline is read."""


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MiB (0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total / MB


class Sampler:
    """Samples ``rss_mb(pid)`` every ``period_s`` in a thread; ``peak`` is the largest sample."""

    def __init__(self, pid: int, period_s: float = 0.2) -> None:
        self.pid, self.period_s, self.peak = pid, period_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(self.period_s)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The app as a subprocess in its own process group, with its own temp folders."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.port = args.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.cwd = Path(args.repo).resolve() if args.repo else ROOT
        template = args.server_cmd or f"{shlex.quote(sys.executable)} app.py --port {{port}}"
        self.cmd = shlex.split(template.format(port=self.port))
        self.tmp = Path(tempfile.mkdtemp(prefix="server-", dir=workdir))
        self.env = {
            **os.environ,
            "PYTHONPATH": str(self.cwd),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "STENCIL_SESSION_TTL_S": str(args.ttl),
            "GRADIO_TEMP_DIR": str(self.tmp / "gradio"),
            "TMPDIR": str(self.tmp),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.start_timeout_s = args.start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0

    def __enter__(self) -> Server:
        log = (self.tmp / "server.log").open("wb")
        self.proc = subprocess.Popen(
            self.cmd, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.proc.pid
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as reply:
                    if reply.status == 200:
                        time.sleep(SETTLE_S)
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"server did not answer on {self.url} in {self.start_timeout_s} s:\n{self.log_tail()}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def connections(self) -> int:
        """Established TCP connections of the server process (clients' streams and requests)."""
        try:
            return sum(c.status == psutil.CONN_ESTABLISHED for c in psutil.Process(self.pid).net_connections("tcp"))
        except psutil.Error:
            return -1

    def files_mb(self) -> float:
        """Size of the files the server wrote under its temp folders."""
        return sum(p.stat().st_size for p in self.tmp.rglob("*") if p.is_file()) / MB

    def log_tail(self, lines: int = 30) -> str:
        path = self.tmp / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait_s)
                return
            except subprocess.TimeoutExpired:
                continue


def call(client: Client, api_name: str, *inputs: Any, timeout_s: float) -> Any:
    """``client.predict`` with a time limit."""
    return client.submit(*inputs, api_name=api_name).result(timeout=timeout_s)


def connect(server: Server) -> Client:
    return Client(server.url, verbose=False, download_files=False, analytics_enabled=False)


def close(client: Client) -> None:
    """Stop a session: ``Client.close`` ends its heartbeat (the server sees it at its next beat)."""
    if hasattr(client, "close"):
        client.close()


def background_inputs(colour: str) -> tuple[Any, ...]:
    """Inputs of ``/background`` for a plain colour: kind, colour, colour 2, blur px, picture, prompt, engine."""
    return ("Colour", colour, colour, 0, None, "", "classic")


def background(client: Client, colour: str, timeout_s: float) -> Any:
    return call(client, "/background", *background_inputs(colour), timeout_s=timeout_s)


def points_json(points: list[tuple[int, int, int]]) -> str:
    return "[" + ", ".join(f"[{x}, {y}, {label}]" for x, y, label in points) + "]"


def clicks(name: str, size: tuple[int, int], count: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """``count`` clicks on the product of ``name`` at ``size`` (w, h): the first deepest inside the
    true mask, then positives inside and every third a negative far outside."""
    mask = cv2.imread(str(PHOTOS / f"{name}.mask.png"), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise SystemExit(f"cannot read {PHOTOS / name}.mask.png")
    mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST) > 127
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
    chosen = [(int(x), int(y), 1)]
    rng = np.random.default_rng(seed)
    for i in range(1, count):
        field, label = (outside, 0) if i % 3 == 2 else (inside, 1)
        ys, xs = np.nonzero(field > 0.5 * field.max())
        j = int(rng.integers(len(xs)))
        chosen.append((int(xs[j]), int(ys[j]), label))
    return chosen


def photo(name: str, size: tuple[int, int], folder: Path) -> Path:
    """``examples/photos/<name>.jpg`` resized (cubic) to ``size`` (w, h), written as JPEG q95."""
    image = cv2.imread(str(PHOTOS / f"{name}.jpg"), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {PHOTOS / name}.jpg")
    if (image.shape[1], image.shape[0]) != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    path = folder / f"{name}_{size[0]}x{size[1]}.jpg"
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def verdict(value: float, limit: float, unit: str, *, strict: bool = False) -> str:
    met = value < limit if strict else value <= limit
    return f"target {'<' if strict else '<='} {limit:g} {unit}: {'met' if met else 'NOT met'}"


def one_session(server: Server, image: Path, click: str, timeout_s: float) -> float:
    """Load, select, white background, close; returns the session's wall time in s."""
    start = time.monotonic()
    client = connect(server)
    try:
        call(client, "/load_image", handle_file(str(image)), timeout_s=timeout_s)
        call(client, "/select", click, "", "replace", timeout_s=timeout_s)
        background(client, COLOURS[0], timeout_s)
    finally:
        close(client)
    return time.monotonic() - start


def part_sessions(args: argparse.Namespace, server: Server, folder: Path) -> None:
    image = photo("mug_paper", (1600, 1200), folder)
    click = points_json(clicks("mug_paper", (1600, 1200), 1))
    base = server.rss_mb()
    print(f"\n## 1. {args.sessions} sessions freed ({args.parallel} at a time, 1600x1200, click {click})")
    print(f"baseline (idle server): {base:.0f} MB")
    pool = ThreadPoolExecutor(args.parallel)
    try:
        with Sampler(server.pid) as sampler:
            started = time.monotonic()
            times = [one_session(server, image, click, args.call_timeout)]  # the first one alone
            warm = server.rss_mb()
            rest = range(args.sessions - 1)
            times += pool.map(lambda _: one_session(server, image, click, args.call_timeout), rest)
            ran_s = time.monotonic() - started
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    stopped = time.monotonic()
    print(f"sessions: {ran_s:.0f} s in all, {statistics.median(times):.1f} s median each")
    print(f"after the first session (run alone): {warm:.0f} MB (+{warm - base:.0f} MB over baseline)")
    print(f"peak while running: {sampler.peak:.0f} MB (+{sampler.peak - base:.0f} MB over baseline)")
    after = base
    for mark in sorted({*range(0, args.wait, 10), args.wait}):
        time.sleep(max(0.0, stopped + mark - time.monotonic()))
        after = server.rss_mb()
        open_now = server.connections()
        print(f"  {mark:3d} s after the last close: {after:.0f} MB (+{after - base:.0f}), {open_now} connections open")
    print(
        f"after {args.wait} s: {after:.0f} MB, +{after - base:.0f} MB over baseline; {verdict(after - base, 150, 'MB')}"
    )
    print(f"files under the server's temp folders: {server.files_mb():.0f} MB")


def part_history(args: argparse.Namespace, server: Server, folder: Path) -> None:
    image = photo("mug_paper", (1600, 1200), folder)
    click = points_json(clicks("mug_paper", (1600, 1200), 1))
    base = server.rss_mb()
    print(f"\n## 2. history: one session, {args.edits} /background edits (1600x1200)")
    print(f"baseline (idle server): {base:.0f} MB")
    client = connect(server)
    after: list[float] = []
    started = time.monotonic()
    try:
        call(client, "/load_image", handle_file(str(image)), timeout_s=args.call_timeout)
        call(client, "/select", click, "", "replace", timeout_s=args.call_timeout)
        for i in range(1, args.edits + 1):
            background(client, COLOURS[i % 2], args.call_timeout)
            after.append(server.rss_mb())
            if i % 10 == 0 or i == args.edits:
                print(f"  after edit {i:3d}: {after[-1]:.0f} MB (+{after[-1] - base:.0f})")
    finally:
        close(client)
    tail = after[len(after) // 2 :] if len(after) >= 4 else after
    slope = float(np.polyfit(np.arange(len(tail)), tail, 1)[0]) if len(tail) >= 2 else float("nan")
    print(f"edits: {time.monotonic() - started:.0f} s in all")
    target = verdict(slope, 2, "MB per edit", strict=True)
    print(f"slope over the last {len(tail)} edits: {slope:.2f} MB per edit; {target}")


def part_big(args: argparse.Namespace, server: Server, folder: Path) -> None:
    image = photo("sneaker_wood", (4000, 3000), folder)
    points = clicks("sneaker_wood", (4000, 3000), args.big_clicks)
    base = server.rss_mb()
    print(f"\n## 3. one big session: 4000x3000, {args.big_clicks} clicks, {args.big_edits} edits")
    print(f"baseline (idle server): {base:.0f} MB")
    client = connect(server)
    try:
        with Sampler(server.pid) as sampler:

            def step(name: str, api_name: str, *inputs: Any) -> Any:
                start = time.monotonic()
                reply = call(client, api_name, *inputs, timeout_s=args.call_timeout)
                took_s, now = time.monotonic() - start, server.rss_mb()
                print(f"  {name:8s} {took_s:5.1f} s  {now:.0f} MB (peak so far {sampler.peak:.0f})")
                return reply

            info = step("load", "/load_image", handle_file(str(image)))
            print(f"  ({info['width']}x{info['height']} px loaded)")
            for n in range(1, len(points) + 1):
                step(f"click {n}", "/select", points_json(points[:n]), "", "replace")
            for n in range(1, args.big_edits + 1):
                step(f"edit {n}", "/background", *background_inputs(COLOURS[n % 2]))
    finally:
        close(client)
    rise = sampler.peak - base
    print(f"peak: {sampler.peak:.0f} MB, +{rise:.0f} MB over baseline; {verdict(rise, 600, 'MB')}")


PARTS = {"sessions": part_sessions, "history": part_history, "big": part_big}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50, help="part 1: how many client sessions")
    parser.add_argument("--parallel", type=int, default=2, help="part 1: sessions at a time (after the first)")
    parser.add_argument("--ttl", type=int, default=30, help="STENCIL_SESSION_TTL_S given to the server (s)")
    parser.add_argument("--wait", type=int, default=90, help="part 1: s to poll RSS after the last session closed")
    parser.add_argument("--edits", type=int, default=100, help="part 2: edits in one session")
    parser.add_argument("--big-clicks", type=int, default=10, help="part 3: /select calls with a growing point list")
    parser.add_argument("--big-edits", type=int, default=5, help="part 3: edits on the 12 MP photo")
    for name in PARTS:
        parser.add_argument(f"--skip-{name}", action="store_true", help=f"skip the {name} part")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--repo", help="run that checkout's app.py (cwd and PYTHONPATH = REPO)")
    parser.add_argument(
        "--server-cmd", help="server command line; {port} is replaced (default: python app.py --port {port})"
    )
    parser.add_argument("--start-timeout", type=float, default=180, help="s to wait for the server to answer")
    parser.add_argument("--call-timeout", type=float, default=300, help="s to wait for one API call")
    args = parser.parse_args()
    if args.sessions < 1 or args.edits < 1 or args.big_clicks < 1 or args.wait < 0:
        parser.error("--sessions, --edits and --big-clicks must be at least 1, --wait at least 0")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM unwinds like Ctrl-C
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    repo = Path(args.repo).resolve() if args.repo else ROOT
    print(
        f"server: {args.server_cmd or 'python app.py --port {port}'} in {repo}; TTL {args.ttl} s; load average {load}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="stencil-bench-sessions-"))
    started = time.monotonic()
    try:
        for name, part in PARTS.items():
            if getattr(args, f"skip_{name}"):
                continue
            with Server(args, workdir) as server:
                try:
                    part(args, server, workdir)
                except Exception:
                    print(f"server log (last lines):\n{server.log_tail()}", file=sys.stderr)
                    raise
    except KeyboardInterrupt:
        print("interrupted; server stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"\ntotal {time.monotonic() - started:.0f} s; load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
