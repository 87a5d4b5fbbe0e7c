"""``stencil download`` and ``pipeline.io.download`` against an HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import InvalidInput, ModelUnavailable
from pipeline.io.download import Artifact, checksum_matches, download
from pipeline.select.sam import segmenter as sam

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit: more than one chunk
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/missing.pth":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if self.path == "/short.pth":  # the connection drops half-way
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(PAYLOAD)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _use_server(monkeypatch: pytest.MonkeyPatch, url: str, sha256: str = DIGEST) -> Artifact:
    artifact = Artifact("sam-vit-b", url, "sam_vit_b_01ec64.pth", sha256)
    monkeypatch.setitem(sam.CHECKPOINTS, "vit_b", artifact)
    return artifact


def test_download_command_fetches_verifies_and_moves_into_place(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use_server(monkeypatch, f"{server}/sam.pth")
    assert main(["download", "sam-vit-b", "--models-dir", str(tmp_path)]) == 0
    dest = tmp_path / "sam_vit_b_01ec64.pth"
    assert dest.read_bytes() == PAYLOAD
    assert list(tmp_path.iterdir()) == [dest]  # no temporary file left behind
    captured = capsys.readouterr()
    assert str(dest) in captured.out
    assert "sam-vit-b" in captured.err  # the progress bar

    assert main(["download", "sam-vit-b", "--models-dir", str(tmp_path)]) == 0
    assert "already there" in capsys.readouterr().out


def test_download_command_refuses_a_wrong_checksum(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use_server(monkeypatch, f"{server}/sam.pth", sha256="0" * 64)
    assert main(["download", "sam-vit-b", "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "SHA-256" in err and DIGEST in err and "run the download again" in err
    assert list(tmp_path.iterdir()) == []


def test_download_command_reports_an_interrupted_transfer(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use_server(monkeypatch, f"{server}/short.pth")
    assert main(["download", "sam-vit-b", "--models-dir", str(tmp_path)]) == 2
    assert "network" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_failed_download_keeps_an_existing_file(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "model.pth"
    dest.write_bytes(b"old")
    with pytest.raises(ModelUnavailable, match="404"):
        download(f"{server}/missing.pth", dest, sha256=DIGEST)
    with pytest.raises(ModelUnavailable, match="stopped after"):
        download(f"{server}/short.pth", dest, sha256=DIGEST)
    assert dest.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [dest]


def test_download_reports_progress_and_accepts_a_published_prefix(server: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    dest = download(
        f"{server}/sam.pth", tmp_path / "sub" / "m.pth", sha256=DIGEST[:10], progress=lambda d, t: seen.append((d, t))
    )
    assert dest.read_bytes() == PAYLOAD
    assert seen[0] == (0, len(PAYLOAD)) and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_checksums() -> None:
    assert checksum_matches(DIGEST, DIGEST) and checksum_matches(DIGEST.upper(), DIGEST[:8])
    assert not checksum_matches(DIGEST, "0" * 64)
    with pytest.raises(InvalidInput):
        Artifact("x", "http://x", "x.pth", "abc")  # too short to mean anything
    with pytest.raises(InvalidInput):
        Artifact("x", "http://x", "../x.pth", DIGEST)
    for artifact in sam.CHECKPOINTS.values():
        assert len(artifact.sha256) == 64 and artifact.url.startswith("https://dl.fbaipublicfiles.com/")


def test_download_command_fetches_big_lama_checked_by_its_published_md5(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.inpaint import lama

    published = hashlib.md5(PAYLOAD, usedforsecurity=False).hexdigest()
    monkeypatch.setattr(lama, "BIG_LAMA", Artifact("big-lama", f"{server}/lama.pt", "big-lama.pt", md5=published))
    assert main(["download", "big-lama", "--models-dir", str(tmp_path)]) == 0
    assert (tmp_path / "big-lama.pt").read_bytes() == PAYLOAD
    assert "big-lama" in capsys.readouterr().err  # the progress bar
    assert main(["download", "big-lama", "--models-dir", str(tmp_path)]) == 0
    assert "already there" in capsys.readouterr().out

    monkeypatch.setattr(lama, "BIG_LAMA", Artifact("big-lama", f"{server}/lama.pt", "big-lama.pt", md5="0" * 32))
    assert main(["download", "big-lama", "--models-dir", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "MD5" in line] == [err.splitlines()[-1]] and published in err
    assert not (tmp_path / "other").exists() or list((tmp_path / "other").iterdir()) == []


def test_the_big_lama_entry_is_the_file_iopaint_publishes() -> None:
    from pipeline.inpaint.lama import BIG_LAMA

    assert BIG_LAMA.url == "https://github.com/Sanster/models/releases/download/add_big_lama/big-lama.pt"
    assert BIG_LAMA.md5 == "e3aa4aaa15225a33ec84f9f4bc47e500" and BIG_LAMA.filename == "big-lama.pt"
    with pytest.raises(InvalidInput):
        Artifact("x", "http://x", "x.pt")  # no checksum at all
    with pytest.raises(InvalidInput):
        Artifact("x", "http://x", "x.pt", md5="abc")
