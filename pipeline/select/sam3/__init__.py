"""SAM 3 click selection (point and box prompts): ``points``."""
