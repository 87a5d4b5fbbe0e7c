"""The learned tracker: SAM 2's video model through ``transformers`` (``Sam2VideoModel``), streamed.

Each pass opens a streaming inference session: the keyframe goes in with its mask as the
conditioning input, then every following frame of the pass is fed as the next streamed frame, so
a backward pass is simply a stream of frames in reverse order. Frames the model no longer needs
are dropped from the session as it goes (only the memory bank's recent frames are kept), so a
300-frame pass holds a few frames, not the clip. Weights load from a local folder or a hub id
already in the cache (``local_files_only``): nothing is downloaded implicitly.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from pipeline.errors import ModelUnavailable
from pipeline.track.protocol import Tracked
from pipeline.types import Image, Mask

log = logging.getLogger(__name__)

KEEP_FRAMES = 16
"""Tracked frames whose outputs a session keeps (SAM 2 attends to its last 6 and the keyframe)."""


def load_tracker(source: str | Path, *, device: str = "cpu") -> Sam2Tracker:
    """SAM 2's video model and processor from ``source`` (a folder, or a hub id in the local cache)."""
    import torch
    from transformers import Sam2VideoModel, Sam2VideoProcessor

    try:
        model = Sam2VideoModel.from_pretrained(str(source), local_files_only=True)  # type: ignore[call-arg]
        processor = Sam2VideoProcessor.from_pretrained(str(source), local_files_only=True)
    except (OSError, ValueError) as error:
        raise ModelUnavailable(
            f"SAM 2 video model {source!s} could not be loaded ({str(error).splitlines()[0]}); point "
            "STENCIL_TRACK_MODEL at a folder saved with save_pretrained, or a hub id already downloaded"
        ) from None
    dtype = torch.float16 if device == "cuda" else torch.float32
    model = model.to(device=device, dtype=dtype).eval()  # type: ignore[call-arg]
    return Sam2Tracker(model, processor, device, dtype)


class Sam2Tracker:
    """SAM 2 video tracking; the model is read-only and shared, one ``Sam2Session`` a pass."""

    name = "sam2"

    def __init__(self, model, processor, device: str, dtype) -> None:  # type: ignore[no-untyped-def]
        self.model, self.processor, self.device, self.dtype = model, processor, device, dtype

    def start(self, frame: Image, mask: Mask) -> Sam2Session:
        return Sam2Session(self, frame, mask)


class Sam2Session:
    """One streamed pass from a keyframe."""

    def __init__(self, tracker: Sam2Tracker, frame: Image, mask: Mask) -> None:
        self.tracker = tracker
        processor = tracker.processor
        self.session = processor.init_video_session(inference_device=tracker.device, dtype=tracker.dtype)
        processor.add_inputs_to_inference_session(
            self.session, frame_idx=0, obj_ids=1, input_masks=[(mask > 0.5).astype(np.float32)]
        )
        self._infer(frame)

    def _infer(self, frame: Image):  # type: ignore[no-untyped-def]
        import torch

        inputs = self.tracker.processor(images=frame, device=self.tracker.device, return_tensors="pt")
        with torch.inference_mode():
            output = self.tracker.model(
                inference_session=self.session, frame=inputs["pixel_values"][0].to(self.tracker.dtype)
            )
        self._forget(output.frame_idx)
        return output, inputs["original_sizes"]

    def next(self, frame: Image) -> Tracked:
        import torch

        output, sizes = self._infer(frame)
        masks = self.tracker.processor.post_process_masks([output.pred_masks.float()], original_sizes=sizes)[0]
        mask = masks[0, 0].cpu().numpy().astype(np.float32)
        present = float(torch.sigmoid(output.object_score_logits.float().flatten()[0]))
        if not mask.any():
            return Tracked(mask, 0.0, "the model sees no subject in this frame")
        return Tracked(mask, present, "" if present >= 0.7 else "the model is unsure the subject is there")

    def _forget(self, latest: int) -> None:
        """Drop the pixels of every frame but the keyframe and the latest, and old tracked outputs."""
        frames = self.session.processed_frames or {}
        for index in [i for i in frames if i not in (0, latest)]:
            del frames[index]
        for outputs in self.session.output_dict_per_obj.values():
            tracked = outputs["non_cond_frame_outputs"]
            for index in [i for i in tracked if i < latest - KEEP_FRAMES]:
                del tracked[index]
