"""Endpoints for ``gradio_client`` and other programs: every main operation, with data instead of clicks.

They share the page's per-session state (each client connection is one session, freed after
``STENCIL_SESSION_TTL_S`` idle) and its queue: model work runs under the same ``concurrency_id``
as the page. Each endpoint builds the same recipe step the page builds. Masks come back as PNG
files (white = selected); edits as result / mask / cutout files and the replayable JSON recipe.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    client.predict(handle_file("shoe.jpg"), api_name="/load_image")
    mask_png, info = client.predict('[[640, 420, 1]]', "", "replace", api_name="/select")
    mask_png, info = client.predict('[[640, 420, 1]]', "", "replace", "sam3", api_name="/select")  # SAM 3 clicks
    mask_png, info = client.predict("replace", "", api_name="/mask_subject")  # the product, no clicks
    result_png, mask_png, cutout_png, recipe = client.predict("Colour", "#ffffff", ..., api_name="/background")
    client.predict(json.dumps(recipe), handle_file("other-shoe.jpg"), api_name="/apply_recipe")
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from pipeline import recipe as recipes
from pipeline.colors import parse_color
from pipeline.errors import InvalidInput
from pipeline.io.images import load_image, load_labels, load_mask, save_mask
from pipeline.recipe import ColorRange, LuminanceRange, Output, Subject, TextPrompt
from pipeline.select.text.sam3 import check_text
from pipeline.space.runtime import gpu_seconds_for
from ui import cells, controls, notebook
from ui.api_inputs import parse_box, parse_points
from ui.click_backend import use_click_backend
from ui.handlers import Handlers, shows_errors
from ui.state import Session
from ui.views import describe

EditReply = tuple[Any, ...]
ADVANCED_DEFAULTS = {"negative": "", **controls.prompting_values(), "margin": None}


def _mask_reply(session: Session) -> tuple[Session, str, dict[str, Any]]:
    mask = cells.refined(session)
    folder = Path(tempfile.mkdtemp(prefix="mask-", dir=notebook.session_folder(session)))
    path = folder / "mask.png"
    save_mask(path, mask, compression=cells.PNG_LEVEL)
    width, height = session.size
    info: dict[str, Any] = {"width": width, "height": height, "summary": describe(mask)}
    info["candidates"] = [round(score, 4) for _, score in session.candidates]
    return replace(session, folder=folder.parent), str(path), info


def _guidance(
    control: str | None, control_file: str | None, scale: float | None, start: float | None, end: float | None,
    map_unknown: bool | None,
) -> dict[str, Any]:  # fmt: skip
    """Guidance values from an endpoint's optional arguments: ``control`` is none, seg, canny, mask or image.

    ``control_file``: the seg map (ADE20K ids as a gray or palette PNG, or ADE20K colours) or the
    control image; both have the photo's size. Left out (older clients): no guidance.
    """
    values: dict[str, Any] = {"control": control or "none", "seg_unknown": bool(map_unknown)}
    values.update(control_scale=scale, control_start=start, control_end=end)
    if control_file:
        values["control_picture"] = load_labels(control_file) if control == "seg" else load_image(control_file).rgb
    return values


def _values(**given: Any) -> dict[str, Any]:
    """Edit-control values for ``controls.edit_from``: the page's defaults, then ``given``."""
    values = {**ADVANCED_DEFAULTS, "prompt": "", "out_prompt": "", "bg_prompt": "", "shadow": False}
    values.update(given)
    return values


class Api:
    """The endpoint functions; each takes the session first and returns it first."""

    def __init__(self, handlers: Handlers) -> None:
        self.services = handlers.services

    @shows_errors
    def load_image(self, session: Session | None, image: str | None) -> tuple[Session, dict[str, Any]]:
        if not image:
            raise InvalidInput("no image file: pass handle_file('photo.jpg')")
        settings = self.services.settings
        loaded = load_image(image, max_pixels=settings.max_pixels, max_side=settings.max_side)
        new = notebook.load(self.services, loaded.rgb, Path(image).name, session or Session(), alpha=loaded.alpha)
        info = {"width": new.size[0], "height": new.size[1], "name": Path(image).name}
        if loaded.note:
            gr.Warning(loaded.note)
            info["note"] = loaded.note
        return new, info

    @shows_errors
    def select(
        self, session: Session | None, points_json: str, box_json: str, mode: str, backend: str | None = None
    ) -> tuple:
        """A clicks step; ``backend``: left out or "" the session's, else auto, sam, sam3 or classic (kept)."""
        s = notebook.clear_clicks(session or Session())
        if backend and backend.strip():
            s = use_click_backend(self.services, s, backend.strip())
        return _mask_reply(notebook.select(self.services, s, parse_points(points_json), parse_box(box_json), mode))  # type: ignore[arg-type]

    @shows_errors
    def choose_candidate(self, session: Session | None, index: float, mode: str) -> tuple:
        whole = controls.whole(index, "candidate", 0, 15)
        return _mask_reply(notebook.choose_candidate(self.services, session or Session(), whole))

    @shows_errors
    def mask_subject(self, session: Session | None, mode: str, engine: str) -> tuple:
        """The photo's subject, no clicks: ``engine`` "" or "auto" (the app's choice), "rembg" or "classic"."""
        step = Subject(engine=(engine or "auto").strip(), combine=mode or "replace")  # type: ignore[arg-type]
        return _mask_reply(notebook.find_subject(self.services, session or Session(), step))

    @shows_errors
    def mask_text(
        self, session: Session | None, text: str, mode: str, instances: str, threshold: float | None
    ) -> tuple:
        """Every instance of ``text`` that SAM 3 finds; ``instances`` "" for all, or "0,2" (best first);
        ``threshold``: the lowest score that counts (None: 0.5)."""
        parts = [part.strip() for part in (instances or "").split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise InvalidInput(f"instances {instances!r} must be empty (all) or numbers like 0 or 0,2")
        picked = tuple(int(part) for part in parts) or None
        score = 0.5 if threshold is None else float(threshold)
        step = TextPrompt(text=check_text(text), instances=picked, threshold=score, combine=mode or "replace")  # type: ignore[arg-type]
        s = notebook.find_text(self.services, session or Session(), step)
        session_out, path, info = _mask_reply(s)
        info["instances"] = [round(score, 4) for score in (s.text_found.scores if s.text_found else ())]
        return session_out, path, info

    @shows_errors
    def mask_from_color(self, session: Session | None, color: str, tolerance: float, mode: str) -> tuple:
        step = ColorRange(color=parse_color(color), tolerance=float(tolerance), combine=mode)  # type: ignore[arg-type]
        return _mask_reply(notebook.add_source(session or Session(), step))

    @shows_errors
    def mask_from_luminance(self, session: Session | None, low: float, high: float, mode: str) -> tuple:
        step = LuminanceRange(low=float(low), high=float(high), combine=mode)  # type: ignore[arg-type]
        return _mask_reply(notebook.add_source(session or Session(), step))

    @shows_errors
    def import_mask(self, session: Session | None, mask: str | None, mode: str) -> tuple:
        s = session or Session()
        photo = notebook.need_photo(s)
        if not mask:
            raise InvalidInput("no mask file: pass handle_file('mask.png')")
        return _mask_reply(notebook.store_mask(s, load_mask(mask, size=photo.size), "mask", mode))  # type: ignore[arg-type]

    @shows_errors
    def refine(
        self, session: Session | None, grow_px: float, feather_px: float, invert: bool, fill_holes: bool, speck: float
    ) -> tuple:
        s = session or Session()
        notebook.need_photo(s)
        values = {"grow": grow_px, "feather": feather_px, "invert": invert, "fill_holes": fill_holes, "speck": speck}
        refine = controls.refine_from({**values, "matte": s.refine.matte_px})
        return _mask_reply(s.with_refine(refine))

    def _edit(self, session: Session | None, values: dict[str, Any], request: gr.Request | None) -> EditReply:
        edit = controls.edit_from(values)
        cancel = self.services.new_run((request.session_hash if request else None) or "")
        new = cells.run_edit(self.services, session or Session(), edit, Output(), cancel=cancel, warn=gr.Warning)
        cell = new.cell(new.shown_cell)  # type: ignore[arg-type]
        result, mask, cutout, _crop, recipe = cell.downloads
        return new, result, mask, cutout, json.loads(Path(recipe).read_text())

    @shows_errors
    def remove(self, session: Session | None, engine: str, seed: float | None, request: gr.Request) -> EditReply:
        return self._edit(session, _values(operation="Remove", engine=engine, seed=seed), request)

    @shows_errors
    def inpaint(  # noqa: PLR0913 - one argument per field of the endpoint
        self,
        session: Session | None,
        prompt: str,
        negative_prompt: str,
        engine: str,
        steps: float,
        strength: float,
        guidance: float,
        seed: float | None,
        margin_px: float,
        control: str | None,
        control_scale: float | None,
        control_start: float | None,
        control_end: float | None,
        map_unknown: bool | None,
        control_file: str | None = None,
        request: gr.Request | None = None,
    ) -> EditReply:
        values = _values(
            operation="Inpaint", prompt=prompt, negative=negative_prompt, engine=engine, steps=steps,
            strength=strength, guidance=guidance, seed=seed, margin=margin_px,
            **_guidance(control, control_file, control_scale, control_start, control_end, map_unknown),
        )  # fmt: skip
        return self._edit(session, values, request)

    @shows_errors
    def background(  # noqa: PLR0913 - one argument per field of the endpoint
        self,
        session: Session | None,
        kind: str,
        color: str,
        color2: str,
        blur_px: float,
        image: str | None,
        prompt: str,
        engine: str,
        control: str | None,
        control_scale: float | None,
        control_start: float | None,
        control_end: float | None,
        map_unknown: bool | None,
        control_file: str | None = None,
        request: gr.Request | None = None,
    ) -> EditReply:
        picture = load_image(image).rgb if image else None
        values = _values(
            operation="Replace background", bg_kind=kind, bg_color=color, bg_color2=color2, bg_blur=blur_px,
            bg_image=picture, bg_prompt=prompt, engine=engine,
            **_guidance(control, control_file, control_scale, control_start, control_end, map_unknown),
        )  # fmt: skip
        return self._edit(session, values, request)

    @shows_errors
    def outpaint(  # noqa: PLR0913 - one argument per field of the endpoint
        self,
        session: Session | None,
        left: float,
        right: float,
        top: float,
        bottom: float,
        aspect: str,
        prompt: str,
        engine: str,
        seed: float | None,
        request: gr.Request,
    ) -> EditReply:
        values = _values(
            operation="Extend canvas", left=left, right=right, top=top, bottom=bottom, aspect=aspect,
            out_prompt=prompt, engine=engine, seed=seed,
        )  # fmt: skip
        return self._edit(session, values, request)

    @shows_errors
    def use_result(self, session: Session | None) -> tuple[Session, dict[str, Any]]:
        new = cells.use_result(self.services, session or Session())
        return new, {"width": new.size[0], "height": new.size[1], "name": new.photo.name}  # type: ignore[union-attr]

    @shows_errors
    def recipe(self, session: Session | None) -> tuple[Session, dict[str, Any]]:
        """The session's recipe: the shown result's, when it was made from this notebook, else the notebook so far."""
        s = session or Session()
        current = s.recipe()
        if s.shown_cell is not None:
            cell = s.cell(s.shown_cell)
            if cell.recipe.steps[: len(current.steps)] == current.steps:
                current = cell.recipe
        return s, recipes.to_dict(current)

    @shows_errors
    def apply_recipe(self, session: Session | None, recipe_json: str, image: str | None) -> EditReply:
        """Replay ``recipe_json`` on ``image`` (the session's notebook is not changed)."""
        s = session or Session()
        if not image:
            raise InvalidInput("no image file: pass handle_file('photo.jpg')")
        recipe = recipes.loads(recipe_json or "")
        settings = self.services.settings
        loaded = load_image(image, max_pixels=settings.max_pixels, max_side=settings.max_side)
        engines = self.services.engines
        seconds = gpu_seconds_for(loaded.rgb, *recipe.steps)
        run = self.services.run_model(
            lambda: recipes.run(recipe, loaded.rgb, engines, alpha=loaded.alpha), seconds=seconds
        )
        folder = Path(tempfile.mkdtemp(prefix="apply-", dir=notebook.session_folder(s)))
        files = cells.write_downloads(folder, run.image, run.mask, run.cutout, run.crop, recipe, recipe.output)
        return replace(s, folder=folder.parent), files[0], files[1], files[2], recipes.to_dict(recipe)
