"""Handlers of step 4's guidance controls: a segmentation map from the imported labels or a blank
one to draw on, and a preview of the exact control image the next run gives the model. Part of
``ui.handlers.Handlers`` (a mixin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.errors import InvalidInput
from ui import cells, controls, guidance, notebook
from ui.shown_errors import V, shows_errors

if TYPE_CHECKING:
    from ui.layout import Page
    from ui.services import Services
    from ui.state import Session


class GuidanceControls:
    """``Handlers``' guidance events (see the module docstring)."""

    p: Page
    services: Services

    def session(self, v: V) -> Session: ...  # provided by Handlers
    def named(self, v: V, controls_by_name: dict[str, Any]) -> dict[str, Any]: ...  # provided by Handlers

    @shows_errors
    def on_control_labels_click(self, v: V) -> V:
        s = self.session(v)
        notebook.need_photo(s)
        colours = guidance.imported_labels(s.recipe().steps, bool(v[self.p.edit["seg_unknown"]]))
        return {self.p.edit["control"]: "Segmentation map", self.p.edit["control_picture"]: colours}

    @shows_errors
    def on_control_blank_click(self, v: V) -> V:
        photo = notebook.need_photo(self.session(v))
        return {
            self.p.edit["control"]: "Segmentation map",
            self.p.edit["control_picture"]: guidance.blank_map(photo.size),
        }

    @shows_errors
    def on_control_show_click(self, v: V) -> V:
        """The control image the next Run gives the model: cut at the engine's crop, at its work size."""
        s = self.session(v)
        photo = notebook.need_photo(s)
        edit = controls.edit_from(self.named(v, self.p.edit))
        guides = getattr(edit, "controls", ())
        if not guides:
            raise InvalidInput("guidance is off: choose what to guide with (and a prompted background or Inpaint)")
        engine = self.services.engines.engine(edit.engine, edit.margin_px)
        mask = guidance.edit_mask(edit, cells.refined(s))
        return {self.p.control_preview: guidance.preview(guides[0], photo.image, mask, engine)}
