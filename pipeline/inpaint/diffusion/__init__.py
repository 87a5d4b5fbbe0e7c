"""Diffusion inpainting through ``diffusers``: finding and loading a model (``loader``) and the
engine that runs it on a crop of the photo (``engine``)."""
