"""The settings the click-selection k-fold (``bench/select_quality.py``) chose from, round by round.

Each grid names its settings by what differs from the one before it; the k-fold picks per fold.
"""

from __future__ import annotations

import dataclasses

from pipeline.select.classic.solve import TUNING, Tuning

# the defaults of issue 12's first session (no subject evidence)
# (no local colour near background clicks: round 7 added it, so the earlier rounds' grids keep it off)
BEFORE = dataclasses.replace(
    TUNING,
    smoothness=5.0,
    prior_weight=3.0,
    prior_reach=1.5,
    subject_weight=0.0,
    local_colour=0.0,
    local_confidence=0.0,
)
# the selector's settings before issue 12 (a weaker prior, no limits)
OLD_TUNING = dataclasses.replace(BEFORE, smoothness=3.5, prior_weight=1.5, prior_reach=3.0)
GRID = {  # round 1: the settings the k-fold chose from (names: what differs from the old settings)
    "old-rule": OLD_TUNING,
    "prior2_reach2": dataclasses.replace(OLD_TUNING, prior_weight=2.0, prior_reach=2.0),
    "prior3_reach2": dataclasses.replace(OLD_TUNING, prior_weight=3.0, prior_reach=2.0),
    "prior3_reach1.5": dataclasses.replace(OLD_TUNING, prior_weight=3.0, prior_reach=1.5),
    "prior3_reach1.5_settled1": dataclasses.replace(OLD_TUNING, prior_weight=3.0, prior_reach=1.5, settled=1.0),
    "radius4": dataclasses.replace(OLD_TUNING, radius_limit=4.0),
    "settled1": dataclasses.replace(OLD_TUNING, settled=1.0),
    "reach6_piece": dataclasses.replace(OLD_TUNING, reach_limit=6.0, click_piece=True),
}
TRIAL = {  # round 2: neighbours of round 1's choice in the other weights
    "default": BEFORE,
    "smooth3.5": dataclasses.replace(BEFORE, smoothness=3.5),
    "smooth7": dataclasses.replace(BEFORE, smoothness=7.0),
    "geodesic2.5": dataclasses.replace(BEFORE, geodesic_weight=2.5),
    "geodesic6": dataclasses.replace(BEFORE, geodesic_weight=6.0),
    "sample0.05": dataclasses.replace(BEFORE, sample_frac=0.05),
    "sample0.14": dataclasses.replace(BEFORE, sample_frac=0.14),
    "iterations3": dataclasses.replace(BEFORE, iterations=3),
}


def _subject(
    gate: float, prior: float = 3.0, reach: float = 1.5, backed: tuple[float, float] = (4.5, 1.0), piece: float = 0.0
) -> Tuning:
    """``BEFORE`` with the subject as first-click evidence (``gate``: ``subject_agreement``; ``piece``:
    ``subject_dominance``), the prior of every later click and (``backed``) of later clicks after a
    subject-backed first mask."""
    return dataclasses.replace(
        BEFORE, subject_weight=3.0, subject_agreement=gate, subject_dominance=piece, prior_weight=prior,
        prior_reach=reach, backed_prior_weight=backed[0], backed_prior_reach=backed[1],
    )  # fmt: skip


SUBJECT = {  # round 3 (the default grid): the zero-click subject as first-click evidence, its gate
    "before": BEFORE,
    "subject_gate0.55_backed4.5_reach1": _subject(0.55),
    "subject_always_backed4.5_reach1": _subject(0.0),
}
EXPLORED = {  # round 3's first grid: one prior for every later click
    "subject_gate0.55": _subject(0.55, backed=(3.0, 1.5)),
    "subject_gate0.55_prior4.5_reach1": _subject(0.55, 4.5, 1.0, (4.5, 1.0)),
    "subject_gate0.55_prior4.5_reach1.5": _subject(0.55, 4.5, 1.5, (4.5, 1.5)),
    "subject_always_prior4.5_reach1": _subject(0.0, 4.5, 1.0, (4.5, 1.0)),
}
GATE = {  # round 4 (the default grid): when the subject may back a first click, chosen by the k-fold
    "never": BEFORE,  # no subject evidence (any gate threshold above 1)
    "always": _subject(0.0),
    "agree0.45": _subject(0.45),
    "agree0.55": _subject(0.55),  # round 3's hand-set gate
    "agree0.65": _subject(0.65),
    "piece0.5": _subject(0.0, piece=0.5),  # the clicked piece holds half the subject or more
    "piece0.8": _subject(0.0, piece=0.8),
    "agree0.55_piece0.5": _subject(0.55, piece=0.5),
}
BACKED = {  # round 5 (same rule): a firmer prior after a subject-backed first mask, against round 4's choices
    "never": BEFORE,
    "agree0.55": _subject(0.55),
    "agree0.65": _subject(0.65),
    "agree0.55_backed6": _subject(0.55, backed=(6.0, 1.0)),
    "agree0.55_backed8": _subject(0.55, backed=(8.0, 1.0)),
    "agree0.55_backed6_reach0.75": _subject(0.55, backed=(6.0, 0.75)),
}
REACH = {  # round 6 (same rule): a weaker prior for masks the subject did not back (clutter's slow climbs)
    "agree0.55": _subject(0.55),
    "agree0.55_backed6": _subject(0.55, backed=(6.0, 1.0)),
    "agree0.55_backed6_prior3_reach2": _subject(0.55, 3.0, 2.0, (6.0, 1.0)),
    "agree0.55_backed6_prior2.5_reach2": _subject(0.55, 2.5, 2.0, (6.0, 1.0)),
    "agree0.55_backed6_prior2_reach2": _subject(0.55, 2.0, 2.0, (6.0, 1.0)),
    "agree0.55_backed6_prior2_reach1.5": _subject(0.55, 2.0, 1.5, (6.0, 1.0)),
}
LOCAL = {  # round 7 (same rule): colour costs from local samples near a background click (``Tuning.local_colour``)
    "agree0.55": _subject(0.55),
    "agree0.55_local0.5": dataclasses.replace(_subject(0.55), local_colour=0.5),
    "agree0.55_local0.75": dataclasses.replace(_subject(0.55), local_colour=0.75),
    "agree0.55_local1": dataclasses.replace(_subject(0.55), local_colour=1.0),
}
CONFIDENT = {  # round 8 (same rule): round 7's local colour only where the local samples tell the labels apart
    "agree0.55": _subject(0.55),
    "agree0.55_local0.75_conf1": dataclasses.replace(_subject(0.55), local_colour=0.75, local_confidence=1.0),
    "agree0.55_local0.75_conf2.2": dataclasses.replace(_subject(0.55), local_colour=0.75, local_confidence=2.2),
    "agree0.55_local1_conf2.2": dataclasses.replace(_subject(0.55), local_colour=1.0, local_confidence=2.2),
}
SLIVER = {  # round 9 (same rule): local colour only where the background click is nearer than every object click
    "agree0.55_local1_conf2.2": CONFIDENT["agree0.55_local1_conf2.2"],
    "agree0.55_local1_conf2.2_nearer": dataclasses.replace(CONFIDENT["agree0.55_local1_conf2.2"], local_nearer=True),
}
_SHIPPED = CONFIDENT["agree0.55_local1_conf2.2"]
SPILL = {  # round 10 (same rule): an object click's flips held to sqrt(k) reaches when they outgrow k disks of it
    "agree0.55_local1_conf2.2": _SHIPPED,
    "agree0.55_local1_conf2.2_spill16": dataclasses.replace(_SHIPPED, spill_limit=16.0),
    "agree0.55_local1_conf2.2_spill36": dataclasses.replace(_SHIPPED, spill_limit=36.0),
}
SHARE = {  # round 11 (same rule): round 10's trim, a smaller disk, only where it adds a large share of the mask
    "agree0.55_local1_conf2.2": _SHIPPED,
    "agree0.55_local1_conf2.2_spill4_share0.2": dataclasses.replace(_SHIPPED, spill_limit=4.0, spill_share=0.2),
    "agree0.55_local1_conf2.2_spill4_share0.3": dataclasses.replace(_SHIPPED, spill_limit=4.0, spill_share=0.3),
}
