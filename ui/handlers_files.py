"""Handlers of step 2's file sources: a mask, a grayscale map, an image's alpha or a label map read
from a file, and the photo's own alpha. Part of ``ui.handlers.Handlers`` (a mixin: it uses the
page, the session and the packing that class holds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import InvalidInput
from pipeline.io.images import load_image, load_labels, load_mask
from pipeline.masks import from_alpha, from_gray
from pipeline.recipe import AlphaChannel, LabelClasses
from ui import notebook
from ui.display import mask_to_image
from ui.inputs import parse_classes
from ui.shown_errors import V, shows_errors

if TYPE_CHECKING:
    from ui.layout import Page
    from ui.state import Photo, Session


class FileSources:
    """``Handlers``' file-source events (see the module docstring)."""

    p: Page

    def session(self, v: V) -> Session: ...  # provided by Handlers
    def mask_out(self, s: Session) -> V: ...  # provided by Handlers

    def imported(self, v: V, file: Any, missing: str) -> tuple[Session, Photo, str]:
        """The session, its photo and the file chosen in ``file`` (``missing`` says what to choose)."""
        s, path = self.session(v), v[file]
        photo = notebook.need_photo(s)
        if not path:
            raise InvalidInput(missing)
        return s, photo, path

    @shows_errors
    def on_import_mask_click(self, v: V) -> V:
        s, photo, path = self.imported(v, self.p.mask_file, "no mask file: choose a mask PNG first")
        threshold = float(v[self.p.gray_threshold])
        mask = load_mask(path, size=photo.size, resize=True)
        origin = "gray" if threshold > 0 else "mask"
        mask = from_gray(mask, threshold=threshold) if threshold > 0 else mask
        return self.mask_out(notebook.store_mask(s, mask, origin, v[self.p.combine]))

    @shows_errors
    def on_import_alpha_click(self, v: V) -> V:
        missing = "no file: choose an image with transparency (PNG or WebP with alpha) first"
        s, photo, path = self.imported(v, self.p.alpha_file, missing)
        loaded = load_image(path)
        if loaded.alpha is None:
            raise InvalidInput(f"{Path(path).name} has no alpha channel; choose a PNG or WebP with transparency")
        alpha = from_alpha(mask_to_image(loaded.alpha, photo.size))
        return self.mask_out(notebook.store_mask(s, alpha, "alpha", v[self.p.combine]))

    @shows_errors
    def on_own_alpha_click(self, v: V) -> V:
        return self.mask_out(notebook.add_source(self.session(v), AlphaChannel(combine=v[self.p.combine])))

    @shows_errors
    def on_import_labels_click(self, v: V) -> V:
        missing = "no label map: choose a label PNG (one gray level or palette index per class) first"
        s, photo, path = self.imported(v, self.p.labels_file, missing)
        classes = parse_classes(v[self.p.classes])
        as_rgb = any(isinstance(c, tuple) for c in classes)
        labels = load_labels(path, as_rgb=as_rgb, size=photo.size, resize=True)
        step = LabelClasses(classes=tuple(classes), labels=labels, combine=v[self.p.combine])
        return self.mask_out(notebook.add_source(s, step))
