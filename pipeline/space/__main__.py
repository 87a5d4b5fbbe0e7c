"""``python -m pipeline.space OUT_DIR [--hardware ...]``: the same as ``stencil space``."""

import sys

from pipeline.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["space", *sys.argv[1:]]))
