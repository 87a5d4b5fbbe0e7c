"""``stencil space``: write a folder that deploys as it is to a Hugging Face Space."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli.jobs import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    from pipeline.space import PRESETS, ROLES

    parser = subparsers.add_parser(
        "space",
        help="write a ready-to-push Hugging Face Space folder",
        description=(
            "Write a Space folder (README front matter, pinned requirements, app.py and Stencil's code). "
            "Deploy it with 'git push' to the Space's repository or 'huggingface-cli upload'. "
            + " ".join(f"{name}: {p.description}." for name, p in PRESETS.items())
        ),
    )
    parser.add_argument("out_dir", type=Path, help="a new (or empty) folder to write the Space to")
    parser.add_argument("--hardware", default="cpu-basic", help=f"one of {', '.join(PRESETS)} (default cpu-basic)")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="ROLE=ID",
        help=f"replace a preloaded model (roles: {', '.join(ROLES)}), e.g. inpaint=owner/repo, sam=owner/repo:a.pth",
    )
    parser.set_defaults(run=run_space)


def run_space(args: argparse.Namespace) -> int:
    from pipeline.space import write_space

    models: dict[str, str] = {}
    for text in args.model:
        role, equals, model = text.partition("=")
        if not equals or not role or not model:
            raise UsageError(f"--model {text!r}: write ROLE=ID, e.g. inpaint=owner/repo")
        models[role] = model
    out = write_space(args.out_dir, args.hardware, models)
    print(f"{out}: a {args.hardware} Space; deploy with 'huggingface-cli upload USER/SPACE {out} --repo-type space'")
    return 0
