"""A recipe over every frame of a sequence, with each frame's tracked mask, streamed to the exports.

``apply_to_sequence`` reads full frames one at a time, runs the recipe on each (``run``, so a frame
gives exactly the pixels the same recipe gives on that photo), and hands the result to the
exports as it goes: an edited video, an alpha video (WebM with transparency: the cutout), and zips
of RGBA PNGs and of masks. Nothing holds more than one frame's arrays; every export is written
through a temporary file, so a failure or a cancel leaves none half-written.

With ``masks`` (a tracked ``MaskStore``), each frame's mask replaces the recipe's own mask steps
(clicks and painted masks belong to one frame): the recipe's ``Refine``, edits and ``Output`` run
on it. Without, the recipe replays as is on every frame (colour and luminance steps work on any
frame; clicks are refused as on any other photo).
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import Cancelled, InvalidInput
from pipeline.inpaint.protocol import CancelFlag, ProgressFn
from pipeline.io.video import VideoWriter
from pipeline.recipe.apply import Engines
from pipeline.recipe.mask_sources import to_levels
from pipeline.recipe.mask_steps import MaskStep, StoredMask
from pipeline.recipe.run import Run, run
from pipeline.recipe.steps import Recipe
from pipeline.types import Mask

MaskSource = Callable[[int], Mask]
"""Frame index (0-based) -> that frame's full-size mask (``MaskStore.mask`` fits)."""


@dataclass(frozen=True)
class Exports:
    """Where the results go; None skips one. ``video``: the edited frames (.mp4 or .webm);
    ``alpha_video``: the cutout as a WebM with alpha; ``frames_zip`` / ``rgba_zip`` / ``mask_zip``:
    PNG sequences of the edited frames, the cutouts and the masks (lossless: exact pixels)."""

    video: Path | None = None
    frames_zip: Path | None = None
    alpha_video: Path | None = None
    rgba_zip: Path | None = None
    mask_zip: Path | None = None

    def __post_init__(self) -> None:
        if self.alpha_video is not None and self.alpha_video.suffix.lower() != ".webm":
            raise InvalidInput(f"{self.alpha_video.name}: a video with transparency is written as .webm (VP9)")
        for path in (self.frames_zip, self.rgba_zip, self.mask_zip):
            if path is not None and path.suffix.lower() != ".zip":
                raise InvalidInput(f"{path.name}: PNG sequences are written as .zip")

    def paths(self) -> list[Path]:
        every = (self.video, self.frames_zip, self.alpha_video, self.rgba_zip, self.mask_zip)
        return [p for p in every if p is not None]


def per_frame(recipe: Recipe, mask: Mask | None) -> Recipe:
    """``recipe`` for one frame: with a tracked ``mask``, the recipe's mask steps give way to it."""
    if mask is None:
        return recipe
    rest = tuple(step for step in recipe.steps if not isinstance(step, MaskStep.__args__))  # type: ignore[attr-defined]
    return Recipe((StoredMask(levels=to_levels(mask), origin="mask"), *rest))


class _PngZip:
    """A zip of numbered PNGs written as frames come (stored, PNG is compressed already)."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self.partial = path.with_name(f".{path.name}.partial")
        self.archive = zipfile.ZipFile(self.partial, "w", zipfile.ZIP_STORED)

    def add(self, index: int, pixels: np.ndarray) -> None:
        """``pixels``: RGB, RGBA or gray uint8."""
        if pixels.ndim == 3:
            code = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
            pixels = cv2.cvtColor(pixels, code)
        ok, data = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        self.archive.writestr(f"{self.name}-{index + 1:05d}.png", data.tobytes())

    def close(self, keep: bool) -> None:
        self.archive.close()
        if keep:
            os.replace(self.partial, self.path)
        self.partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _outputs(exports: Exports, fps: float) -> Iterator[Callable[[int, Run], None]]:
    """A function that hands one frame's ``Run`` to every export; files appear only on success."""
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(VideoWriter(exports.video, fps=fps)) if exports.video else None
        alpha = stack.enter_context(VideoWriter(exports.alpha_video, fps=fps)) if exports.alpha_video else None
        wanted = (("frame", exports.frames_zip), ("rgba", exports.rgba_zip), ("mask", exports.mask_zip))
        zips = [(_PngZip(path, what), what) for what, path in wanted if path is not None]

        def take(index: int, result: Run) -> None:
            if video is not None:
                video.add(result.image)
            if alpha is not None:
                alpha.add(result.cutout)
            pixels = {"frame": result.image, "rgba": result.cutout, "mask": to_levels(result.mask)}
            for archive, what in zips:
                archive.add(index, pixels[what])

        ok = False
        try:
            yield take
            ok = True
        finally:
            for archive, _ in zips:
                archive.close(ok)


def apply_to_sequence(
    recipe: Recipe,
    frames: Iterator[np.ndarray],
    count: int,
    exports: Exports,
    *,
    fps: float,
    masks: MaskSource | None = None,
    engines: Engines | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFlag | None = None,
) -> int:
    """Run ``recipe`` on each of ``count`` full-size ``frames`` and stream the results to ``exports``.

    Returns the number of frames done. Raises ``Cancelled`` (no export is left) or the recipe's
    ``RecipeError`` naming the frame.
    """
    if not exports.paths():
        raise InvalidInput("nothing to export: ask for a video, an alpha video, RGBA PNGs or masks")
    engines = engines or Engines()
    done = 0
    with _outputs(exports, fps) as take:
        for index, frame in enumerate(frames):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"applying the recipe was cancelled at frame {index + 1}; nothing was exported")
            mask = masks(index) if masks is not None else None
            try:
                result = run(per_frame(recipe, mask), frame, engines)
            except InvalidInput as error:
                raise type(error)(f"frame {index + 1}: {error}") from None
            take(index, result)
            done += 1
            if progress is not None:
                progress(done, count)
    return done
