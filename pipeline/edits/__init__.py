"""Mask-driven edits: remove and inpaint (``remove``), background replacement (``background``),
canvas extension (``outpaint``) and edge mattes (``matting``)."""
