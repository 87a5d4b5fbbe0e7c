"""Masks that follow motion through a clip or a spin set.

A ``FrameSequence`` (``sequence``) holds a clip's or photos' frames spilled at work size; a
``MaskStore`` (``store``) one 8-bit PNG mask a frame with keyframes and confidences; ``propagate``
(``propagate``) carries a keyframe's mask forward and backward with a ``Tracker`` (``protocol``):
the classical one (``classic``: DIS optical flow and a graph cut, ``flow`` and ``snap``) or SAM 2's
video model (``sam2``). Frames at work size, masks full size; nothing holds the whole clip.
"""
