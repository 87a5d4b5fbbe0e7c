"""Stencil's Gradio page: ``build_demo(settings)`` returns the editor, ready to ``launch()``.

The page is a thin layer over ``pipeline``: handlers unpack component values, call the pipeline
and pack the results; per-user state lives in ``gr.State`` (see ``ui.state``).
"""

from ui.page import build_demo

__all__ = ["build_demo"]
