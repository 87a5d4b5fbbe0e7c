"""One model job at a time for the whole process, and a Cancel that stops the work before its slot frees."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest
from ui_fakes import FakeSegmenter, fake_services

from pipeline.errors import Cancelled


class SlowSegmenter(FakeSegmenter):
    """The fake selector, with a preparation long enough to overlap the other jobs."""

    def prepare(self, image: np.ndarray):  # noqa: ANN201 - the fake's own type
        time.sleep(0.05)
        return super().prepare(image)


class Request:
    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def test_preparation_and_every_other_model_job_share_one_slot() -> None:
    services = fake_services()
    services.segmenter = type(services.segmenter)(SlowSegmenter(), "slow fake")
    inside = {"now": 0, "most": 0}
    guard = threading.Lock()

    def job() -> None:  # counts on its own, independently of the slot's counter
        with guard:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        time.sleep(0.01)
        with guard:
            inside["now"] -= 1

    photo = np.zeros((40, 50, 3), np.uint8)
    futures = [services.start_prepare(photo) for _ in range(4)]
    threads = [threading.Thread(target=services.run_model, args=(job,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(f is not None and f.result().size == (50, 40) for f in futures)
    assert inside["most"] == 1
    assert services.slot.stats() == {"running": 0, "peak": 1, "finished": 12}


def test_a_new_run_gets_its_own_flag_so_an_old_cancel_still_stops_the_old_run() -> None:
    services = fake_services()
    old = services.new_run("tab")
    services.cancel("tab")
    new = services.new_run("tab")
    assert old.is_set() and not new.is_set() and services.cancel_flag("tab") is new


def test_cancelling_the_event_sets_the_flag_and_waits_for_the_work_to_stop() -> None:
    services = fake_services()
    started, stopped = threading.Event(), threading.Event()

    def handler(request: Request) -> str:
        flag = services.new_run(request.session_hash)

        def work() -> str:
            started.set()
            for _ in range(500):  # "steps" of 10 ms, checking the flag between them
                if flag.is_set():
                    stopped.set()
                    raise Cancelled("cancelled")
                time.sleep(0.01)
            return "finished"

        return services.run_model(work)

    event = services.cancellable(handler)
    assert event.__name__ == "handler"  # Gradio reads the signature for the request parameter

    async def scenario() -> None:
        task = asyncio.ensure_future(event(Request("tab")))
        while not started.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the event ended only after the work stopped, and nothing runs in the slot any more
        assert stopped.is_set() and services.slot.stats()["running"] == 0

    asyncio.run(scenario())
    assert services.cancel_flag("tab").is_set()


def test_an_event_that_is_not_cancelled_returns_the_handler_result() -> None:
    services = fake_services()
    event = services.cancellable(lambda request: services.run_model(lambda: request.session_hash * 2))
    assert asyncio.run(event(Request("ab"))) == "abab"


def test_warm_up_runs_the_removal_engine_once_in_the_model_slot(tmp_path) -> None:
    from pipeline.inpaint.exemplar import ExemplarInpainter
    from pipeline.inpaint.patchmatch import improve_field, upsample_field
    from pipeline.settings import Settings
    from ui.services import make_services

    services = make_services(Settings(sam_checkpoint=None, inpaint_model=None, models_dir=tmp_path / "none"))
    services.warm_up()
    assert isinstance(services.remover.backend, ExemplarInpainter)
    assert services.slot.stats() == {"running": 0, "peak": 1, "finished": 1}
    assert improve_field.signatures and upsample_field.signatures  # compiled, or loaded from numba's cache


def test_a_failed_warm_up_is_logged_and_the_page_still_serves(tmp_path, caplog) -> None:
    from pipeline.errors import InvalidModel
    from pipeline.models import Chosen
    from pipeline.settings import Settings
    from ui.services import make_services

    class Broken:
        name = "lama"

        def inpaint(self, request, **options):
            raise InvalidModel("big-lama.pt does not take a mask input; use IOPaint's big-lama file")

    services = make_services(Settings(sam_checkpoint=None, inpaint_model=None, models_dir=tmp_path / "none"))
    services.remover = Chosen(Broken(), "LaMa (configured)")
    services.warm_up()  # no exception
    assert "could not warm up" in caplog.text and "big-lama.pt does not take a mask input" in caplog.text
    assert services.slot.stats()["running"] == 0
