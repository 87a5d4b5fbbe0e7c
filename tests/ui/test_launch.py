"""Hardened launch defaults on a real server: monitoring off, failed logins throttled per client,
a full queue says how busy it is."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from ui_fakes import fake_services
from ui_server import running_app

from ui.launch import LoginThrottle
from ui.page import build_demo


def _post_login(url: str, password: str) -> int:
    data = urllib.parse.urlencode({"username": "ann", "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data=data), timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def test_served_app_has_no_monitoring_and_throttles_failed_logins(tmp_path: Path) -> None:
    accounts = tmp_path / "users.txt"
    accounts.write_text("ann:right-password\n")
    with running_app(tmp_path, "--auth-file", str(accounts)) as url:
        assert _status(url + "monitoring") == 401  # not even its existence without a login
        signed_in = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = urllib.parse.urlencode({"username": "ann", "password": "right-password"}).encode()
        assert signed_in.open(url + "login", data=form, timeout=30).status == 200
        with pytest.raises(urllib.error.HTTPError, match="403"):
            signed_in.open(url + "monitoring", timeout=30)  # signed in: "Monitoring is not enabled"
        assert [_post_login(url, "wrong") for _ in range(5)] == [400] * 5
        assert _post_login(url, "wrong") == 429  # the sixth try within a minute waits
        assert _post_login(url, "right-password") == 429  # even with the right password, for now


def test_the_throttle_forgets_failures_after_a_success() -> None:
    replies = iter([400, 400, 200, 400, 400, 400])

    async def app(scope: dict, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": next(replies)})

    throttle = LoginThrottle(app, failures=3, window_s=60)
    sent: list[int] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    async def post() -> None:
        await throttle({"type": "http", "method": "POST", "path": "/login/", "client": ("1.2.3.4", 5)}, None, send)

    for _ in range(7):
        asyncio.run(post())
    assert sent == [400, 400, 200, 400, 400, 400, 429]


def test_a_full_queue_says_how_many_are_ahead() -> None:
    demo = build_demo(services=fake_services(), queue_size=1)
    demo._queue.max_size = 0  # noqa: SLF001 - full at once, without filling it

    async def push() -> tuple:
        class Body:
            fn_index = 0

        return await demo._queue.push(Body(), None, None)  # noqa: SLF001

    accepted, detail, state = asyncio.run(push())
    assert (accepted, state) == (False, "queue_full")
    assert detail == "busy: 0 ahead of you; try again in a minute"
