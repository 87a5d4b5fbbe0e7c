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

ROOT = Path(__file__).resolve().parents[1]
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
