"""Which selector turns this tab's clicks into masks: the app's choice, SAM, SAM 3 or the classical one.

The Click tab's "Click with" control lists the backends that can load here; the note under it
says what "Auto" is and why each missing one is unavailable (and how to get it). A change redoes
the open clicks step with the new backend at once; the session keeps the choice for later photos.
The ``/select`` endpoint takes the same names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from pipeline.errors import InvalidInput, PipelineError
from ui import notebook
from ui.handlers import Handlers
from ui.services import Services
from ui.shown_errors import public
from ui.state import Session

LABELS = {"auto": "Auto", "sam": "SAM", "sam3": "SAM 3", "classic": "Classical"}
"""Click backends by name (as ``--segmenter`` spells them), with the control's labels."""


def click_choices(services: Services) -> tuple[list[tuple[str, str]], str]:
    """The control's ``(label, name)`` choices (the backends that can load) and the note under it."""
    missing = services.click_unavailable()
    choices = [(label, name) for name, label in LABELS.items() if name not in missing]
    lines = [f"Auto: {services.segmenter.reason}."]
    lines += [f"**{LABELS[name]} is unavailable:** {why}" for name, why in missing.items()]
    return choices, "\n\n".join(lines)


def use_click_backend(services: Services, session: Session, kind: str) -> Session:
    """Select with ``kind`` from now on; an open clicks step is redone with it at once.

    A backend that cannot load raises ``ModelUnavailable`` (why, and how to get it); the
    session, its mask and its backend stay as they were.
    """
    if kind not in LABELS:
        raise InvalidInput(f"click backend {kind!r} is not one of {', '.join(LABELS)}")
    services.selector_for(kind)  # loads it now, or says why it cannot
    fresh = replace(session, click_backend=kind, chain=None, chain_before=None)
    current = notebook.open_clicks(session)
    if current is None or session.photo is None:
        return fresh
    return notebook.select(services, fresh, current.points, current.box, current.combine)


class ClickBackendHandlers:
    """The control's event; ``handlers`` gives the session, the services and the mask views."""

    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers

    def on_click_backend_change(self, v: dict[Any, Any]) -> dict[Any, Any]:
        """Switch backends; one that cannot load is a warning, and the control goes back to the one in use."""
        p, s = self.h.p, self.h.session(v)
        try:
            return {
                **self.h.mask_out(use_click_backend(self.h.services, s, v[p.click_backend])),
                p.click_backend: gr.update(),
            }
        except PipelineError as error:
            gr.Warning(f"{public(str(error)).rstrip('.')}. The clicks and the mask are kept.")
            return {**self.h.mask_out(s), p.click_backend: s.click_backend}
