"""Clips in and out: round trips, alpha kept in WebM, limits checked from the header, bad files refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from track_clips import scene, write_clip

from pipeline.errors import ClipTooLarge, InvalidInput, UnsupportedFormat
from pipeline.io.video import ClipLimits, VideoWriter, probe_clip, read_frames, write_video


def test_an_mp4_round_trips_its_size_count_and_rate(tmp_path: Path) -> None:
    frames, _ = scene(5)
    clip = write_clip(tmp_path / "c.mp4", frames, fps=12)
    info = probe_clip(clip)
    assert (info.size, info.frames, info.fps, info.codec) == ((96, 64), 5, 12.0, "h264")
    back = list(read_frames(clip))
    assert len(back) == 5 and back[0].shape == (64, 96, 3) and back[0].dtype == np.uint8
    assert np.abs(back[2].astype(int) - frames[2]).mean() < 6  # lossy, but the same picture


def test_a_webm_keeps_transparency(tmp_path: Path) -> None:
    import av

    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :24, 3] = 255
    write_video(tmp_path / "a.webm", [rgba] * 3, fps=5)
    with av.open(str(tmp_path / "a.webm")) as container:
        stream = container.streams.video[0]
        decoder = av.CodecContext.create("libvpx-vp9", "r")  # FFmpeg's own vp9 decoder drops alpha
        frame = next(f for packet in container.demux(stream) for f in decoder.decode(packet))
        alpha = frame.to_ndarray(format="rgba")[..., 3]
    assert alpha[:, :20].min() > 240 and alpha[:, 28:].max() < 15


def test_odd_sizes_are_padded_to_even(tmp_path: Path) -> None:
    write_video(tmp_path / "odd.mp4", [np.zeros((31, 45, 3), np.uint8)] * 2, fps=5)
    assert probe_clip(tmp_path / "odd.mp4").size == (46, 32)


def test_too_many_frames_or_too_large_frames_are_refused_before_decoding(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", scene(6)[0])
    with pytest.raises(ClipTooLarge, match="has 6 frames; sequences take at most 5 frames"):
        probe_clip(clip, ClipLimits(max_frames=5))
    with pytest.raises(ClipTooLarge, match="96x64 frames"):
        list(read_frames(clip, ClipLimits(max_side=64)))


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("not a video at all")
    with pytest.raises(UnsupportedFormat, match="is not a video Stencil can read"):
        probe_clip(tmp_path / "notes.mp4")


def test_a_codec_the_decoder_lacks_is_refused(tmp_path: Path) -> None:
    """An AVI whose codec tag no decoder knows (MPEG-4 data relabelled ``QQZZ``)."""
    import av

    with av.open(str(tmp_path / "c.avi"), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for value in (0, 100):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), value, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = (tmp_path / "c.avi").read_bytes()
    assert b"FMP4" in data
    (tmp_path / "odd.avi").write_bytes(data.replace(b"FMP4", b"QQZZ"))
    with pytest.raises(UnsupportedFormat, match="codec this decoder does not have; re-encode it"):
        probe_clip(tmp_path / "odd.avi")


def test_an_error_while_writing_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(InvalidInput, match="all must be one size"), VideoWriter(target, fps=5) as writer:
        writer.add(np.zeros((32, 32, 3), np.uint8))
        writer.add(np.zeros((16, 16, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InvalidInput, match="videos are written as"):
        VideoWriter(tmp_path / "out.gif", fps=5)
