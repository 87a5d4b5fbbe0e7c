"""The ``Subject`` mask step: built, encoded, replayed, combined, and accepted for catalogues."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline import masks
from pipeline.errors import InvalidInput
from pipeline.recipe import ColorRange, Recipe, RecipeError, Refine, Subject, dumps, loads, run
from pipeline.recipe.batch import check_generalises
from pipeline.select.subject.classic import find_subject


def test_subject_replays_the_extractor_and_combines_like_every_mask_step(
    photo: np.ndarray, disc_mask: np.ndarray
) -> None:
    alone = run(Recipe((Subject(engine="classic"),)), photo).mask
    assert np.array_equal(alone, find_subject(photo)) and masks.iou(alone, disc_mask) > 0.9
    everything = ColorRange(color=(0, 0, 0), tolerance=400.0)
    backdrop = run(Recipe((everything, Subject(engine="classic", combine="subtract"))), photo).mask
    assert np.array_equal(backdrop, 1.0 - alone)
    ringed = run(Recipe((Subject(), Refine(grow_px=3), Subject(combine="intersect"))), photo).mask
    assert np.array_equal(ringed, alone)


def test_subject_round_trips_through_json_and_bad_fields_name_the_step() -> None:
    recipe = Recipe((Subject(engine="rembg", combine="add"),))
    assert loads(dumps(recipe)) == recipe
    bad = {"stencil_recipe": 2, "steps": [{"step": "subject", "engine": "sam", "combine": "replace"}]}
    with pytest.raises(RecipeError, match=r"step 1 \(subject\).*engine"):
        loads(json.dumps(bad))
    extra = {"stencil_recipe": 2, "steps": [{"step": "subject", "threshold": 0.5}]}
    with pytest.raises(RecipeError, match="unknown field 'threshold'"):
        loads(json.dumps(extra))
    with pytest.raises(InvalidInput, match="auto, rembg or classic"):
        Subject(engine="u2net")  # type: ignore[arg-type]


def test_a_subject_recipe_generalises_to_a_catalogue() -> None:
    check_generalises(Recipe((Subject(), Refine(feather_px=2.0))))  # no error: it replays on any photo
