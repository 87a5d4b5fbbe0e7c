"""What every ``stencil`` subcommand shares: pairing inputs with outputs, running them with a
progress bar, argument types, and the usage error of the one-line error contract."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pipeline.errors import PipelineError
from pipeline.io.files import IMAGE_SUFFIXES, companion  # noqa: F401 - shared by the subcommands

log = logging.getLogger("stencil")

EXIT_ERROR = 2
T = TypeVar("T")


class UsageError(PipelineError):
    """The command line itself is wrong (a missing option, a bad value)."""


@dataclass(frozen=True)
class Job:
    """One input file and the file its result goes to."""

    source: Path
    target: Path


def plan_jobs(source: Path, output: Path, suffix: str = ".png") -> list[Job]:
    """Pair inputs with outputs: a file gives one job, a folder one job per image in it.

    With a folder as ``source``, ``output`` is a folder (created) and each result is
    named after its input's stem with ``suffix``.
    """
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise UsageError(f"folder {source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        if output.exists() and not output.is_dir():
            raise UsageError(f"{source} is a folder, so -o must be a folder too, but {output} is a file")
        output.mkdir(parents=True, exist_ok=True)
        return [Job(p, output / (p.stem + suffix)) for p in files]
    if not source.exists():
        raise UsageError(f"{source} does not exist")
    if output.is_dir():
        return [Job(source, output / (source.stem + suffix))]
    output.parent.mkdir(parents=True, exist_ok=True)
    return [Job(source, output)]


_notices: list[str] = []


def tell(line: str) -> None:
    """Say ``line`` on stderr when the command has finished without an error (which backend ran and
    why): an error stays the one line of the CLI's contract. ``-v`` logs the same at once."""
    _notices.append(line)


def take_notices() -> list[str]:
    """The lines ``tell`` collected, emptied."""
    lines = _notices[:]
    _notices.clear()
    return lines


def run_jobs(jobs: Sequence[Job], work: Callable[[Job], None], *, label: str) -> int:
    """Run ``work`` on every job, with a progress bar when there is more than one.

    In a folder run a failing image is reported on stderr and the rest go on; the exit
    status is non-zero when any image failed.
    """
    from tqdm import tqdm

    failed = 0
    for job in tqdm(jobs, desc=label, unit="image", disable=len(jobs) < 2, file=sys.stderr):
        try:
            work(job)
        except PipelineError as error:
            if len(jobs) == 1:
                raise
            failed += 1
            tqdm.write(f"stencil {label}: {job.source.name}: {error}", file=sys.stderr)
    if failed:
        print(f"stencil {label}: {failed} of {len(jobs)} images failed", file=sys.stderr)
        return EXIT_ERROR
    return 0


def argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` that turns the parser's ``InvalidInput`` into a usage error."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except PipelineError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def number(low: float | None = None, high: float | None = None, *, unit: str = "") -> Callable[[str], float]:
    """An argparse ``type=`` for a number in ``[low, high]`` (either bound may be open)."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number{' of ' + unit if unit else ''}") from None
        if (low is not None and not value >= low) or (high is not None and not value <= high):
            bounds = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
            raise argparse.ArgumentTypeError(f"{text}{' ' + unit if unit else ''} is outside {bounds}")
        return value

    return convert


def whole(low: int, high: int, *, unit: str = "px") -> Callable[[str], int]:
    """An argparse ``type=`` for a whole number in ``[low, high]``."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of {unit}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} {unit} is outside {low}..{high}")
        return value

    return convert


def ignore_level(text: str) -> int | None:
    """An argparse ``type=`` for a ground-truth level to ignore: 0..255, or ``none``."""
    if text.lower() == "none":
        return None
    if not text.isdigit() or int(text) > 255:
        raise argparse.ArgumentTypeError(f"'{text}' is not an 8-bit level; use 0..255 or 'none'")
    return int(text)
