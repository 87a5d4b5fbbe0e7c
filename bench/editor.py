"""Benchmark of the editor's server side: a click, a feather move and a Run, this code beside another checkout.

    flock -x /tmp/stencil-bench.lock python3 -m bench.editor --baseline /tmp/before   # a checkout of the landed main
    python3 -m bench.editor --example mug_paper --rounds 3

Each round starts one worker process per checkout (this code and ``--baseline``, alternating which
goes first), and each worker, with the classical selector and engine, loads the example photo
(``sneaker_wood``: 4000x3000, 12 MP) into a session, then times in-process:

- **click**: one click on the product, from the page's handler down to every preview it shows
  (the selection, the click view, the candidates, the refine preview and its text); median of
  the example's suggested clicks, each added to the last;
- **feather**: one feather-slider move and the refine preview it shows (median of 10 radii);
- **run**: a white-background replacement and its downloads (median of 3).

Printed: the median of the rounds for each figure and each checkout, and their ratio. The
baseline may be the code before the notebook-as-data rewrite (``ui.actions`` / ``ui.edits``) or
this one; the worker speaks both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(example_name: str) -> dict[str, float]:
    """Run in the checkout under test (its root first on ``sys.path``); returns seconds by figure."""
    from examples.catalog import get_example
    from pipeline.io.images import load_image
    from pipeline.settings import Settings
    from ui.services import make_services

    example = get_example(example_name)
    image = load_image(example.file).rgb
    services = make_services(Settings())
    recipes = (Path(sys.path[0]) / "ui" / "notebook.py").exists()  # the checkout's root is first on sys.path
    ops = _new_api(services) if recipes else _old_api(services)
    session = ops["load"](image, example.file.name)
    clicks = []
    for x, y, positive in example.mask_source.points:
        started = time.perf_counter()
        session = ops["click"](session, x, y, "positive" if positive else "negative")
        clicks.append(time.perf_counter() - started)
    feathers = []
    for radius in (2, 4, 6, 8, 10, 12, 14, 16, 18, 20):
        started = time.perf_counter()
        session = ops["feather"](session, radius)
        feathers.append(time.perf_counter() - started)
    session = ops["feather"](session, 0)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        ops["run"](session)
        runs.append(time.perf_counter() - started)
    return {"click": statistics.median(clicks), "feather": statistics.median(feathers), "run": statistics.median(runs)}


def _new_api(services):  # noqa: ANN001, ANN202 - the recipe-based ui (ui.notebook, ui.cells)
    from pipeline.edits.background import SolidColor
    from pipeline.recipe import Output, Refine, ReplaceBackground
    from ui import cells, notebook, views
    from ui.state import Session

    edit = ReplaceBackground(fill=SolidColor((255, 255, 255)))
    return {
        "load": lambda image, name: _wait(notebook.load(services, image, name, Session())),
        **_previews(services, notebook.click, Refine, views),
        "run": lambda session: cells.run_edit(services, session, edit, Output()),
    }


def _old_api(services):  # noqa: ANN001, ANN202 - the ui before recipes (ui.actions, ui.edits)
    from ui import actions, downloads, edits, views
    from ui.state import Refine, Session

    def run(session):  # noqa: ANN001, ANN202
        options = edits.EditOptions(operation="background", background=edits.BackgroundChoice(kind="color"))
        new = edits.run(services, session, options)
        downloads.write_downloads(new.history[-1])

    return {
        "load": lambda image, name: _wait(actions.load(services, image, name, Session())),
        **_previews(services, actions.click, Refine, views),
        "run": run,
    }


def _previews(services, click_fn, refine_type, views):  # noqa: ANN001, ANN202 - the same two steps in both uis
    def click(session, x, y, kind):  # noqa: ANN001, ANN202
        new = click_fn(services, session, x, y, kind, "replace")
        views.mask_views(new)
        return new

    def feather(session, radius):  # noqa: ANN001, ANN202
        new = session.with_refine(refine_type(feather_px=float(radius)))
        views.refine_view(new)
        return new

    return {"click": click, "feather": feather}


def _wait(session):  # noqa: ANN001, ANN202
    """The session once its background embedding is done (the page's first click waits for it too)."""
    prepared = session.photo.prepared if hasattr(session, "photo") else session.prepared
    if prepared is not None:
        prepared.result()
    return session


def measure(repo: Path, example: str) -> dict[str, float]:
    """Run ``worker`` in a fresh process rooted at ``repo``."""
    code = (
        "import importlib.util, json, sys; sys.path.insert(0, sys.argv[1]);"
        "spec = importlib.util.spec_from_file_location('stencil_bench_editor', sys.argv[3]);"
        "bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench);"
        "print(json.dumps(bench.worker(sys.argv[2])))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("STENCIL_SAM_CHECKPOINT", "STENCIL_INPAINT_MODEL")}
    env["STENCIL_MODELS_DIR"] = "/nonexistent-stencil-models"
    done = subprocess.run(
        [sys.executable, "-c", code, str(repo), example, str(Path(__file__).resolve())],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker in {repo} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--example", default="sneaker_wood", help="example photo with suggested clicks")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    checkouts = {"this code": ROOT}
    if args.baseline is not None:
        checkouts = {"baseline": args.baseline.resolve(), **checkouts}
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for round_index in range(args.rounds):
        order = list(checkouts) if round_index % 2 == 0 else list(reversed(checkouts))
        for name in order:
            figures[name].append(measure(checkouts[name], args.example))
            print(f"round {round_index + 1}: {name}: {figures[name][-1]}", flush=True)
    print(f"\n{args.example}, classical backends, median of {args.rounds} rounds (seconds)")
    print(f"{'':10}" + "".join(f"{name:>14}" for name in checkouts) + ("   ratio" if len(checkouts) == 2 else ""))
    for figure in ("click", "feather", "run"):
        values = [statistics.median(r[figure] for r in figures[name]) for name in checkouts]
        ratio = f"   {values[1] / values[0]:.2f}x" if len(values) == 2 else ""
        print(f"{figure:10}" + "".join(f"{v:14.3f}" for v in values) + ratio)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
