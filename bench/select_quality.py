"""Click-selection quality of the classical selector on photos it was not tuned on.

Run from the repository root (quality only, no timings, so the shared lock is enough)::

    flock -s /tmp/stencil-bench.lock python3 -m bench.select_quality            # k-fold + clutter + 12 MP edges
    flock -s /tmp/stencil-bench.lock python3 -m bench.select_quality --fit      # weights of extents.SCORES

- **k-fold on the shared GrabCut set** (3 folds of 10): every setting in ``GRID`` runs the standard
  click protocol on all 30 photos (object candidate first); per fold, the setting with the best
  NoC@90 on the other two folds is chosen and the candidate-score weights are fitted there; the
  held-out fold then runs with both. The headline is the 30 held-out curves pooled.
- **Monotonicity**: the share of clicks after which IoU drops by more than 0.02.
- **Calibration**: mean |score - IoU| of every candidate on held-out folds, new scores against
  the old one (the boundary contrast).
- **Clutter**: ``select_data.cluttered`` composites, defaults against the old behaviour.
- **Edges**: boundary F (2 px) on GrabCut and on 12 MP upscales (same clicks, full-size band
  refinement on and off).
Skips with a message when ``../shared/datasets`` is absent.
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
from pipeline.select.classic.extents import SCORES, ScoreModel, describe  # noqa: E402
from pipeline.select.classic.selector import ClassicSelector  # noqa: E402
from pipeline.select.classic.solve import TUNING, Tuning  # noqa: E402
from pipeline.select.clicks import ClickCurve, iou, next_click, summarize  # noqa: E402
from pipeline.types import Point  # noqa: E402

FOLDS = 3
DROP = 0.02
OBJECT_FIRST = ScoreModel((0.9, 0, 0, 0, 0, 0, -0.5, -0.5))  # ranks the object candidate first
OLD_TUNING = dataclasses.replace(TUNING, local_changes=False)
GRID = {
    f"reach{r:g}_margin{m:g}": dataclasses.replace(TUNING, reach_limit=r, colour_margin=m)
    for r in (2.0, 4.0)
    for m in (0.0, 1.0)
} | {"no-local": OLD_TUNING}


@dataclasses.dataclass
class Run:
    """One photo under the protocol: the IoU curve, candidate rows ``(features, iou)`` and the final clicks."""

    curve: ClickCurve
    rows: list[tuple[np.ndarray, float, float]]  # (features, iou, old score) of every candidate of every click
    points: tuple[Point, ...]
    final: np.ndarray


def simulate(selector: ClassicSelector, sample: Sample, max_clicks: int = 20) -> Run:
    """The standard protocol (as ``pipeline.select.clicks.run_protocol``), recording every candidate."""
    prepared = selector.prepare(sample.image)
    features = prepared.features
    prediction = np.zeros_like(sample.truth)
    points: list[Point] = []
    previous = None
    ious, rows = [], []
    for _ in range(max_clicks):
        click = next_click(prediction, sample.truth, sample.ignore)
        if click is None:
            ious.extend([ious[-1] if ious else 1.0] * (5 - len(ious)))
            break
        points.append(click)
        previous = selector.select(prepared, tuple(points), None, previous)
        state = previous.state
        for kind, small, candidate in zip(state.kinds, state.masks, previous.candidates):
            row = describe(small, kind, len(points), features.bins, features.weights)
            rows.append((row, iou(candidate.mask >= 0.5, sample.truth, sample.ignore), row[1]))
        prediction = previous.best.mask >= 0.5
        ious.append(iou(prediction, sample.truth, sample.ignore))
        if ious[-1] >= 0.90 and len(ious) >= 5:
            break
    return Run(ClickCurve(sample.name, tuple(ious)), rows, tuple(points), prediction)


def drops(runs: list[Run]) -> tuple[int, int]:
    """(clicks that lowered IoU by more than ``DROP``, clicks after the first)."""
    steps = [b - a for r in runs for a, b in zip(r.curve.ious, r.curve.ious[1:])]
    return sum(d < -DROP for d in steps), len(steps)


def report(label: str, runs: list[Run]) -> None:
    bad, steps = drops(runs)
    edge = np.mean([boundary_f(r.final, r.truth_mid) for r in runs]) if all(hasattr(r, "truth_mid") for r in runs) else None
    extra = f" boundaryF2={edge:.4f}" if edge is not None else ""
    print(f"{label:28s} {summarize([r.curve for r in runs]).line()} drops>{DROP}={bad}/{steps} ({100 * bad / max(steps, 1):.1f}%){extra}")


def run_all(selector: ClassicSelector, samples: list[Sample], label: str) -> list[Run]:
    start = time.perf_counter()
    runs = []
    for sample in samples:
        run = simulate(selector, sample)
        run.truth_mid = middle_truth(sample)
        runs.append(run)
    print(f"  ({label}: {len(samples)} photos in {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return runs


def calibration(rows: list[tuple[np.ndarray, float, float]], model: ScoreModel | None) -> str:
    """Calibration of ``model`` (None: rows already hold the new score in place of the features)."""
    ious = np.array([r[1] for r in rows])
    new = np.array([r[0] if model is None else model.score(r[0]) for r in rows])
    old = np.array([r[2] for r in rows])
    return (
        f"candidates={len(rows)} MAE|score-IoU| new={np.mean(np.abs(new - ious)):.3f} old={np.mean(np.abs(old - ious)):.3f}"
        f" corr new={np.corrcoef(new, ious)[0, 1]:.3f} old={np.corrcoef(old, ious)[0, 1]:.3f}"
    )


def kfold(samples: list[Sample]) -> None:
    order = np.random.default_rng(0).permutation(len(samples))
    folds = [sorted(order[i::FOLDS].tolist()) for i in range(FOLDS)]
    grid_runs = {name: run_all(ClassicSelector(tuning=t, scores=OBJECT_FIRST), samples, name) for name, t in GRID.items()}
    for name, runs in grid_runs.items():
        report(f"all 30, {name}", runs)
    held: list[Run] = []
    held_rows = []
    for f, test in enumerate(folds):
        train = [i for i in range(len(samples)) if i not in test]
        noc = {n: np.mean([grid_runs[n][i].curve.noc(0.90) for i in train]) for n in GRID}
        chosen = min(noc, key=noc.get)
        model = ScoreModel.fit([r[0] for i in train for r in grid_runs[chosen][i].rows], [r[1] for i in train for r in grid_runs[chosen][i].rows])
        runs = run_all(ClassicSelector(tuning=GRID[chosen], scores=model), [samples[i] for i in test], f"fold {f}")
        report(f"fold {f} held-out ({chosen})", runs)
        held += runs
        held_rows += [(model.score(row[0]), row[1], row[2]) for run in runs for row in run.rows]
        print(f"  fold {f} calibration: {calibration([row for run in runs for row in run.rows], model)}")
    report("HELD-OUT, 3 folds pooled", held)
    print(f"held-out calibration: {calibration(held_rows, None)}")


def fit(samples: list[Sample]) -> None:
    runs = run_all(ClassicSelector(scores=OBJECT_FIRST), samples, "fit")
    model = ScoreModel.fit([r[0] for run in runs for r in run.rows], [r[1] for run in runs for r in run.rows])
    print("SCORES = ScoreModel((" + ", ".join(f"{w:.4f}" for w in model.weights) + "))")
    print(f"in-sample calibration: {calibration([r for run in runs for r in run.rows], model)}")


def old_selector() -> ClassicSelector:
    """Today's behaviour on main before this work: no local rule, one candidate, bilinear edges."""
    return ClassicSelector(tuning=OLD_TUNING, scores=OBJECT_FIRST, full_size_edges=False, extents=False)


def clutter() -> None:
    samples = cluttered()
    if not samples:
        print("clutter: no photos; skipped")
        return
    report("clutter, old", run_all(old_selector(), samples, "clutter old"))
    report("clutter, new", run_all(ClassicSelector(), samples, "clutter new"))


def edges_12mp(samples: list[Sample], count: int) -> None:
    """Boundary F at 12 MP: the new selector's clicks on the original, replayed on an upscale, edges on/off."""
    new, old_edges = ClassicSelector(), ClassicSelector(full_size_edges=False)
    scores = {"old": [], "new": []}
    for sample in samples[:count]:
        run = simulate(new, sample, max_clicks=5)
        big, factor = upscaled(sample)
        points = tuple(Point(min(p.x * factor, big.image.shape[1] - 1), min(p.y * factor, big.image.shape[0] - 1), p.positive) for p in run.points)
        prepared = new.prepare(big.image)
        for label, selector in (("new", new), ("old", old_edges)):
            mask = selector.select(prepared, points).best.mask >= 0.5
            scores[label].append(boundary_f(mask, big.truth))
        print(f"  {big.name}: boundary F2 old {scores['old'][-1]:.4f} new {scores['new'][-1]:.4f}", file=sys.stderr, flush=True)
    print(f"12 MP upscales (n={len(scores['new'])}): boundaryF2 old edges={np.mean(scores['old']):.4f} full-size edges={np.mean(scores['new']):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="fit the candidate-score weights on all 30 photos")
    parser.add_argument("--parts", default="kfold,clutter,edges", help="comma list of kfold, clutter, edges, old")
    parser.add_argument("--upscales", type=int, default=6, help="GrabCut photos blown up to 12 MP for the edge check")
    args = parser.parse_args()
    samples = grabcut()
    if not samples:
        print(f"skipped: no GrabCut set under {Path(__file__).resolve().parents[2] / 'shared' / 'datasets'}")
        return
    if args.fit:
        fit(samples)
        return
    parts = args.parts.split(",")
    if "old" in parts:
        report("all 30, old behaviour", run_all(old_selector(), samples, "old"))
    if "kfold" in parts:
        kfold(samples)
    if "clutter" in parts:
        clutter()
    if "edges" in parts:
        edges_12mp(samples, args.upscales)


if __name__ == "__main__":
    main()
