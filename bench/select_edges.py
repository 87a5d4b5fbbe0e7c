"""Full-size edges of the classical selector: boundary F (2 px) against the plain upscaled mask.

Run from the repository root (quality only, no timings, so the shared lock is enough)::

    flock -s /tmp/stencil-bench.lock python3 -m bench.select_edges              # leave-half-out over GRID
    flock -s /tmp/stencil-bench.lock python3 -m bench.select_edges --only default --upscales 2

Three sets, each scored at the size the user would work at:

- the 30 shared GrabCut photos at their own size (0.1 to 0.3 MP: the band is decided at 1x to 1.7x);
- ``--upscales`` of them blown up to 12 MP (``select_data.upscaled``: cubic photo, smooth truth);
- as many clutter composites (``select_data.cluttered``) blown up to 12 MP.

The clicks are the standard protocol's (to 90% IoU, at least 5) with the plain selector on the
original photo, replayed one by one on the photo as scored (scaled), so every setting and the
plain upscaled mask are scored on the same working-scale cut: only the edge differs. Per photo:
boundary F within 2 px (and 1 px), and whether the refined mask has the plain mask's topology
(object pieces 8-connected, background pieces 4-connected; it must, always).

Settings: ``GRID`` (``EdgeTuning`` values); ``REFERENCE`` is scored beside them and never chosen
(the first band: mean colours, no topology step). Leave-half-out: each set is split into two halves
(alternate photos); the setting with the best mean gain over plain on one half, averaged over the
three sets, is scored on the other half, and the other way round; the held-out halves pooled are
the headline. Skips with a message when ``../shared/datasets`` is absent.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.select_data import Sample, boundary_f, cluttered, grabcut, middle_truth, upscaled  # noqa: E402
from pipeline.select.classic.edges import EDGES, EdgeTuning, refine_edges  # noqa: E402
from pipeline.select.classic.selector import ClassicSelector  # noqa: E402
from pipeline.select.clicks import iou, next_click  # noqa: E402
from pipeline.types import Point  # noqa: E402

GRID = {  # what the leave-half-out chooses from
    "default": EDGES,  # pooled covariance
    "mean": dataclasses.replace(EDGES, model="mean"),  # the band's first model: nearer local mean colour
    "mean_local2": dataclasses.replace(EDGES, model="mean", local_work_px=2),
    "pooled_local2": dataclasses.replace(EDGES, local_work_px=2),
    "pooled_sep60": dataclasses.replace(EDGES, separation=60.0),
    "pooled_spread12": dataclasses.replace(EDGES, spread=12.0),
}
REFERENCE = {  # scored beside, never chosen: the first band as it was (mean colours, no topology step)
    "mean_free": dataclasses.replace(EDGES, model="mean", keep_topology=False),
}
SETS = ("GrabCut native", "GrabCut 12 MP", "clutter 12 MP")


def protocol_clicks(selector: ClassicSelector, sample: Sample, max_clicks: int = 20) -> tuple[Point, ...]:
    """The standard protocol's clicks (to 90% IoU, at least 5, at most ``max_clicks``) on ``sample``."""
    prepared = selector.prepare(sample.image)
    prediction = np.zeros_like(sample.truth)
    points: list[Point] = []
    previous = None
    for _ in range(max_clicks):
        click = next_click(prediction, sample.truth, sample.ignore)
        if click is None:
            break
        points.append(click)
        previous = selector.select(prepared, tuple(points), None, previous)
        prediction = previous.best.mask >= 0.5
        if len(points) >= 5 and iou(prediction, sample.truth, sample.ignore) >= 0.90:
            break
    return tuple(points)


def topology(mask: np.ndarray) -> tuple[int, int]:
    """(object pieces, 8-connected; background pieces, 4-connected, the frame outside counting as one)."""
    import cv2

    padded = np.pad(mask.astype(np.uint8), 1)
    return (
        cv2.connectedComponents(padded, connectivity=8)[0] - 1,
        cv2.connectedComponents(1 - padded, connectivity=4)[0] - 1,
    )


def score_case(
    sample: Sample, pixels: float | None, grid: dict[str, EdgeTuning]
) -> dict[str, tuple[float, float, bool]]:
    """``{setting: (boundary F 2 px, F 1 px, same topology as plain)}`` for one photo, with ``"plain"``."""
    plain = ClassicSelector(full_size_edges=False)
    points = protocol_clicks(plain, sample)
    big, factor = upscaled(sample, pixels) if pixels else (sample, 1.0)
    truth = big.truth if pixels else middle_truth(sample)
    h, w = truth.shape
    scaled = tuple(Point(min(p.x * factor, w - 1), min(p.y * factor, h - 1), p.positive) for p in points)
    prepared = plain.prepare(big.image)
    selection = None
    for k in range(len(scaled)):  # one by one, as a person clicks: each click refines the last mask
        selection = plain.select(prepared, scaled[: k + 1], None, selection)
    assert selection is not None
    mask = selection.state.masks[0]  # the best candidate's working-scale mask
    base = selection.best.mask >= 0.5
    shape = topology(base)
    out = {"plain": (boundary_f(base, truth), boundary_f(base, truth, 1.0), True)}
    for name, tuning in grid.items():
        refined = refine_edges(prepared.image, prepared.small, mask, prepared.scale, tuning) >= 0.5
        out[name] = (boundary_f(refined, truth), boundary_f(refined, truth, 1.0), topology(refined) == shape)
    return out


def collect(upscales: int, grid: dict[str, EdgeTuning], only_set: str | None) -> dict[str, list[dict]]:
    """Per set, one score dict per photo (see ``score_case``)."""
    samples = grabcut()
    chosen = samples[:: max(1, len(samples) // upscales)][:upscales]
    plan = {
        "GrabCut native": (samples, None),
        "GrabCut 12 MP": (chosen, 12e6),
        "clutter 12 MP": (cluttered()[:upscales], 12e6),
    }
    results: dict[str, list[dict]] = {}
    for name, (cases, pixels) in plan.items():
        if only_set and only_set != name:
            continue
        start = time.perf_counter()
        results[name] = [score_case(sample, pixels, grid) for sample in cases]
        print(f"  ({name}: {len(cases)} photos in {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return results


def gain(rows: list[dict], setting: str) -> float:
    """Mean boundary-F (2 px) gain of ``setting`` over plain on ``rows``."""
    return float(np.mean([r[setting][0] - r["plain"][0] for r in rows])) if rows else 0.0


def leave_half_out(results: dict[str, list[dict]], settings: list[str]) -> dict[str, list[tuple[dict, str]]]:
    """Per set, ``(row, setting chosen on the other half)`` for every photo."""
    halves = {name: (rows[0::2], rows[1::2]) for name, rows in results.items()}
    held: dict[str, list[tuple[dict, str]]] = {name: [] for name in results}
    for tune, test in ((0, 1), (1, 0)):
        chosen = max(settings, key=lambda s: np.mean([gain(h[tune], s) for h in halves.values()]))
        there = np.mean([gain(h[tune], chosen) for h in halves.values()])
        print(f"half {tune}: chose {chosen} (mean gain there {there:+.4f})")
        for name, h in halves.items():
            held[name].extend((row, chosen) for row in h[test])
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upscales", type=int, default=10, help="photos blown up to 12 MP per set (GrabCut, clutter)")
    parser.add_argument("--only", help="comma list of GRID settings (default all)")
    parser.add_argument("--set", choices=SETS, help="score one set only (exploring)")
    args = parser.parse_args()
    if not grabcut():
        print("skipped: no GrabCut set under ../shared/datasets")
        return
    chosen = {name: (GRID | REFERENCE)[name] for name in args.only.split(",")} if args.only else GRID
    grid = chosen | REFERENCE
    results = collect(args.upscales, grid, args.set)
    for name, rows in results.items():
        print(
            f"{name} ({len(rows)} photos): plain F2={np.mean([r['plain'][0] for r in rows]):.4f} "
            f"F1={np.mean([r['plain'][1] for r in rows]):.4f}"
        )
        for setting in grid:
            f2 = [r[setting][0] for r in rows]
            better = sum(r[setting][0] > r["plain"][0] for r in rows)
            kept = sum(r[setting][2] for r in rows)
            print(
                f"  {setting:16s} F2={np.mean(f2):.4f} F1={np.mean([r[setting][1] for r in rows]):.4f} "
                f"better on {better}/{len(rows)} topology kept {kept}/{len(rows)}"
            )
    if len(chosen) > 1:
        held = leave_half_out(results, [name for name in chosen if name not in REFERENCE])
        print("held-out halves pooled (each photo scored with the setting chosen on the other half):")
        for name, pairs in held.items():
            new = [row[s][0] for row, s in pairs]
            old = [row["plain"][0] for row, _ in pairs]
            better = sum(n > o for n, o in zip(new, old, strict=True))
            print(
                f"  {name:16s} plain F2={np.mean(old):.4f} refined F2={np.mean(new):.4f} better on {better}/{len(new)}"
            )


if __name__ == "__main__":
    main()
