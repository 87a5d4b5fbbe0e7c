"""How a Stencil page is served to many people: one place for the launch settings (app.py, a Space).

``launch_options(credentials)`` is what ``demo.launch(**...)`` gets: monitoring off, a login
throttle when there are credentials, and the API docs off. ``read_credentials`` takes them from
a file (``--auth-file``, ``STENCIL_AUTH_FILE``) or the environment (``STENCIL_AUTH``), never
from the command line, where every user of the machine can read them in the process list.
``say_busy(demo)`` makes a full queue answer "busy: N ahead of you" instead of "Queue is full".
``warm_up_soon(demo)`` loads the removal engine once the server listens.
docs/DEPLOY.md explains every setting.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from pipeline.errors import InvalidInput

QUEUE_SIZE = 64
"""Requests that may wait for the model slot. Each client has at most one request in flight, so
this is the number of people who can be waiting at once: with 64, ``bench/load.py``'s 20 clients
x 5 jobs were never refused (the old 16 refused 27 of 100 jobs). At p50 8 s a job on 2 shared
cores, a full queue is minutes of waiting: that is when "busy" is the kinder answer."""

LOGIN_FAILURES = 5
"""Failed logins a client may make within ``LOGIN_WINDOW_S`` before it has to wait."""

LOGIN_WINDOW_S = 60.0

Credentials = list[tuple[str, str]]


def parse_credentials(text: str, where: str) -> Credentials:
    """``USER:PASS`` lines (a password may hold colons); blank lines and ``#`` comments skipped."""
    items = [line.strip() for line in text.splitlines()]
    pairs = [tuple(item.split(":", 1)) for item in items if item and not item.startswith("#")]
    if not pairs or any(len(p) != 2 or not p[0] or not p[1] for p in pairs):
        raise InvalidInput(f"{where} must hold USER:PASS, one pair a line")
    return pairs  # type: ignore[return-value]


def read_credentials(auth_file: Path | None = None, environ: dict[str, str] | None = None) -> Credentials | None:
    """Logins from ``auth_file``, else ``$STENCIL_AUTH_FILE``, else ``$STENCIL_AUTH``; None: no login."""
    env = os.environ if environ is None else environ
    path = auth_file or (Path(env["STENCIL_AUTH_FILE"]) if env.get("STENCIL_AUTH_FILE") else None)
    if path is not None:
        try:
            return parse_credentials(path.read_text(), f"the auth file {path}")
        except OSError as error:
            raise InvalidInput(f"cannot read the auth file {path}: {error.strerror or error}") from None
    if env.get("STENCIL_AUTH"):
        return parse_credentials(env["STENCIL_AUTH"], "STENCIL_AUTH")
    return None


class LoginThrottle:
    """ASGI middleware: a client (by address) with ``LOGIN_FAILURES`` failed logins in the last
    ``LOGIN_WINDOW_S`` seconds gets 429 "too many failed logins" until the oldest one ages out.

    Behind a reverse proxy every client shares the proxy's address: throttle there instead (DEPLOY.md).
    """

    def __init__(self, app: Any, failures: int = LOGIN_FAILURES, window_s: float = LOGIN_WINDOW_S) -> None:
        self.app, self.failures, self.window_s = app, failures, window_s
        self._failed: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" or not _is_login(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = self._wait_s(client)
        if wait > 0:
            await _refuse(send, wait)
            return

        async def watch(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                self._record(client, ok=int(message.get("status", 500)) < 400)
            await send(message)

        await self.app(scope, receive, watch)

    def _wait_s(self, client: str) -> float:
        now = time.monotonic()
        with self._lock:
            times = self._failed.get(client)
            while times and now - times[0] > self.window_s:
                times.popleft()
            if not times or len(times) < self.failures:
                return 0.0
            return self.window_s - (now - times[0])

    def _record(self, client: str, *, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failed.pop(client, None)
            else:
                self._failed.setdefault(client, deque(maxlen=self.failures)).append(time.monotonic())


def _is_login(path: str) -> bool:
    return path.rstrip("/").endswith("/login")


async def _refuse(send: Any, wait_s: float) -> None:
    body = f'{{"detail": "too many failed logins from this address; try again in {wait_s:.0f} s"}}'.encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", str(max(1, round(wait_s))).encode())]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def launch_options(credentials: Credentials | None = None) -> dict[str, Any]:
    """Keyword arguments for ``demo.launch``: hardened defaults for a page many people share."""
    from starlette.middleware import Middleware

    options: dict[str, Any] = {
        "enable_monitoring": False,  # /monitoring shows every request's timing to anyone
        "show_error": True,  # gr.Error messages say what to do; they never carry server paths
        "app_kwargs": {"docs_url": None, "redoc_url": None},
    }
    if credentials:
        options["auth"] = credentials
        options["app_kwargs"]["middleware"] = [Middleware(LoginThrottle)]
    return options


def say_busy(demo: Any) -> None:
    """Make a full queue answer "busy: N ahead of you, try again in a minute" (Gradio says "Queue is full")."""
    queue = demo._queue  # noqa: SLF001 - Gradio 6 keeps its queue here; the message is its only change
    push = queue.push

    async def push_or_say_busy(*args: Any, **kwargs: Any) -> Any:
        accepted, detail, state = await push(*args, **kwargs)
        if state == "queue_full":
            detail = f"busy: {len(queue)} ahead of you; try again in a minute"
        return accepted, detail, state

    queue.push = push_or_say_busy


def warm_up_soon(demo: Any) -> threading.Thread:
    """Warm the page's removal engine in the background once the server listens
    (``Services.warm_up``): the first visitor's removal then runs at its usual speed."""
    thread = threading.Thread(target=demo.stencil_handlers.services.warm_up, name="stencil-warm-up", daemon=True)
    thread.start()
    return thread
