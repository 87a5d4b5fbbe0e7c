"""Fetch a published file (model weights) and keep it only when its checksum matches.

The bytes go to a temporary file in the destination folder; the file is moved into place with
``os.replace`` only after the whole transfer arrived and its SHA-256 matched. Whatever goes wrong
(network, short transfer, checksum), no partial file is left at the destination.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InvalidInput, ModelUnavailable

log = logging.getLogger(__name__)

ByteProgressFn = Callable[[int, "int | None"], None]
"""``(bytes_done, bytes_total)``; ``bytes_total`` is ``None`` when the server did not say."""

CHUNK_BYTES = 1 << 20
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class Artifact:
    """A downloadable file: where it is published and how to recognise it.

    ``sha256`` is the full 64-digit hex digest when it is published; a shorter value is treated
    as a prefix of the digest (at least 8 digits), for files whose publisher gives only that.
    ``md5`` (32 hex digits) is for files whose publisher gives only an MD5; set one of the two.
    """

    name: str
    url: str
    filename: str
    sha256: str = ""
    size_bytes: int | None = None
    md5: str = ""

    def __post_init__(self) -> None:
        digest = self.sha256.lower()
        if not (self.sha256 or self.md5):
            raise InvalidInput(f"{self.name} needs a published checksum (sha256 or md5)")
        if self.sha256 and (not _HEX.fullmatch(digest) or not 8 <= len(digest) <= 64):
            raise InvalidInput(f"checksum {self.sha256!r} of {self.name} is not 8 to 64 hex digits")
        if self.md5 and (not _HEX.fullmatch(self.md5.lower()) or len(self.md5) != 32):
            raise InvalidInput(f"MD5 {self.md5!r} of {self.name} is not 32 hex digits")
        if Path(self.filename).name != self.filename:
            raise InvalidInput(f"file name {self.filename!r} of {self.name} must not contain a folder")


def checksum_matches(digest: str, expected: str) -> bool:
    """True when the hex ``digest`` equals ``expected``, or starts with it when ``expected`` is a prefix."""
    return digest.lower().startswith(expected.lower())


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    return _digest_of(path, "sha256")


def _digest_of(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_matches(path: Path, artifact: Artifact) -> bool:
    """True when the file at ``path`` has ``artifact``'s published checksum (SHA-256, else MD5)."""
    if artifact.sha256:
        return checksum_matches(sha256_of(path), artifact.sha256)
    return _digest_of(path, "md5") == artifact.md5.lower()


def download(
    url: str,
    dest: Path,
    *,
    sha256: str = "",
    md5: str = "",
    progress: ByteProgressFn | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` (folders created), verifying the SHA-256 (full or prefix).

    Pass ``md5`` instead of ``sha256`` for a file whose publisher gives only an MD5.

    ``progress`` is called after every chunk with the bytes received so far and the
    ``Content-Length`` (or ``None``). Raises ``ModelUnavailable`` when the transfer fails, ends
    short of ``Content-Length`` or the checksum differs; ``dest`` is then left as it was.
    """
    if not (sha256 or md5):
        raise InvalidInput(f"downloading {url} needs its published checksum (sha256 or md5)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            digest, md5_digest = _fetch(url, out, progress=progress, timeout_s=timeout_s)
        if (sha256 and not checksum_matches(digest, sha256)) or (not sha256 and md5_digest != md5.lower()):
            kind, got, published = ("SHA-256", digest, sha256) if sha256 else ("MD5", md5_digest, md5)
            raise ModelUnavailable(
                f"the file downloaded from {url} has {kind} {got}, not the published {published}; "
                "the transfer was damaged or the file changed on the server; run the download again"
            )
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    log.info("downloaded %s to %s (sha256 %s)", url, dest, digest)
    return dest


def _fetch(url: str, out: object, *, progress: ByteProgressFn | None, timeout_s: float) -> tuple[str, str]:
    """Stream ``url`` into the binary file ``out``; return the hex SHA-256 and MD5 of what arrived."""
    digest = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (https URLs from a fixed table)
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress is not None:
                progress(0, total)
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)  # type: ignore[attr-defined]
                digest.update(chunk)
                md5.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        raise ModelUnavailable(
            f"downloading {url} failed after {done} bytes ({error}); check the network connection and run it again"
        ) from error
    if total is not None and done != total:
        raise ModelUnavailable(
            f"downloading {url} stopped after {done} of {total} bytes; check the network connection and run it again"
        )
    return digest.hexdigest(), md5.hexdigest()
