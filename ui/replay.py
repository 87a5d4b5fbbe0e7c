"""Load a recipe file into the page: its mask steps run on the current photo, its controls come back.

Earlier edits of a multi-edit recipe (made with "use result as input") are replayed with
``pipeline.recipe.run`` to make the photo the last edit works on; the last edit is not run, its
controls are set so that Run does it.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import recipe as recipes
from pipeline.errors import InvalidInput
from pipeline.recipe import Edit, Output, Recipe, RecipeError, Refine
from pipeline.recipe.steps import EDIT_STEPS, MASK_STEPS
from pipeline.space.runtime import gpu_seconds_for
from ui import notebook
from ui.services import Services
from ui.state import Session


def read_recipe(path: Path) -> Recipe:
    """A recipe file, refused before reading when it is larger than ``MAX_RECIPE_BYTES``."""
    size = path.stat().st_size
    if size > recipes.MAX_RECIPE_BYTES:
        raise RecipeError(
            f"{path.name} is {size / 2**20:.1f} MiB, above the {recipes.MAX_RECIPE_BYTES // 2**20} MiB recipe limit"
        )
    return recipes.loads(path.read_bytes())


def load_recipe(services: Services, session: Session, path: Path) -> tuple[Session, Refine, Edit | None, Output]:
    """The session with ``path``'s recipe replayed on its photo, and the refine, edit and output to show."""
    photo = notebook.need_photo(session)
    recipe = read_recipe(path)
    steps = recipe.steps
    edits = [i for i, step in enumerate(steps) if isinstance(step, EDIT_STEPS)]
    start = edits[-2] + 1 if len(edits) > 1 else 0
    if start:
        earlier = Recipe(steps[:start])
        seconds = gpu_seconds_for(photo.image, *earlier.steps)
        ran = services.run_model(
            lambda: recipes.run(earlier, photo.image, services.engines, alpha=photo.alpha), seconds=seconds
        )
        name = f"{photo.name} after {len(edits) - 1} edit(s) of the recipe"
        fresh = notebook.load(services, ran.image, name, session, origin=earlier)
    else:
        fresh = Session(photo=photo, history=session.history, folder=session.folder)
    refine, edit = Refine(), None
    for index, step in enumerate(steps[start:], start=start + 1):
        try:
            if isinstance(step, MASK_STEPS):
                fresh = notebook.replay_step(services, fresh, step)
        except InvalidInput as error:
            raise RecipeError(f"step {index} ({type(step).kind}): {error}") from None  # type: ignore[attr-defined]
        if isinstance(step, Refine):
            refine = step
        elif isinstance(step, EDIT_STEPS):
            edit = step
    return fresh.with_refine(refine), refine, edit, recipe.output
