"""The subject options of ``stencil mask --subject`` and ``stencil apply``: which finder, which model."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.cli.jobs import tell
from pipeline.settings import Settings
from pipeline.types import Image, Mask

log = logging.getLogger(__name__)


def add_subject_options(parser: argparse.ArgumentParser) -> None:
    """``--subject-engine``, ``--subject-model`` and ``--subject-arch``."""
    parser.add_argument(
        "--subject-engine", choices=("auto", "rembg", "classic"), default="auto",
        help="auto: the subject model when one is set or downloaded, else the classical extractor",
    )  # fmt: skip
    parser.add_argument(
        "--subject-model", type=Path, default=None, metavar="PATH",
        help="a BiRefNet, BRIA RMBG, ISNet or U2-Net .onnx file (or STENCIL_SUBJECT_MODEL); run through rembg",
    )  # fmt: skip
    parser.add_argument(
        "--subject-arch", choices=("auto", "u2net", "isnet", "birefnet", "bria"), default=None,
        help="the subject model's architecture (default auto: from its file name and input size)",
    )  # fmt: skip


def subject_settings(args: argparse.Namespace, settings: Settings | None = None) -> Settings:
    """``settings`` (default: from the environment) with the subject flags applied."""
    return (settings or Settings()).with_overrides(subject_model=args.subject_model, subject_arch=args.subject_arch)


class SubjectOnce:
    """The subject finder ``args`` ask for, chosen on first use and then shared by every photo."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._finder = None

    def find(self, image: Image) -> Mask:
        if self._finder is None:
            from pipeline.models import make_subject

            chosen = make_subject(self._args.subject_engine, subject_settings(self._args))
            log.info("subject finder: %s", chosen.reason)
            tell(f"stencil: {chosen.reason}")
            self._finder = chosen.backend
        return self._finder.find(image)
