"""The zero-click subject as evidence for a first click.

A first click says "this thing", and most photos a user selects from show one thing in front of
a backdrop. The classical subject extractor (``pipeline.select.subject.classic``: a backdrop
model from the border, a border saliency, a centre prior and a graph cut) finds that thing with
no click at all. ``prepare`` runs it once at the working scale; when a single first click falls
on the subject, the solve of that click takes the subject's connected piece that holds it as extra
evidence (``solve.Tuning.subject_weight``): a cost of labelling it background and of labelling
the rest object, and its colours in the object's colour sample. A click off the subject (a
part of the backdrop, a second thing) gets no such evidence, nor do several clicks given at
once, and nor does any later click: from then on the previous mask carries it.
"""

from __future__ import annotations

import numpy as np


def subject_map(small: np.ndarray) -> np.ndarray:
    """The subject of a working-scale photo (``(h, w, 3)`` uint8): boolean ``(h, w)``, maybe empty."""
    import cv2

    from pipeline.select.subject.classic import SubjectTuning, segment, working_copy

    tuning = SubjectTuning()
    tiny = working_copy(small, tuning.work_side_px)
    found = segment(tiny, tuning)
    if found.shape == small.shape[:2]:
        return found
    h, w = small.shape[:2]
    return cv2.resize(found.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5


def clicked_piece(subject: np.ndarray | None, clicks: list[tuple[int, int]]) -> np.ndarray | None:
    """The connected pieces of ``subject`` that hold one of ``clicks`` (``(row, col)``); None when none does."""
    import cv2

    if subject is None or not clicks or not subject.any():
        return None
    _, labels = cv2.connectedComponents(subject.astype(np.uint8), connectivity=8)
    held = {int(labels[y, x]) for y, x in clicks} - {0}
    return np.isin(labels, sorted(held)) if held else None


def piece_share(piece: np.ndarray, subject: np.ndarray) -> float:
    """The share of the whole subject's area that ``piece`` holds: near 1 when the extractor found one
    thing, low when it found several separate things (a shelf of products) and the click is on one."""
    return float(np.count_nonzero(piece)) / max(float(np.count_nonzero(subject)), 1.0)


def subject_evidence(subject: np.ndarray | None, seeds: tuple, dist, tuning) -> np.ndarray | None:
    """The clicked subject piece if it may serve as evidence for ``seeds``, else None.

    It may only for a single object click (several clicks at once already say what is meant; a
    pale jar's three clicks beat a subject that misses part of it) that lies on the subject,
    with ``tuning.subject_weight`` on, and where the click agrees with the subject: at least
    ``tuning.subject_agreement`` of the piece's pixels are geodesically nearer the click than
    the photo border (``dist``: ``solve.Distances``), and the piece holds at least
    ``tuning.subject_dominance`` of the subject's area (``piece_share``). A subject that the
    click's own evidence mostly gives to the background, or of which the clicked piece is one of
    several, is a cluster of things on a busy photo (a shelf of products, not the one clicked),
    which the extractor was never meant for. Both thresholds are chosen by the k-fold of
    ``bench/select_quality.py``.
    """
    if tuning.subject_weight <= 0 or len(seeds) != 1 or not seeds[0].positive:
        return None
    piece = clicked_piece(subject, [(seeds[0].y, seeds[0].x)])
    if piece is None or (tuning.subject_dominance > 0 and piece_share(piece, subject) < tuning.subject_dominance):
        return None
    nearer = dist.positive[piece] < dist.negative[piece]
    return piece if float(nearer.mean()) >= tuning.subject_agreement else None
