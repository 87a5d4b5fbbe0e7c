"""The page's look: a Gradio theme and a little CSS (passed to ``launch()`` in Gradio 6)."""

from __future__ import annotations

import gradio as gr

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto; }
#title h1 { margin-bottom: 0.1rem; }
#title p { margin-top: 0; color: var(--body-text-color-subdued); }
#status { font-size: 0.9rem; padding: 0.5rem 0.9rem; border-radius: 8px;
          background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.step-heading h2 { margin: 1.4rem 0 0.2rem 0; padding-top: 0.8rem; border-top: 1px solid var(--border-color-primary);
                   font-size: 1.25rem; }
.step-heading h2 .num { display: inline-block; min-width: 1.7rem; height: 1.7rem; line-height: 1.7rem;
                        text-align: center; border-radius: 50%; margin-right: 0.5rem; color: white;
                        background: var(--color-accent); font-size: 0.95rem; }
.hint p { color: var(--body-text-color-subdued); font-size: 0.9rem; margin: 0; }
#mask-info p { font-variant-numeric: tabular-nums; }
.swatch button.dialog-button { min-height: 2.2rem; width: 100%; border: 1px solid var(--border-color-accent) !important;
                               box-shadow: inset 0 0 0 1px rgba(0, 0, 0, 0.08); border-radius: 6px; }
#history .caption-label, #candidates .caption-label { white-space: normal; max-width: calc(100% - 8px);
    font-size: 0.7rem; line-height: 1.2; padding: 2px 6px; opacity: 0.9; }
"""


def make_theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="sky", neutral_hue="slate", radius_size="md")


def step_heading(number: int, title: str, hint: str) -> None:
    """A numbered step heading with a one-line hint below it (like a notebook cell's title)."""
    gr.Markdown(f'## <span class="num">{number}</span>{title}', elem_classes="step-heading")
    gr.Markdown(hint, elem_classes="hint")


def picker_gallery(label: str, *, columns: int, height: int, elem_id: str, **extra: object) -> gr.Gallery:
    """A grid of thumbnails to click (examples, candidates, history), not a viewer.

    ``fit_columns=False``: Gradio's default cuts the grid to as many columns as there are items,
    so a single history cell or candidate would be drawn as one picture as wide as the page.
    """
    options = {"object_fit": "contain", **extra}
    return gr.Gallery(
        label=label,
        columns=columns,
        height=height,
        fit_columns=False,
        allow_preview=False,
        interactive=False,
        elem_id=elem_id,
        **options,  # type: ignore[arg-type]
    )
