"""The backdrop's colour rarity and the see-through hole rule of the classical subject extractor."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline import masks
from pipeline.select.subject.backdrop import fill_holes, rare_colour, rarity
from pipeline.select.subject.classic import SubjectTuning, find_subject


def mug_photo(width: int = 400, height: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """A teal mug with a ring handle on yellow paper (a soft gradient, some grain); the paper shows
    through the handle. Returns the photo and the true mask (the hole is not mug)."""
    rng = np.random.default_rng(1)
    ramp = np.linspace(0, 20, height, dtype=np.float32)[:, None, None]
    photo = np.array([220, 170, 60], np.float32) - ramp + rng.normal(0, 3, (height, width, 3))
    truth = np.zeros((height, width), np.uint8)
    cv2.rectangle(truth, (140, 90), (240, 230), 1, -1)  # the body
    cv2.circle(truth, (245, 160), 42, 1, 14)  # the handle: a ring whose inside is the paper
    photo[truth > 0] = (30, 110, 120)
    return np.clip(photo, 0, 255).astype(np.uint8), truth.astype(np.float32)


def test_the_paper_seen_through_a_mug_handle_stays_out_of_the_mask() -> None:
    photo, truth = mug_photo()
    hole = (slice(150, 170), slice(255, 275))  # inside the handle, right of the body
    assert truth[hole].sum() == 0
    found = find_subject(photo)
    assert masks.iou(found, truth) > 0.95
    assert found[hole].mean() < 0.05
    filled_every_hole = find_subject(photo, SubjectTuning(see_through_rarity=0.0))
    assert filled_every_hole[hole].mean() > 0.95  # the rule, not the cut, keeps it open


def test_rarity_is_spread_over_the_backdrop_and_high_on_a_colour_it_never_shows() -> None:
    rng = np.random.default_rng(2)
    lab = np.empty((60, 80, 3), np.float32)
    lab[:] = (200.0, 128.0, 128.0)
    lab += rng.normal(0, 2, lab.shape).astype(np.float32)
    lab[20:40, 30:50] = (190.0, 140.0, 135.0)  # pale pink on a pale grey: a few units away
    border = np.zeros((60, 80), bool)
    border[:4], border[-4:], border[:, :4], border[:, -4:] = True, True, True, True
    rare = rarity(lab, border)
    assert rare.dtype == np.float32 and rare.shape == (60, 80)
    assert 0.4 < float(np.median(rare[border])) < 0.6  # a rank: even over the backdrop's own pixels
    assert rare[20:40, 30:50].min() > 0.99
    assert rare_colour(rare)[20:40, 30:50].min() > 0.9 and float(np.median(rare_colour(rare)[border])) == 0.0


def test_a_hole_of_a_rare_colour_fills_and_one_of_the_backdrops_colour_stays() -> None:
    subject = np.zeros((60, 60), bool)
    subject[10:50, 5:55] = True
    subject[20:30, 10:20] = False  # a hole showing the backdrop
    subject[20:30, 40:50] = False  # a hole of a colour the backdrop never shows (a label)
    rng = np.random.default_rng(4)
    lab = np.empty((60, 60, 3), np.float32)
    lab[:] = (180.0, 130.0, 140.0)  # the backdrop, and what the see-through hole shows
    lab[subject] = (60.0, 110.0, 100.0)  # the product
    lab[20:30, 40:50] = (235.0, 128.0, 128.0)  # a white label
    lab += rng.normal(0, 2, lab.shape).astype(np.float32)
    out = fill_holes(subject, 1.0, lab, see_through=0.75)
    assert not out[20:30, 10:20].any() and out[20:30, 40:50].all()
    assert fill_holes(subject, 1.0, lab, see_through=0.0)[20:30, 10:20].all()  # 0: every hole fills
    assert fill_holes(subject, 1.0)[20:30, 10:20].all()  # without rarity: every hole fills
