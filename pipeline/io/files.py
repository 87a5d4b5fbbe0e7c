"""Pictures in folders: which files count as photos, and the file that goes with a photo."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pipeline.errors import InvalidInput

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
"""The file suffixes Stencil treats as pictures when it lists a folder."""


def companion(given: Path, source: Path, what: str) -> Path:
    """The file that goes with the photo ``source``: ``given`` itself, or when ``given`` is a folder
    the picture in it with ``source``'s stem (``photos/cat.jpg`` pairs with ``masks/cat.png``)."""
    if not given.is_dir():
        if not given.exists():
            raise InvalidInput(f"{what} {given} does not exist")
        return given
    matches = sorted(p for p in given.iterdir() if p.stem == source.stem and p.suffix.lower() in IMAGE_SUFFIXES)
    if not matches:
        raise InvalidInput(f"no {what} named {source.stem}.* in {given}; name each {what} after its photo")
    return matches[0]


def remove_quietly(path: Path) -> None:
    """Delete ``path`` if it is there; a folder that refuses (read-only, gone) is not a second error."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
