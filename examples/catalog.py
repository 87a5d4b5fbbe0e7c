"""The example gallery: photos, true masks and a suggested mask source and operation for each.

Reads ``examples/catalog.json`` into frozen dataclasses. Imports neither gradio nor the pipeline,
so the UI, the tests and scripts can all use it::

    from examples.catalog import load_catalog, get_example
    ex = get_example("studio_bottle")
    ex.file, ex.mask_file, ex.mask_source.source, ex.operation.op

Paths are absolute (resolved against the ``examples/`` folder). Colours are ``(r, g, b)`` 0..255,
click points ``(x, y, positive)`` in pixels of the photo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

EXAMPLES_DIR = Path(__file__).resolve().parent
CATALOG_PATH = EXAMPLES_DIR / "catalog.json"

SourceKind = Literal["click", "color", "luminance", "import", "labels"]
OperationKind = Literal["background", "remove", "outpaint"]
RGB = tuple[int, int, int]


def parse_hex(color: str) -> RGB:
    """``"#rrggbb"`` -> ``(r, g, b)``; raises ValueError for anything else."""
    text = color.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f'colour {color!r} is not #rrggbb; write it like "#f4f4f4"')
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


@dataclass(frozen=True)
class MaskSuggestion:
    """How to make this example's mask. Only the fields of ``source`` are meaningful:

    - ``click``: ``points`` ((x, y, positive), ...) in photo pixels.
    - ``color``: ``color`` picked from the backdrop, ``tolerance`` and ``softness`` in Delta-E,
      ``invert`` True to select everything that is *not* the backdrop.
    - ``luminance``: luma range ``low``..``high`` in [0, 1], ``softness``, ``invert``.
    - ``import``: a mask ``file``; ``labels``: a label-map ``file`` and the ``classes`` to select.
    """

    source: SourceKind
    points: tuple[tuple[float, float, bool], ...] = ()
    color: RGB | None = None
    tolerance: float = 0.0
    softness: float = 0.0
    low: float = 0.0
    high: float = 1.0
    invert: bool = False
    file: Path | None = None
    classes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.source not in get_args(SourceKind):
            raise ValueError(f"unknown mask source {self.source!r}; use one of {', '.join(get_args(SourceKind))}")
        needs = {
            "click": bool(self.points),
            "color": self.color is not None,
            "luminance": True,
            "import": self.file is not None,
            "labels": self.file is not None and bool(self.classes),
        }
        if not needs[self.source]:
            raise ValueError(f"mask source {self.source!r} is missing its settings (points, color, file or classes)")


@dataclass(frozen=True)
class OperationSuggestion:
    """The edit to try: ``background`` (replace with ``color``), ``remove`` (inpaint the selection away)
    or ``outpaint`` (extend the canvas to ``aspect``, e.g. ``"1:1"``)."""

    op: OperationKind
    color: RGB | None = None
    aspect: str | None = None

    def __post_init__(self) -> None:
        if self.op not in get_args(OperationKind):
            raise ValueError(f"unknown operation {self.op!r}; use one of {', '.join(get_args(OperationKind))}")
        if self.op == "background" and self.color is None:
            raise ValueError("a background operation needs a colour")
        if self.op == "outpaint" and (self.aspect is None or len(self.aspect.split(":")) != 2):
            raise ValueError(f'outpaint needs an aspect like "1:1", got {self.aspect!r}')

    @property
    def aspect_ratio(self) -> float | None:
        """Width / height of the requested ``aspect``, or None."""
        if self.aspect is None:
            return None
        w, h = (float(v) for v in self.aspect.split(":"))
        return w / h


@dataclass(frozen=True)
class Example:
    """One gallery entry: ``file`` (the photo), ``mask_file`` (true alpha, 255 = product),
    ``labels_file`` (one id per product, scenes with several products only), ``size`` (W, H)."""

    name: str
    title: str
    description: str
    file: Path
    mask_file: Path
    labels_file: Path | None
    size: tuple[int, int]
    tags: tuple[str, ...]
    mask_source: MaskSuggestion
    operation: OperationSuggestion


def _path(value: str | None) -> Path | None:
    return None if value is None else EXAMPLES_DIR / value


def _mask_source(raw: dict[str, Any]) -> MaskSuggestion:
    return MaskSuggestion(
        source=raw["source"],
        points=tuple((float(x), float(y), bool(p)) for x, y, p in raw.get("points", ())),
        color=parse_hex(raw["color"]) if "color" in raw else None,
        tolerance=float(raw.get("tolerance", 0.0)),
        softness=float(raw.get("softness", 0.0)),
        low=float(raw.get("low", 0.0)),
        high=float(raw.get("high", 1.0)),
        invert=bool(raw.get("invert", False)),
        file=_path(raw.get("file")),
        classes=tuple(int(c) for c in raw.get("classes", ())),
    )


def _example(raw: dict[str, Any]) -> Example:
    op = raw["operation"]
    return Example(
        name=raw["name"],
        title=raw["title"],
        description=raw["description"],
        file=EXAMPLES_DIR / raw["file"],
        mask_file=EXAMPLES_DIR / raw["mask_file"],
        labels_file=_path(raw.get("labels_file")),
        size=(int(raw["size"][0]), int(raw["size"][1])),
        tags=tuple(raw.get("tags", ())),
        mask_source=_mask_source(raw["mask_source"]),
        operation=OperationSuggestion(
            op=op["op"], color=parse_hex(op["color"]) if "color" in op else None, aspect=op.get("aspect")
        ),
    )


@lru_cache(maxsize=4)
def load_catalog(path: Path = CATALOG_PATH) -> tuple[Example, ...]:
    """All examples in gallery order; raises ValueError if an entry is malformed."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        return tuple(_example(raw) for raw in data["examples"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} has a malformed entry ({exc!r}); see examples/README.md for the format") from exc


def get_example(name: str) -> Example:
    """The example called ``name``; raises KeyError listing the known names."""
    for example in load_catalog():
        if example.name == name:
            return example
    known = ", ".join(e.name for e in load_catalog())
    raise KeyError(f"no example called {name!r}; known examples: {known}")
