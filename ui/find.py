"""Find by name in the page: run SAM 3 on a phrase, then keep one, several or all instances.

The handlers build a ``TextPrompt`` step and run it through ``ui.notebook.find_text``, as the
``/mask_text`` endpoint does; picking other instances reuses what SAM 3 found.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from pipeline.errors import InvalidInput
from pipeline.recipe import TextPrompt
from pipeline.select.text.sam3 import check_text
from ui import notebook
from ui.handlers import Handlers, shows_errors
from ui.services import Services
from ui.state import Session

V = dict[Any, Any]


def find_note(services: Services) -> tuple[str, bool]:
    """What the tab runs, or why it cannot and how to get SAM 3; and whether it can."""
    if services.text_available:
        return f"Every match becomes an instance with its score ({services.text_finder.reason}).", True
    return f"**Find by name is unavailable:** {services.text_missing}", False


def instance_choices(session: Session) -> Any:
    """The CheckboxGroup's choices for what SAM 3 found, and the ticks of the open step."""
    found, last = session.text_found, notebook.last_step(session)
    if found is None or not isinstance(last, TextPrompt):
        return gr.update(choices=[], value=[])
    choices = [(f"{i + 1}: score {score:.2f}", i) for i, score in enumerate(found.scores)]
    ticked = list(range(len(found.scores))) if last.instances is None else list(last.instances)
    return gr.update(choices=choices, value=ticked)


class FindHandlers:
    """The tab's events; ``handlers`` gives the session, the services and the mask views."""

    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers

    @shows_errors
    def on_find_click(self, v: V) -> V:
        p = self.h.p
        threshold = float(v[p.find_threshold])
        step = TextPrompt(text=check_text(v[p.find_text]), threshold=threshold, combine=v[p.combine])
        s = notebook.find_text(self.h.services, self.h.session(v), step)
        return {**self.h.mask_out(s), p.instances: instance_choices(s)}

    @shows_errors
    def on_instances_input(self, v: V) -> V:
        p, s = self.h.p, self.h.session(v)
        last = notebook.last_step(s)
        if not isinstance(last, TextPrompt) or s.text_found is None:
            raise InvalidInput("find something by name first; then tick the instances to keep")
        picked = sorted(int(i) for i in v[p.instances] or ())
        if not picked:
            raise InvalidInput("tick at least one instance; the mask is kept as it was")
        every = picked == list(range(len(s.text_found.scores)))
        step = replace(last, instances=None if every else tuple(picked))
        return self.h.mask_out(notebook.find_text(self.h.services, s, step))
