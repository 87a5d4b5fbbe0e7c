"""Segment Anything: checkpoint loading and the selector (``segmenter``), the image embedding
(``embed``), the lean decoder runtime (``fast``, ``layers``) and the embedding cache (``cache``)."""
