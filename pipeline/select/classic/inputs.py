"""What a classical solve is given besides the photo: its clicks at the working scale (``Seed``)
and its energy weights (``Tuning``). ``solve`` and ``limits`` both read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seed:
    """A click at working-scale row ``y`` and column ``x``; ``positive`` marks object."""

    y: int
    x: int
    positive: bool


@dataclass(frozen=True)
class Tuning:
    """Energy weights of the classical selector (dimensionless unless marked ``_px`` / ``_frac``)."""

    smoothness: float = 5.0  # Potts weight against colour costs of ~[0, 9]
    seed_radius_frac: float = 0.012  # hard disk around each click, fraction of the diagonal
    geodesic_weight: float = 4.0  # cost of the label of the geodesically farther clicks
    sample_frac: float = 0.08  # geodesic reach of a click's colour sample, fraction of the diagonal
    iterations: int = 2
    edge_weight: float = 4.0  # geodesic step cost per relative colour distance
    border_cost_frac: float = 0.08  # geodesic head start of the border, fraction of the diagonal
    prior_weight: float = 3.0  # cost of changing the previous label far from the new click
    prior_reach: float = 1.5  # the prior fades in from this many geodesic reaches of the new click
    pull_weight: float = 3.0  # with a box and no object click: cost of refusing the new click's label near it
    previous_sample: float = 1.0  # weight of the previous mask in the colour samples
    # hard limits on what a later click may change (``limit_change``); inf / False / 0 switch one off.
    # The k-fold of bench/select_quality.py tried them against the soft prior above and kept them off.
    reach_limit: float = float("inf")  # only within this many geodesic reaches of the click
    radius_limit: float = float("inf")  # only within this many times the click's distance to its own label (px)
    click_piece: bool = False  # only flips to the click's label, in the one piece that holds the click
    settled: float = 0.0  # no flips where an earlier opposite click is nearer than this times the new one
    spill_limit: float = float("inf")  # object click adding > this x pi reach^2 px: keep only sqrt(this) reaches (px)
    spill_share: float = 0.0  # ... and more than this share of the previous mask (rounds 10-11: both off)
    # the zero-click subject as evidence for a first solve (``subject_prior``; 0 switches it off).
    # Its gate (agreement 0.55, no dominance limit) is the k-fold's choice on all photos in rounds
    # 4-6 of bench/select_quality.py (grids GATE, BACKED, REACH in bench/select_grids.py).
    subject_weight: float = 3.0  # cost of labelling the clicked subject piece background, and the rest object
    subject_sample: float = 1.0  # share of the clicked subject piece in the object colour sample
    subject_agreement: float = 0.55  # only where this share of it is geodesically nearer the clicks than the border
    subject_dominance: float = 0.0  # only where the clicked piece holds this share of the whole subject's area
    backed_prior_weight: float = 4.5  # ``prior_weight`` of later clicks after a first mask the subject backed
    backed_prior_reach: float = 1.0  # ``prior_reach`` of later clicks after a first mask the subject backed
    # near a later background click, colour costs from local samples (0 switches it off; ``solve._local_colour``);
    # 1 with confidence 2.2 is the k-fold's choice on all photos in rounds 8 and 9 (grids CONFIDENT, SLIVER)
    local_colour: float = 1.0  # share of the local colour costs where the click may change the mask
    local_confidence: float = 2.2  # > 0: that share only where the local costs differ by this much, less where less
    local_sample_frac: float = 0.08  # geodesic reach of the local samples, fraction of the diagonal
    local_nearer: bool = False  # that share only where the click is nearer than every object click (round 9: off)


TUNING = Tuning()
