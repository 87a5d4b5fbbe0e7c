"""The ``stencil`` command: every pipeline operation on files and folders.

Each group of subcommands lives in its own module of ``pipeline.cli`` (``masks``, ``select``,
``matte``, ``edit``, ``models``, ``apply``) and registers itself through ``register(subparsers)``; what they
share lives in ``pipeline.cli.jobs``. This module parses, configures logging and keeps the error
contract: one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from pipeline.cli.jobs import EXIT_ERROR, UsageError, take_notices
from pipeline.errors import PipelineError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors keep to the one-line contract."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    from pipeline.cli import apply as cli_apply
    from pipeline.cli import edit as cli_edit
    from pipeline.cli import masks as cli_masks
    from pipeline.cli import matte as cli_matte
    from pipeline.cli import models as cli_models
    from pipeline.cli import select as cli_select
    from pipeline.cli import space as cli_space
    from pipeline.cli import track as cli_track

    parser = _Parser(prog="stencil", description="Mask-first image editing from the command line.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each step does")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (cli_masks, cli_matte, cli_select, cli_edit, cli_apply, cli_track, cli_models, cli_space):
        module.register(commands)
    return parser


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that every cleanup (``finally``) still runs."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stencil`` console script; returns the exit status.

    Every failure is one line on stderr: pipeline errors and I/O errors (exit 2), Ctrl-C (130)
    and SIGTERM (143); files being written are removed, so no ``.part`` file is left behind.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="stencil: %(message)s",
            stream=sys.stderr,
        )
        status = int(args.run(args) or 0)
        for line in take_notices():
            print(line, file=sys.stderr)
        return status
    except PipelineError as error:
        take_notices()  # an error is the one line
        print(f"stencil: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:  # an I/O error outside the pipeline's own checks (a folder that cannot be made)
        where = f": {error.filename}" if error.filename else ""
        print(f"stencil: error: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("stencil: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("stencil: terminated", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
