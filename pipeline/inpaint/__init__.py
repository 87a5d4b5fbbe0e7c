"""Inpainting engines: the ``Inpainter`` protocol (``protocol``), the crop around a mask
(``crop``), the classical engine (``classic``) and diffusion (``diffusion``)."""
