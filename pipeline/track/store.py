"""The masks of a sequence, one 8-bit PNG a frame in a folder (never a stack of float masks in RAM).

Each frame has at most one mask, full size, stored as levels ``round(255 * mask)``. A frame the
user masked is a *keyframe*; tracking writes the frames between keyframes and never overwrites a
keyframe. Each tracked frame keeps its confidence and, when it is low, the reason.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import InvalidInput, SizeMismatch
from pipeline.types import Mask, check_mask


@dataclass(frozen=True)
class FrameState:
    """What the store knows of one frame: whether it is a keyframe, its confidence and why it is low."""

    keyframe: bool
    confidence: float
    reason: str = ""


class MaskStore:
    """Masks of ``count`` frames of ``size`` (width, height) kept as PNG files in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str], size: tuple[int, int], count: int) -> None:
        self.folder, self.size, self.count = Path(folder), size, count
        self.folder.mkdir(parents=True, exist_ok=True)
        self.states: dict[int, FrameState] = {}

    def _path(self, index: int) -> Path:
        return self.folder / f"mask-{index:05d}.png"

    def _check(self, index: int) -> None:
        if not 0 <= index < self.count:
            raise InvalidInput(f"frame {index + 1} does not exist; this sequence has frames 1 to {self.count}")

    def put(self, index: int, mask: Mask, state: FrameState) -> None:
        """Keep ``mask`` (full size, float32 in [0, 1]) for frame ``index``."""
        self._check(index)
        check_mask(mask)
        if (mask.shape[1], mask.shape[0]) != self.size:
            raise SizeMismatch(
                f"the mask is {mask.shape[1]}x{mask.shape[0]} but the frames are {self.size[0]}x{self.size[1]}; "
                "draw or import the mask at the frames' size"
            )
        levels = np.rint(mask * np.float32(255)).astype(np.uint8)
        partial = self._path(index).with_suffix(".partial.png")
        cv2.imwrite(str(partial), levels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        os.replace(partial, self._path(index))
        self.states[index] = state

    def set_keyframe(self, index: int, mask: Mask) -> None:
        """Frame ``index``'s mask as the user made it: a keyframe tracking starts from and never overwrites."""
        self.put(index, mask, FrameState(keyframe=True, confidence=1.0))

    def drop(self, index: int) -> None:
        """Forget frame ``index``'s mask (a keyframe too)."""
        self._path(index).unlink(missing_ok=True)
        self.states.pop(index, None)

    def has(self, index: int) -> bool:
        return index in self.states

    def mask(self, index: int) -> Mask:
        """Frame ``index``'s mask as float32 ``(H, W)``; all zeros when it has none."""
        self._check(index)
        if index not in self.states:
            return np.zeros((self.size[1], self.size[0]), np.float32)
        levels = cv2.imread(str(self._path(index)), cv2.IMREAD_GRAYSCALE)
        if levels is None:
            raise InvalidInput(f"the mask of frame {index + 1} could not be read back from {self.folder}")
        return levels.astype(np.float32) / np.float32(255)

    def keyframes(self) -> list[int]:
        return sorted(i for i, state in self.states.items() if state.keyframe)

    def flagged(self, below: float) -> list[int]:
        """Tracked frames whose confidence is under ``below``."""
        return sorted(i for i, s in self.states.items() if not s.keyframe and s.confidence < below)

    def write_zip(self, path: str | os.PathLike[str]) -> int:
        """Every mask as ``mask-00001.png``... (numbered from 1) plus ``frames.json`` in a zip; returns
        how many masks it holds. Written through a temporary file."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
                for index in sorted(self.states):
                    archive.write(self._path(index), f"mask-{index + 1:05d}.png")
                archive.writestr("frames.json", json.dumps(self.describe(), indent=1))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return len(self.states)

    def describe(self) -> list[dict[str, object]]:
        """One row a masked frame (numbered from 1): keyframe, confidence, reason."""
        return [
            {"frame": i + 1, "keyframe": s.keyframe, "confidence": round(s.confidence, 3), "reason": s.reason}
            for i, s in sorted(self.states.items())
        ]
