"""Running the ``stencil`` command in process, and the one-line error every CLI failure must be."""

from __future__ import annotations

import pytest

from pipeline.cli import main


def stencil(*args: object) -> int:
    """``stencil ARGS...`` in this process; returns the exit status."""
    return main([str(a) for a in args])


def one_line_error(capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """The captured stderr is exactly one ``stencil: error: ...`` line holding every fragment; returns it."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stencil: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
