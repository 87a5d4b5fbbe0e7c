"""Steps 4 and 5: run an edit as a recipe step, keep it as a history cell, restore and reuse cells.

An edit runs on the full-resolution photo with the refined mask through
``pipeline.recipe.apply`` (the functions ``stencil apply`` uses), so a cell's ``recipe.json``
replayed on the same photo gives the same result, mask, cutout and crop.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline import recipe as recipes
from pipeline.edits.remove import LARGE_SHARE
from pipeline.errors import EmptyMask, InvalidInput
from pipeline.inpaint.protocol import CancelFlag, ProgressFn
from pipeline.io.images import save_image, save_mask, save_rgba
from pipeline.masks.compose import solid
from pipeline.recipe import Edit, ExtendCanvas, Output, Recipe, Remove, ReplaceBackground
from pipeline.recipe.apply import apply_edit, refine_mask
from pipeline.recipe.output import edit_outputs
from pipeline.recipe.steps import EDIT_STEPS
from pipeline.space.runtime import gpu_seconds_for
from pipeline.types import Image, Mask
from ui import notebook
from ui.controls import caption
from ui.display import fit_display, thumbnail
from ui.services import Services
from ui.state import Cell, Pictures, Session, trim_heap_soon

PNG_LEVEL = 1
"""zlib level of the download PNGs: lossless at every level; 1 writes a 12 MP photo about 4x faster than 6."""

SUFFIXES = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


REMOVAL_WARN_SHARE = LARGE_SHARE
"""A removal whose mask covers more of the photo than this is filled from too little to look right."""


def removal_note(edit: Edit, mask: Mask) -> str | None:
    """A warning when ``edit`` removes more than ``REMOVAL_WARN_SHARE`` of the photo, else None."""
    share = float(np.mean(mask > 0.5)) if isinstance(edit, Remove) else 0.0
    if share <= REMOVAL_WARN_SHARE:
        return None
    return (
        f"The mask covers {share:.0%} of the photo: removing that much fills it from very little "
        "(an all-white mask comes out flat). To change the background, use 'Replace background' instead."
    )


def refined(session: Session) -> Mask:
    """The current mask with the session's refinement applied, at full resolution."""
    photo = notebook.need_photo(session)
    return refine_mask(session.refine, session.current_mask(), photo.image)


def run_edit(
    services: Services,
    session: Session,
    edit: Edit,
    output: Output,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
    warn: Callable[[str], None] | None = None,
) -> Session:
    """Run ``edit`` on the photo and its refined mask; the result becomes a new history cell.

    ``warn`` is told what the user should know before the result comes (``removal_note``)."""
    photo = notebook.need_photo(session)
    mask = refined(session)
    if not isinstance(edit, ExtendCanvas) and float(mask.max(initial=0.0)) <= 0.0:
        raise EmptyMask("the mask is empty: select something in step 2 (click the product) before running an edit")
    if warn is not None and (note := removal_note(edit, mask)):
        warn(note)
    engines = services.engines
    done = services.run_model(
        lambda: apply_edit(edit, photo.image, mask, engines, progress=progress, cancel=cancel),
        seconds=gpu_seconds_for(photo.image, edit),
        fallback=lambda: apply_edit(
            _classical(edit), photo.image, mask, services.classical_engines, progress=progress, cancel=cancel
        ),
    )
    framed, cutout, crop = edit_outputs(
        photo.image, done.image, done.mask, output, subject=isinstance(edit, ReplaceBackground)
    )
    extra = () if output == Output() else (output,)
    recipe = session.recipe().then(edit, *extra)
    index = (session.history[-1].index + 1) if session.history else 1
    folder = Path(tempfile.mkdtemp(prefix=f"cell-{index}-", dir=notebook.session_folder(session)))
    files = write_downloads(folder, framed, done.mask, cutout, crop, recipe, output)
    lossless = output.jpeg_quality is None  # PNG, WebP: the result is read back from its download when needed
    before, after = comparison_pair(photo.image, framed, photo.display)
    cell = Cell(
        index=index,
        recipe=recipe,
        photo_name=photo.name,
        caption=caption(index, edit, done.engine),
        engine=done.engine,
        thumbnail=thumbnail(after),
        preview=(before, after),
        folder=folder,
        downloads=files,
        pictures=Pictures(photo.image, session.current_mask(), session.base, None if lossless else framed),
    )
    trim_heap_soon()  # the cell that left memory (or the history) is freed once this session replaces the old
    return replace(session, folder=folder.parent).with_cell(cell, framed)


def write_downloads(
    folder: Path, result: Image, used: Mask, cutout: np.ndarray, crop: Image, recipe: Recipe, output: Output
) -> tuple[str, ...]:
    """result, mask, cutout, crop (lossless unless the output format says otherwise) and recipe.json."""
    paths = [
        folder / f"result{SUFFIXES[output.format]}",
        folder / "mask.png",
        folder / "cutout.png",
        folder / f"crop{SUFFIXES[output.format]}",
        folder / "recipe.json",
    ]
    level = PNG_LEVEL if output.format == "png" else None
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="stencil-png") as pool:
        jobs = [
            pool.submit(save_image, paths[0], result, compression=level, quality=output.jpeg_quality),
            pool.submit(save_mask, paths[1], used, compression=PNG_LEVEL),
            pool.submit(save_rgba, paths[2], cutout, compression=PNG_LEVEL),
            pool.submit(save_image, paths[3], crop, compression=level, quality=output.jpeg_quality),
        ]
        paths[4].write_text(recipes.dumps(recipe))
        for job in jobs:
            job.result()
    return tuple(str(p) for p in paths)


def comparison_pair(image: Image, result: Image, display: Image | None) -> tuple[Image, Image]:
    """Display-size before and after pictures for the slider (the before is padded when sizes differ)."""
    after, _ = fit_display(result)
    if image.shape == result.shape:
        return (display if display is not None and display.shape == after.shape else fit_display(image)[0]), after
    before = np.full_like(result, 235)
    height, width = min(image.shape[0], result.shape[0]), min(image.shape[1], result.shape[1])
    top, left = (result.shape[0] - height) // 2, (result.shape[1] - width) // 2
    before[top : top + height, left : left + width] = fit_to(image, (width, height))
    return fit_display(before)[0], after


def fit_to(image: Image, size: tuple[int, int]) -> Image:
    """``image`` scaled down to fit ``size`` = (W, H), then centred in it (for the before picture)."""
    width, height = size
    if image.shape[1] <= width and image.shape[0] <= height:
        scaled = image
    else:
        scaled = fit_display(image, max(width, height))[0][:height, :width]
    out = solid((height, width), (235, 235, 235))
    top, left = (height - scaled.shape[0]) // 2, (width - scaled.shape[1]) // 2
    out[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return out


# ---------------------------------------------------------------- reuse


def use_result(services: Services, session: Session) -> Session:
    """The shown result becomes the photo; the raw mask carries over when the size is the same."""
    if session.result is None or session.shown_cell is None:
        raise InvalidInput("no result yet: run an edit in step 4 first")
    cell = session.cell(session.shown_cell)
    steps = cell.recipe.steps
    if steps and isinstance(steps[-1], Output):  # a recipe's output step may only come last
        if steps[-1].canvas is not None:
            raise InvalidInput(
                f"#{cell.index} was framed on a catalogue canvas, which a recipe can only do last; "
                "run it again with canvas width and height 0 to use its result as input"
            )
        steps = steps[:-1]  # format and quality do not change the pixels kept in memory
    name = f"result of #{cell.index}"
    new = notebook.load(services, session.result, name, session, origin=Recipe(steps))
    mask = cell.load_pictures().mask
    if mask.shape == session.result.shape[:2] and float(mask.max(initial=0.0)) > 0:
        new = notebook.store_mask(new, mask, "result", "replace")
    return new


def restore(services: Services, session: Session, index: int) -> tuple[Session, Cell]:
    """Go back to history cell ``index`` (gallery order): its photo, mask steps, refine and result."""
    if not 0 <= index < len(session.history):
        raise InvalidInput("that history cell no longer exists; run an edit to make a new one")
    cell = session.history[index]
    pictures = cell.load_pictures()
    steps = cell.recipe.steps
    edit_at = max(i for i, step in enumerate(steps) if isinstance(step, EDIT_STEPS))
    head = Recipe(steps[:edit_at])
    origin_end = max((i + 1 for i, s in enumerate(head.steps) if isinstance(s, EDIT_STEPS)), default=0)
    origin, own = Recipe(head.steps[:origin_end]), head.steps[origin_end:]
    new = notebook.load(services, pictures.image, cell.photo_name, session, origin=origin)
    mask_steps = tuple(s for s in own if not isinstance(s, recipes.Refine))
    refine = next((s for s in own if isinstance(s, recipes.Refine)), recipes.Refine())
    new = replace(new, steps=mask_steps, mask=pictures.mask, base=pictures.base, refine=refine)
    return replace(new, result=pictures.result, shown_cell=cell.index), cell


def cell_edit(cell: Cell) -> tuple[Edit, Output]:
    """The edit and the output step of a cell's recipe."""
    edit = next(s for s in reversed(cell.recipe.steps) if isinstance(s, EDIT_STEPS))
    return edit, cell.recipe.output


def _classical(edit: Edit) -> Edit:
    """``edit`` on the classical engine (what runs when the GPU is refused)."""
    return replace(edit, engine="classic") if getattr(edit, "engine", "classic") != "classic" else edit
