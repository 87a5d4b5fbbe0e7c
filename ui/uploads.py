"""Image boxes whose uploads are read by Stencil's own loader, so a bad file gets the clear message.

A plain ``gr.Image`` opens every upload with Pillow before any handler runs: a text file named
``.jpg`` then fails inside Gradio with a bare "Error" on the page and a traceback in the log.
``checked(box)`` hands the uploaded file to ``pipeline.io.images.load_image`` instead (format
from the header, size caps before decoding, damaged data refused) and turns its error into the
message the API gives, without the server's paths.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr

from pipeline.errors import PipelineError
from pipeline.io.images import load_image

_SERVER_PATH = re.compile(r"(?<![\w.~:/])/(?:[^\s'\"/]+/)+([^\s'\"/]+)")


def public(message: str) -> str:
    """``message`` with every absolute server path cut to its file name (uploads sit in Gradio's cache)."""
    return _SERVER_PATH.sub(r"\1", message)


def checked(box: gr.Image) -> gr.Image:
    """``box`` (``type`` "filepath" or "numpy") reading its uploads through ``load_image``; returns it.

    With "filepath" the path is passed on unread (the handler loads it, with the app's caps);
    with "numpy" the picture comes as ``(H, W, 3)`` uint8 RGB. (An instance method rather than a
    subclass: Gradio writes a ``.pyi`` stub next to the module of every component subclass.)
    """
    plain = box.preprocess

    def preprocess(payload: Any) -> Any:
        path = getattr(payload, "path", None)
        url = getattr(payload, "url", None) or ""
        if payload is None or path is None or url.startswith("data:") or box.type not in ("filepath", "numpy"):
            return plain(payload)
        if box.type == "filepath":
            return str(path)
        try:
            return load_image(path).rgb
        except PipelineError as error:
            raise gr.Error(public(str(error)), print_exception=False) from error

    box.preprocess = preprocess  # type: ignore[method-assign]
    return box
