"""Start the Stencil editor: ``python app.py [--port 7860] [--sam-checkpoint sam_vit_b.pth] ...``.

Parses the flags into ``Settings``, configures logging, builds the page and launches it on
127.0.0.1 (or ``--host``). Without weights the page uses the classical selector and engine.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.settings import Settings
from ui.launch import QUEUE_SIZE, Credentials, launch_options, parse_credentials, read_credentials, warm_up_soon

log = logging.getLogger("stencil.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Stencil: a mask-first image editor in the browser.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument(
        "--auth-file", type=Path, help="a file of USER:PASS lines (else STENCIL_AUTH_FILE / STENCIL_AUTH)"
    )
    parser.add_argument(
        "--auth", help="USER:PASS on the command line (visible in the process list: prefer --auth-file)"
    )
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    parser.add_argument("--sam-checkpoint", type=Path, help="SAM .pth checkpoint (else STENCIL_SAM_CHECKPOINT)")
    parser.add_argument("--sam-model", choices=["vit_b", "vit_l", "vit_h"], help="SAM model type of the checkpoint")
    parser.add_argument("--inpaint-model", help="diffusers model id, folder or .safetensors (else classical)")
    parser.add_argument("--removal-model", type=Path, help="LaMa TorchScript file for removal (else exemplar fill)")
    parser.add_argument("--controlnet", action="append", metavar="KIND=MODEL",
                        help="a ControlNet for guidance: KIND is seg, canny, mask or image; MODEL an id, folder or "
                             ".safetensors (repeat for several; else STENCIL_CONTROLNET)")  # fmt: skip
    parser.add_argument("--subject-model", type=Path, help="subject model .onnx for Select subject (else classical)")
    parser.add_argument(
        "--sam3-model", help="SAM 3 for Find by name and SAM 3 clicks: a cached hub id or a folder (STENCIL_SAM3_MODEL)"
    )
    parser.add_argument("--matte-model", help="ViTMatte for edge mattes: a cached hub id or a folder (else classical)")
    parser.add_argument("--max-side", type=int, help="refuse photos longer than this many px on a side")
    parser.add_argument("--queue-size", type=int, default=QUEUE_SIZE, help="how many requests may wait in the queue")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the app does")
    return parser.parse_args(argv)


def read_auth(args: argparse.Namespace) -> Credentials | None:
    """The logins: ``--auth-file``, ``STENCIL_AUTH_FILE``, ``STENCIL_AUTH``, or (warned) ``--auth``."""
    if args.auth:
        if Path(args.auth).is_file():  # the old form, --auth FILE
            return read_credentials(Path(args.auth))
        log.warning("warning: --auth puts the password in the process list; use --auth-file or STENCIL_AUTH")
        return parse_credentials(args.auth, "--auth")
    return read_credentials(args.auth_file)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="stencil: %(message)s")
    from ui import build_demo  # gradio is imported here, after the flags are known

    try:
        settings = Settings(device=args.device).with_overrides(
            sam_checkpoint=args.sam_checkpoint,
            sam_model=args.sam_model,
            inpaint_model=args.inpaint_model,
            removal_model=args.removal_model,
            controlnets=tuple(args.controlnet) if args.controlnet else None,
            subject_model=args.subject_model,
            sam3_model=args.sam3_model,
            matte_model=args.matte_model,
            max_side=args.max_side,
        )
        credentials = read_auth(args)
        demo = build_demo(settings, queue_size=args.queue_size)
    except PipelineError as error:
        print(f"stencil: error: {error}", file=sys.stderr)
        return 2
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        prevent_thread_lock=True,
        **launch_options(credentials),
    )
    warm_up_soon(demo)
    if args.share and demo.share_url is None:
        # gradio keeps serving locally when the tunnel fails (no network); say so plainly
        log.warning(
            "warning: --share could not open a public link (no network?); the editor is still served locally at %s",
            demo.local_url,
        )
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
