"""``stencil download``: fetch official weights (SAM, subject models) into the models folder, checksum verified."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.io.download import Artifact, ByteProgressFn, artifact_matches, download
from pipeline.settings import Settings


def downloadable() -> dict[str, Artifact]:
    """Name on the command line -> what it downloads."""
    from pipeline.inpaint.lama import BIG_LAMA
    from pipeline.select.sam.segmenter import CHECKPOINTS
    from pipeline.select.subject.learned import KNOWN_MODELS

    subject_models = [artifact for artifact, _ in KNOWN_MODELS.values()]
    return {artifact.name: artifact for artifact in (*CHECKPOINTS.values(), *subject_models, BIG_LAMA)}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download",
        help="download official model weights (checksum verified)",
        description=(
            "Download official model weights into the models folder (STENCIL_MODELS_DIR, default "
            "~/.cache/stencil/models). The file is moved into place only after its SHA-256 matches."
        ),
    )
    parser.add_argument("name", choices=sorted(downloadable()), help="what to download")
    parser.add_argument("--models-dir", type=Path, default=None, help="folder to put the file in")
    parser.add_argument("--force", action="store_true", help="download again even if a good copy is there")
    parser.set_defaults(run=run_download)


def run_download(args: argparse.Namespace) -> int:
    artifact = downloadable()[args.name]
    folder = args.models_dir if args.models_dir is not None else Settings().models_dir
    dest = folder / artifact.filename
    if dest.is_file() and not args.force:
        if artifact_matches(dest, artifact):
            print(f"{dest} is already there and its checksum matches")
            return 0
        print(f"{dest} is there but its checksum differs; downloading it again", file=sys.stderr)
    download(artifact.url, dest, sha256=artifact.sha256, md5=artifact.md5, progress=_progress_bar(artifact.name))
    print(dest)
    return 0


def _progress_bar(label: str) -> ByteProgressFn:
    """A tqdm bar on stderr, sized from the first ``(done, total)`` report."""
    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int | None) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr))
        bar[0].update(done - bar[0].n)
        if total is not None and done >= total:
            bar[0].close()

    return update
