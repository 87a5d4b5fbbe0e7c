"""Synthetic product photos made by this project, their true masks, and a catalog for the UI gallery.

``examples.catalog`` loads ``examples/catalog.json`` without importing gradio or the pipeline;
``examples/render.py`` re-renders every photo deterministically.
"""
