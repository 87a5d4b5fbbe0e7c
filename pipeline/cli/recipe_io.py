"""Recipe files on the command line: ``--save-recipe PATH`` for every command that makes a mask
or an edit, and reading the file ``stencil apply`` replays.

A command given a MASK file keeps that mask in its recipe as a ``StoredMask`` (8-bit levels),
so the recipe replays only on photos of that size; to keep the saved recipe and the command's
own result pixel-identical, such a command then uses the mask at those 8-bit levels too.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pipeline.cli.jobs import UsageError
from pipeline.errors import InvalidInput
from pipeline.io.files import remove_quietly
from pipeline.recipe import MAX_RECIPE_BYTES, Output, Recipe, RecipeError, StoredMask, dumps, loads
from pipeline.recipe.mask_sources import stored_levels, to_levels
from pipeline.types import Mask

FORMAT_SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
"""The file suffix ``stencil apply`` gives each result of a folder run, by ``Output.format``."""
_SUFFIX_FORMAT = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_LIMIT_MIB = MAX_RECIPE_BYTES // 2**20

PHOTO_SPECIFIC = "The recipe keeps MASK, so it replays only on photos of its size; IMAGE must then be one photo."


def add_save_recipe(parser: argparse.ArgumentParser, note: str) -> None:
    """Add ``--save-recipe PATH``; ``note`` says on which photos the recipe replays."""
    parser.add_argument(
        "--save-recipe", type=Path, default=None, metavar="PATH",
        help=f"also write what this command did as a recipe (JSON) for 'stencil apply'. {note}",
    )  # fmt: skip


def refuse_folder(args: argparse.Namespace, folder: Path, why: str) -> None:
    """Raise a usage error when ``--save-recipe`` is given and ``folder`` is a folder."""
    if args.save_recipe is not None and folder.is_dir():
        raise UsageError(f"--save-recipe needs one photo, not the folder {folder}: {why}")


def output_for(path: Path) -> Output:
    """The ``Output`` step of a command writing ``path`` (PNG unless the suffix says JPEG or WebP)."""
    return Output(format=_SUFFIX_FORMAT.get(path.suffix.lower(), "png"))  # type: ignore[arg-type]


def stored(mask: Mask, origin: str = "mask") -> tuple[Mask, StoredMask]:
    """``mask`` at the 8-bit levels a recipe keeps, and the ``StoredMask`` step holding them."""
    levels = to_levels(mask)
    return stored_levels(levels), StoredMask(levels=levels, origin=origin)  # type: ignore[arg-type]


class RecipeSaver:
    """Keeps the recipe of a run and writes it, atomically, once the run is over.

    ``keep`` encodes the recipe (refusing one ``stencil apply`` could not read) and should be
    called before the command writes its result; ``write`` does nothing when nothing was kept.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: bytes | None = None

    @property
    def active(self) -> bool:
        return self.path is not None

    def keep(self, recipe: Recipe) -> None:
        if self.path is None:
            return
        data = dumps(recipe).encode("utf-8")
        if len(data) > MAX_RECIPE_BYTES:
            raise InvalidInput(
                f"the recipe would be {len(data) / 2**20:.1f} MiB, above the {_LIMIT_MIB} MiB 'stencil apply' "
                "reads; use a smaller background image or mask"
            )
        self._data = data

    def write(self) -> None:
        if self.path is not None and self._data is not None:
            write_atomic(self.path, self._data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` through a temporary file in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        raise InvalidInput(f"cannot write {path}: {error.strerror or error}") from None
    finally:  # also after Ctrl-C or SIGTERM: no .part is left
        remove_quietly(temporary)


def read_recipe(path: Path) -> Recipe:
    """Read a recipe file; one over ``MAX_RECIPE_BYTES`` is refused before it is read."""
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_RECIPE_BYTES:
                raise RecipeError(
                    f"recipe {path} is {size / 2**20:.1f} MiB, above the {_LIMIT_MIB} MiB limit; "
                    "store large masks and pictures as files"
                )
            data = file.read(MAX_RECIPE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"recipe {path} does not exist") from None
    except OSError as error:
        raise UsageError(f"cannot read recipe {path}: {error.strerror or error}") from None
    return loads(data)
