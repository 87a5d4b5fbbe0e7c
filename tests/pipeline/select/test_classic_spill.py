"""An object click's flips are trimmed when they outgrow its reach (``Tuning.spill_limit``, round 10)."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.select.classic.limits import limit_change, spill_trim
from pipeline.select.classic.solve import TUNING, Seed

SPILL = dataclasses.replace(TUNING, spill_limit=16.0)


def test_limit_change_holds_an_object_clicks_spill_to_its_reach() -> None:
    """A click on a missed hand whose cut also took the same-coloured blind beside it (a wrong
    region far larger than the hand) keeps the hand and only the blind near the click."""
    previous = np.zeros((120, 160), bool)
    previous[40:110, 20:60] = True  # the figure without its hand
    hand = np.zeros_like(previous)
    hand[44:56, 60:72] = True
    blind = np.zeros_like(previous)
    blind[10:100, 72:150] = True
    spilled = previous | hand | blind  # what the cut returned
    click = Seed(50, 66, True)  # on the hand, 6 px from the figure
    disk = np.zeros_like(previous)
    disk[48:53, 64:69] = True
    d_click = np.zeros(previous.shape)  # geodesically everything is near (the colour runs along)
    shipped = limit_change(previous, spilled, click, d_click, None, disk, TUNING)
    held = limit_change(previous, spilled, click, d_click, None, disk, SPILL)
    np.testing.assert_array_equal(shipped, spilled)  # off by default
    assert held[hand].all()
    assert np.count_nonzero(held & blind) <= np.pi * 16 * 6**2 < 0.3 * blind.sum()
    np.testing.assert_array_equal(held[previous], True)  # nothing of the figure is lost
    background = limit_change(~previous, ~spilled, Seed(50, 66, False), d_click, None, disk, SPILL)
    np.testing.assert_array_equal(background, ~spilled)  # background clicks are not trimmed


def test_spill_trim_keeps_an_addition_within_its_reach_whole() -> None:
    previous = np.zeros((100, 100), bool)
    previous[:, :40] = True
    leg = np.zeros_like(previous)
    leg[48:53, 40:90] = True  # a long thin missed part: 250 px, under 16 disks of its reach
    click = Seed(50, 45, True)
    np.testing.assert_array_equal(spill_trim(leg, previous, click, 16.0), leg)
    flood = np.zeros_like(previous)
    flood[:, 40:] = True  # 6,000 px: trimmed to 4 reaches of the click
    kept = spill_trim(flood, previous, click, 16.0)
    yy, xx = np.nonzero(kept)
    assert kept.sum() < flood.sum() and ((yy - 50) ** 2 + (xx - 45) ** 2).max() <= 16 * 6**2  # its reach: about 6 px


def test_spill_share_keeps_an_addition_small_against_the_mask_whole() -> None:
    """``spill_share`` (round 11): only additions above that share of the previous mask are trimmed."""
    previous = np.zeros((100, 100), bool)
    previous[:, :40] = True  # 4,000 px
    click = Seed(50, 45, True)
    piece = np.zeros_like(previous)
    piece[30:70, 40:70] = True  # 1,200 px: above 4 disks of the reach, under half the mask
    np.testing.assert_array_equal(spill_trim(piece, previous, click, 4.0, share=0.5), piece)
    assert spill_trim(piece, previous, click, 4.0, share=0.2).sum() < piece.sum()
