"""A first click on the photo's subject takes the zero-click subject as evidence, where the clicks agree."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.select.classic.selector import ClassicSelector
from pipeline.select.classic.solve import TUNING, Distances
from pipeline.select.classic.subject_prior import clicked_piece, subject_evidence
from pipeline.select.clicks import iou
from pipeline.types import Point

WITHOUT_SUBJECT = dataclasses.replace(TUNING, subject_weight=0.0)


def _product(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A 120x160 product shot: a red bottle with a blue cap (a strong edge between them) on pale paper."""
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    image = rng.normal(225, 6, (h, w, 3))
    body = (np.abs(xx - 80) <= 22) & (yy >= 45) & (yy <= 105)
    cap = (np.abs(xx - 80) <= 12) & (yy >= 15) & (yy < 45)
    image[body] = rng.normal((200, 40, 40), 8, (int(body.sum()), 3))
    image[cap] = rng.normal((40, 60, 190), 8, (int(cap.sum()), 3))
    return np.clip(image, 0, 255).astype(np.uint8), body | cap


def test_a_click_on_one_part_of_the_subject_selects_all_of_it() -> None:
    image, truth = _product(np.random.default_rng(0))
    click = (Point(80, 80, True),)  # on the red body
    with_subject = ClassicSelector().select(ClassicSelector().prepare(image), click).best.mask >= 0.5
    plain = ClassicSelector(tuning=WITHOUT_SUBJECT)
    without = plain.select(plain.prepare(image), click).best.mask >= 0.5
    assert iou(with_subject, truth) >= 0.9
    assert iou(without, truth) < 0.85  # the click's own evidence stops at the cap's edge


def test_a_click_off_the_subject_gets_no_subject_evidence() -> None:
    image, _ = _product(np.random.default_rng(1))
    click = (Point(20, 100, True),)  # on the paper, far from the bottle
    selector, plain = ClassicSelector(), ClassicSelector(tuning=WITHOUT_SUBJECT)
    prepared = selector.prepare(image)
    assert prepared.features.subject is not None and prepared.features.subject.any()
    assert not prepared.features.subject[100, 20]
    ours = selector.select(prepared, click).best.mask
    theirs = plain.select(plain.prepare(image), click).best.mask
    np.testing.assert_array_equal(ours, theirs)


def test_clicked_piece_is_the_piece_under_the_click() -> None:
    subject = np.zeros((20, 30), bool)
    subject[2:8, 2:8] = True
    subject[10:18, 15:28] = True
    piece = clicked_piece(subject, [(12, 20)])
    assert piece is not None and piece[10:18, 15:28].all() and not piece[2:8, 2:8].any()
    assert clicked_piece(subject, [(0, 0)]) is None
    assert clicked_piece(np.zeros((20, 30), bool), [(12, 20)]) is None


def test_a_subject_the_clicks_give_to_the_background_is_no_evidence() -> None:
    """A subject piece mostly nearer the border than the click (a cluster of things on a busy photo) is refused."""
    from pipeline.select.classic.solve import Seed

    subject = np.zeros((20, 30), bool)
    subject[4:16, 4:26] = True
    seeds = (Seed(10, 8, True),)
    to_click = np.full(subject.shape, 5.0, np.float32)
    to_border = np.full(subject.shape, 10.0, np.float32)
    agreed = subject_evidence(subject, seeds, Distances(to_click, to_border), TUNING)
    assert agreed is not None and agreed.sum() == subject.sum()
    to_border[:, 10:] = 1.0  # most of the piece is nearer the border: the clicks disagree with the subject
    assert subject_evidence(subject, seeds, Distances(to_click, to_border), TUNING) is None
    assert subject_evidence(subject, seeds, Distances(to_click, to_border * 0 + 10), WITHOUT_SUBJECT) is None


def test_a_click_on_one_of_several_separate_subject_pieces_can_be_refused() -> None:
    """``subject_dominance``: a piece that holds too small a share of the subject (the finder found
    several things, a shelf of products) is refused, however much the click agrees with it."""
    from pipeline.select.classic.solve import Seed
    from pipeline.select.classic.subject_prior import piece_share

    subject = np.zeros((20, 40), bool)
    subject[4:16, 2:12] = True  # three separate things of 120, 120 and 60 pixels
    subject[4:16, 16:26] = True
    subject[4:10, 30:40] = True
    seeds = (Seed(10, 6, True),)
    piece = clicked_piece(subject, [(10, 6)])
    assert piece is not None and piece_share(piece, subject) == 0.4
    near = Distances(np.full(subject.shape, 1.0, np.float32), np.full(subject.shape, 10.0, np.float32))
    lenient = dataclasses.replace(TUNING, subject_agreement=0.0, subject_dominance=0.3)
    strict = dataclasses.replace(TUNING, subject_agreement=0.0, subject_dominance=0.5)
    accepted = subject_evidence(subject, seeds, near, lenient)
    assert accepted is not None and np.array_equal(accepted, piece)
    assert subject_evidence(subject, seeds, near, strict) is None
    alone = subject & piece  # the same piece found on its own holds all of the subject
    assert subject_evidence(alone, seeds, near, strict) is not None


def test_only_a_single_object_click_gets_subject_evidence() -> None:
    """Several clicks given at once (a suggested selection) already say what is meant."""
    from pipeline.select.classic.solve import Seed

    subject = np.zeros((20, 30), bool)
    subject[4:16, 4:14] = True
    near = Distances(np.full(subject.shape, 1.0, np.float32), np.full(subject.shape, 10.0, np.float32))
    assert subject_evidence(subject, (Seed(10, 8, True),), near, TUNING) is not None
    assert subject_evidence(subject, (Seed(10, 8, True), Seed(12, 10, True)), near, TUNING) is None
    assert subject_evidence(subject, (Seed(10, 8, True), Seed(2, 25, False)), near, TUNING) is None
    assert subject_evidence(subject, (Seed(10, 8, False),), near, TUNING) is None


def test_an_object_click_on_what_is_already_object_solves_all_clicks_afresh() -> None:
    """Clicks replayed one by one (a suggested selection: body, then cap) end as if given at once,
    however much the first mask held: a click that corrects nothing keeps no prior."""
    from pipeline.select.protocol import Selection

    image, truth = _product(np.random.default_rng(2))
    selector = ClassicSelector()
    prepared = selector.prepare(image)
    first = selector.select(prepared, (Point(80, 80, True),))
    too_much = np.zeros_like(first.state.masks[0])
    too_much[5:115, 10:150] = True  # as if the first click had taken most of the paper too
    state = dataclasses.replace(first.state, masks=(too_much,), kinds=("object",))
    both = (Point(80, 80, True), Point(80, 30, True))
    replayed = selector.select(prepared, both, previous=Selection(first.candidates[:1], state))
    np.testing.assert_array_equal(replayed.best.mask, selector.select(prepared, both).best.mask)
    assert iou(replayed.best.mask >= 0.5, truth) >= 0.9
