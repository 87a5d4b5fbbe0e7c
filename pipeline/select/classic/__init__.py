"""The classical click selector (no weights): colour models (``colour``), the pixel graph
(``graph``), the cut (``solve``), candidates (``refine``) and the ``ClassicSelector`` (``selector``)."""

from pipeline.select.classic.selector import ClassicSelector

__all__ = ["ClassicSelector"]
