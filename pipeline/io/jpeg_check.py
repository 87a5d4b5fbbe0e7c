"""Damaged JPEG data, found before it is edited: libjpeg's own warnings, which Pillow keeps silent.

Bytes garbled inside a JPEG's compressed data decode without an error: Pillow returns a picture
with smeared blocks, and only libjpeg's warnings ("Corrupt JPEG data: 132 extraneous bytes
before marker 0xd9", "Premature end of JPEG file") say so. Pillow discards them; OpenCV's
decoder lets libjpeg print them on the process's standard error. ``damage(data)`` decodes the
file once more through OpenCV at 1/8 scale (libjpeg still reads every coefficient, at a fraction
of the cost: about 80 ms for 12 MP of noise on one core) with standard error sent to a temporary
file, and returns the first warning. Anything else written to standard error meanwhile (another
thread's log line) is passed on afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading

import cv2
import numpy as np

DAMAGE_PREFIXES = ("Corrupt JPEG data", "Premature end of JPEG file", "Invalid JPEG file structure")
_stderr_lock = threading.Lock()  # one redirection at a time: fd 2 belongs to the whole process


def damage(data: bytes) -> str | None:
    """libjpeg's first warning about ``data`` (a JPEG file's bytes), or None when it decodes cleanly."""
    with _stderr_lock, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        lines = sink.read().decode("utf-8", "replace").splitlines()
    found = [line for line in lines if line.startswith(DAMAGE_PREFIXES)]
    others = [line for line in lines if line not in found]
    if others:
        os.write(2, ("\n".join(others) + "\n").encode())
    return found[0] if found else None
