"""The engine stays importable without the UI and without a model stack.

``import pipeline`` (and every ``pipeline`` module, subpackages included) must not import gradio, nor torch and
the libraries built on it: those load inside the functions that need them. Checked in a fresh
interpreter, since this test process may have imported them already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("gradio", "torch", "torchvision", "diffusers", "transformers", "segment_anything")

_PROBE = """
import importlib, json, pkgutil, sys
forbidden = {forbidden!r}
def loaded():
    return sorted(name for name in forbidden if name in sys.modules)
import pipeline
report = {{"package": loaded(), "modules": {{}}, "errors": {{}}}}
for info in sorted(pkgutil.walk_packages(pipeline.__path__, "pipeline."), key=lambda i: i.name):
    name = info.name
    if name.endswith(".__main__"):
        continue
    before = set(loaded())
    try:
        importlib.import_module(name)
    except Exception as error:  # a module that does not import is a failure of its own
        report["errors"][name] = f"{{type(error).__name__}}: {{error}}"
    report["modules"][name] = sorted(set(loaded()) - before)
print(json.dumps(report))
"""


def _probe() -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE.format(forbidden=FORBIDDEN)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_importing_pipeline_imports_neither_gradio_nor_torch() -> None:
    report = _probe()
    assert report["package"] == [], f"import pipeline pulled in {report['package']}"
    assert "pipeline.io.images" in report["modules"] and "pipeline.cli" in report["modules"]
    assert report["errors"] == {}, f"submodules that do not import: {report['errors']}"
    offenders = {name: pulled for name, pulled in report["modules"].items() if pulled}
    assert offenders == {}, f"these modules import heavy or UI libraries at import time: {offenders}"


RANKS = {
    "pipeline.errors": 0,
    "pipeline.types": 1,
    "pipeline.colors": 1,
    "pipeline.settings": 1,
    "pipeline.limits": 1,
    "pipeline.io": 2,
    "pipeline.masks": 2,
    "pipeline.select": 3,
    "pipeline.inpaint": 3,
    "pipeline.edits": 4,
    "pipeline.track": 4,
    "pipeline.models": 5,
    "pipeline.recipe": 6,
    "pipeline.space": 6,
    "pipeline.cli": 7,
}
"""The layers, bottom up: a module may import its own layer's package or lower layers, never higher."""


def _layer(module: str) -> str:
    by_length = sorted(RANKS, key=len, reverse=True)
    return next(name for name in by_length if module == name or module.startswith(name + "."))


def _imports(path: Path) -> set[str]:
    """Every ``pipeline`` module ``path`` imports, at module level or inside functions."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("pipeline"))
    return {name for name in found if any(name == r or name.startswith(r + ".") for r in RANKS)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_imports_run_one_way_down_the_layers() -> None:
    upward = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        name = _module_name(path)
        if name == "pipeline":
            continue
        mine = _layer(name)
        for target in _imports(path):
            theirs = _layer(target)
            if RANKS[theirs] > RANKS[mine] or (RANKS[theirs] == RANKS[mine] and theirs != mine):
                upward.append(f"{name} -> {target}")
    assert upward == [], "imports that go up or sideways across the layers:\n" + "\n".join(upward)


def test_no_import_cycles_between_modules() -> None:
    """No two modules of ``pipeline`` or ``ui`` import each other, directly or round a loop (module level)."""
    import ast

    graph: dict[str, set[str]] = {}
    for package in ("pipeline", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            targets = set()
            for node in tree.body:  # module level only: imports inside functions are deliberate and lazy
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("pipeline", "ui"):
                    targets.update(f"{node.module}.{alias.name}" for alias in node.names)
            graph[_module_name(path)] = targets
    known = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges = {m: {t for t in (resolve(x) for x in targets) if t and t != m} for m, targets in graph.items()}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)
