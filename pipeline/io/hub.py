"""Where a ``transformers`` model comes from: a local folder or a Hugging Face id already cached.

Stencil never downloads a model implicitly: hub ids load with ``local_files_only=True``, so an id
counts as available only when its files are in the local Hugging Face cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import ModelUnavailable


def in_hub_cache(repo_id: str, filename: str = "config.json") -> bool:
    """True if ``filename`` of ``repo_id`` is in the local Hugging Face cache (never contacts the hub)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, filename), str)
    except ValueError:  # not a valid repo id
        return False


def find_source(configured: str | None, default_id: str) -> str | None:
    """The configured folder or id, else ``default_id`` when it is cached, else ``None``."""
    if configured:
        return configured
    return default_id if in_hub_cache(default_id) else None


def check_folder(source: str, required: Iterable[str], *, what: str, how: str) -> None:
    """Raise ``ModelUnavailable`` when ``source`` is a folder without every one of ``required``.

    A hub id (not an existing path) is checked by the loader itself. ``what`` names the model,
    ``how`` says how to get a complete copy.
    """
    folder = Path(source).expanduser()
    if not folder.exists():
        if source.startswith((".", "/", "~")) or "\\" in source or source.count("/") > 1:
            raise ModelUnavailable(f"{what} folder {source} does not exist; {how}")
        return
    if not folder.is_dir():
        raise ModelUnavailable(f"{what} source {source} is a file, not a model folder; {how}")
    missing = [name for name in required if not any(folder.glob(name))]
    if missing:
        raise ModelUnavailable(f"{what} folder {source} is missing {', '.join(missing)}; {how}")
