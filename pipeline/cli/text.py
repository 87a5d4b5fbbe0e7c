"""Find by name in ``stencil mask --text`` and ``stencil apply``: SAM 3's options and its loading."""

from __future__ import annotations

import argparse
import logging

from pipeline.cli.jobs import number, tell
from pipeline.recipe import TextPrompt
from pipeline.select.text.sam3 import MAX_INSTANCES, check_text
from pipeline.settings import Settings
from pipeline.types import Image, Mask

log = logging.getLogger(__name__)


def _instances(text: str) -> tuple[int, ...]:
    """``0`` or ``0,2``: indices of the instances found, best score first."""
    try:
        picked = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of instance numbers like 0 or 0,2") from None
    if not picked or any(not 0 <= i < MAX_INSTANCES for i in picked) or len(set(picked)) != len(picked):
        raise argparse.ArgumentTypeError(f"use distinct instance numbers from 0 to {MAX_INSTANCES - 1}, like 0 or 0,2")
    return picked


def add_text_options(parser: argparse.ArgumentParser) -> None:
    """``--instances``, ``--text-threshold`` and ``--sam3-model`` (``--text`` itself is a mask source)."""
    parser.add_argument(
        "--instances", type=_instances, default=None, metavar="I[,J]",
        help="with --text: which instances, best score first (0 = best; default: all of them, united)",
    )  # fmt: skip
    parser.add_argument(
        "--text-threshold", type=number(0.0, 0.99), default=0.5, metavar="S",
        help="with --text: the lowest SAM 3 score that counts as a match (default 0.5)",
    )  # fmt: skip
    parser.add_argument(
        "--sam3-model", default=None, metavar="ID|DIR",
        help="SAM 3 for --text: a cached Hugging Face id or a local folder (or STENCIL_SAM3_MODEL)",
    )  # fmt: skip


def text_step(args: argparse.Namespace) -> TextPrompt:
    """The ``TextPrompt`` the flags ask for; bad text is an ``InvalidInput`` (one line, exit 2)."""
    return TextPrompt(text=check_text(args.text), instances=args.instances, threshold=args.text_threshold)


def text_settings(args: argparse.Namespace, settings: Settings | None = None) -> Settings:
    """``settings`` (default: from the environment) with ``--sam3-model`` applied."""
    return (settings or Settings()).with_overrides(sam3_model=getattr(args, "sam3_model", None))


class TextOnce:
    """SAM 3 as ``args`` configure it, loaded on first use and then shared by every photo."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._finder = None

    def mask(self, image: Image, step: TextPrompt) -> Mask:
        from pipeline.recipe.mask_sources import text_mask

        if self._finder is None:
            from pipeline.models import make_text_finder

            chosen = make_text_finder("auto", text_settings(self._args))
            log.info("text finder: %s", chosen.reason)
            tell(f"stencil: {chosen.reason}")
            self._finder = chosen.backend
        return text_mask(self._finder, image, step)
