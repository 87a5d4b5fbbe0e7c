"""Fuzz the image gate: mutated PNG, JPEG, WebP, TIFF, GIF and BMP files through ``load_image``.

Every file must either load or raise a ``PipelineError`` subclass (a clear message), never any
other exception, and none may take longer than ``--hang-s`` (5 s). The process caps its own
address space at ``--memory-gb`` (2 GB) first, so a file that makes the loader allocate without
bound shows up as a ``MemoryError``, which counts as a failure.

Mutations (seeded, so a run repeats exactly): flipped bytes, random byte runs, a cut-off tail,
a run of bytes deleted or duplicated, and integers written over header fields (sizes, chunk
lengths: the "lying header" cases).

    flock -x /tmp/stencil-bench.lock python -m bench.fuzz_images --files 10000
The tests run a short version (``tests/pipeline/io/test_fuzz.py``).
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.errors import PipelineError  # noqa: E402
from pipeline.io.images import load_image  # noqa: E402

FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "GIF", "BMP")


def seeds() -> dict[str, bytes]:
    """One small valid file per format (a gradient with a disc, so every codec has real content)."""
    yy, xx = np.mgrid[0:48, 0:64]
    rgb = np.stack([xx * 4, yy * 5, ((xx - 32) ** 2 + (yy - 24) ** 2 < 200) * 255], axis=-1).astype(np.uint8)
    picture = PILImage.fromarray(rgb)
    out = {}
    for name in FORMATS:
        buffer = io.BytesIO()
        if name == "GIF":
            frames = [picture, picture.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT)]
            frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
        elif name == "TIFF":
            picture.save(buffer, "TIFF", compression="tiff_deflate")
        else:
            picture.save(buffer, name)
        out[name] = buffer.getvalue()
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6)
        at = rng.randrange(max(1, len(out)))
        if kind == 0:  # flip a few bytes
            for _ in range(rng.randint(1, 8)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif kind == 1:  # a run of random bytes
            run = rng.randint(1, 64)
            out[at : at + run] = bytes(rng.randrange(256) for _ in range(run))
        elif kind == 2:  # cut the tail
            del out[max(1, at) :]
        elif kind == 3:  # delete a run
            del out[at : at + rng.randint(1, 256)]
        elif kind == 4:  # duplicate a run
            out[at:at] = out[at : at + rng.randint(1, 256)]
        else:  # a big or odd integer over a header field (a size, a chunk length)
            value = rng.choice([0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(2**32)])
            width = rng.choice([2, 4])
            spot = rng.randrange(min(len(out), 64)) if out else 0
            out[spot : spot + width] = value.to_bytes(4, rng.choice(["big", "little"]))[:width]
    return bytes(out)


@dataclass
class Tally:
    loaded: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    slowest_s: float = 0.0

    @property
    def total(self) -> int:
        return self.loaded + sum(self.refused.values()) + len(self.failures)


class Hang(BaseException):
    """Raised by the alarm: a file took longer than the allowed time."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def run(files: int, seed: int, hang_s: float, folder: Path, *, keep: Path | None = None) -> Tally:
    """Load ``files`` mutated files (round-robin over the formats); see the module docstring."""
    rng = random.Random(seed)
    originals = seeds()
    tally = Tally()
    signal.signal(signal.SIGALRM, _alarm)
    for index in range(files):
        name = FORMATS[index % len(FORMATS)]
        data = mutate(originals[name], rng)
        path = folder / f"fuzz-{index}.{name.lower()}"
        path.write_bytes(data)
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, hang_s)
        try:
            load_image(path)
            tally.loaded += 1
        except PipelineError as error:
            tally.refused[type(error).__name__] += 1
        except Hang:
            tally.failures.append(f"{path.name}: no answer within {hang_s:g} s")
        except BaseException as error:  # noqa: BLE001 - any other exception is what the fuzz looks for
            tally.failures.append(f"{path.name}: {type(error).__name__}: {error}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        tally.slowest_s = max(tally.slowest_s, time.perf_counter() - started)
        if keep is not None and tally.failures and tally.failures[-1].startswith(path.name):
            (keep / path.name).write_bytes(data)
        path.unlink()
    return tally


def cap_memory(gigabytes: float) -> None:
    """Cap this process's address space (``RLIMIT_AS``) so that unbounded allocation fails."""
    limit = int(gigabytes * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang-s", type=float, default=5.0)
    parser.add_argument("--memory-gb", type=float, default=2.0)
    parser.add_argument("--keep", type=Path, help="copy every failing file into this folder")
    args = parser.parse_args(argv)
    cap_memory(args.memory_gb)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stencil-fuzz-") as folder:
        tally = run(args.files, args.seed, args.hang_s, Path(folder), keep=args.keep)
    seconds = time.perf_counter() - started
    print(f"{tally.total} mutated files ({', '.join(FORMATS)}), seed {args.seed}, memory cap {args.memory_gb:g} GB")
    print(f"loaded: {tally.loaded}; refused with a PipelineError: {sum(tally.refused.values())}")
    for kind, count in tally.refused.most_common():
        print(f"  {kind}: {count}")
    failures = len(tally.failures)
    print(f"other exceptions or hangs: {failures}; slowest file {tally.slowest_s:.2f} s; {seconds:.0f} s in all")
    for failure in tally.failures[:20]:
        print(f"  {failure}")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
