"""Endpoints for ``gradio_client`` and other programs: every main operation, with data instead of clicks.

They share the page's per-session state (each client connection is one session) and its queue:
model work runs under the same ``concurrency_id`` as the page. Masks come back as PNG files
(white = selected), edits as result / mask / cutout PNGs and the JSON recipe.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    client.predict(handle_file("shoe.jpg"), api_name="/load_image")
    mask_png, info = client.predict('[[640, 420, 1]]', "", "replace", api_name="/select")
    result_png, mask_png, cutout_png, recipe = client.predict("#ffffff", ..., api_name="/background")
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from pipeline.errors import InvalidInput
from pipeline.io.images import load_image, load_mask, save_mask
from pipeline.types import Box, Point
from ui import actions, downloads, edits
from ui.colors import parse_color
from ui.handlers import Handlers, shows_errors
from ui.state import Refine, Session

GPU = "gpu"
EditReply = tuple[Any, ...]


def _points(points_json: str) -> list[Point]:
    """``'[[x, y, 1], [x, y, 0]]'`` (1 = object, 0 = background; image pixels) -> points."""
    try:
        data = json.loads(points_json) if points_json and points_json.strip() else []
        return [Point(float(p[0]), float(p[1]), bool(p[2]) if len(p) > 2 else True) for p in data]
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise InvalidInput(
            f"points {points_json!r} are not a JSON list like [[x, y, 1], [x, y, 0]] (1 = object, 0 = background)"
        ) from error


def _box(box_json: str) -> Box | None:
    if not box_json or not box_json.strip():
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in json.loads(box_json))
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"box {box_json!r} is not a JSON list [x0, y0, x1, y1] in image pixels") from error
    return Box(x0, y0, x1, y1)


def _mask_reply(session: Session) -> tuple[Session, str, dict[str, Any]]:
    mask = actions.refined(session)
    path = Path(tempfile.mkdtemp(prefix="stencil-api-")) / "mask.png"
    save_mask(path, mask)
    info: dict[str, Any] = {"width": session.size[0], "height": session.size[1], "summary": actions.describe(mask)}
    info["candidates"] = [round(c.score, 4) for c in session.candidates]
    return session, str(path), info


class Api:
    """The endpoint functions; each takes the session first and returns it first."""

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers
        self.services = handlers.services

    @shows_errors
    def load_image(self, session: Session, image: str | None) -> tuple[Session, dict[str, Any]]:
        if not image:
            raise InvalidInput("no image file: pass handle_file('photo.jpg')")
        settings = self.services.settings
        loaded = load_image(image, max_pixels=settings.max_pixels, max_side=settings.max_side)
        new = actions.load(self.services, loaded.rgb, Path(image).name, session)
        return new, {"width": new.size[0], "height": new.size[1], "name": new.name}

    @shows_errors
    def select(self, session: Session, points_json: str, box_json: str, mode: str) -> tuple:
        new = actions.select(self.services, session.clear_clicks(), _points(points_json), _box(box_json), mode)  # type: ignore[arg-type]
        return _mask_reply(new)

    @shows_errors
    def choose_candidate(self, session: Session, index: float, mode: str) -> tuple:
        return _mask_reply(actions.choose_candidate(session, int(index), mode))  # type: ignore[arg-type]

    @shows_errors
    def mask_from_color(self, session: Session, color: str, tolerance: float, mode: str) -> tuple:
        return _mask_reply(actions.from_color(session, parse_color(color), float(tolerance), mode))  # type: ignore[arg-type]

    @shows_errors
    def mask_from_luminance(self, session: Session, low: float, high: float, mode: str) -> tuple:
        return _mask_reply(actions.from_luminance(session, float(low), float(high), mode))  # type: ignore[arg-type]

    @shows_errors
    def import_mask(self, session: Session, mask: str | None, mode: str) -> tuple:
        image = actions.need_image(session)
        if not mask:
            raise InvalidInput("no mask file: pass handle_file('mask.png')")
        loaded = load_mask(mask, size=(image.shape[1], image.shape[0]))
        return _mask_reply(actions.apply_source(session, "import", loaded, mode, {"kind": "mask"}))  # type: ignore[arg-type]

    @shows_errors
    def refine(
        self, session: Session, grow_px: float, feather_px: float, invert: bool, fill_holes: bool, min_speck_px: float
    ) -> tuple:
        actions.need_image(session)
        refine = Refine(int(grow_px), float(feather_px), bool(invert), bool(fill_holes), int(min_speck_px))
        return _mask_reply(replace(session, refine=refine))

    def _edit(self, session: Session, options: edits.EditOptions, request: gr.Request) -> EditReply:
        cancel = self.services.cancel_flag(request.session_hash or "")
        cancel.clear()
        new = edits.run(self.services, session, options, cancel=cancel)
        result, mask, cutout, recipe = downloads.write_downloads(new.history[-1])
        return new, result, mask, cutout, json.loads(Path(recipe).read_text())

    @shows_errors
    def remove(self, session: Session, engine: str, seed: float, request: gr.Request) -> EditReply:
        options = edits.EditOptions(operation="remove", engine=engine, seed=_seed(seed))  # type: ignore[arg-type]
        return self._edit(session, options, request)

    @shows_errors
    def inpaint(  # noqa: PLR0913
        self,
        session: Session,
        prompt: str,
        negative_prompt: str,
        engine: str,
        steps: float,
        strength: float,
        guidance: float,
        seed: float,
        margin_px: float,
        request: gr.Request,
    ) -> EditReply:
        options = edits.EditOptions(
            operation="inpaint",
            prompt=prompt,
            negative_prompt=negative_prompt,
            engine=engine,
            steps=int(steps),
            strength=float(strength),  # type: ignore[arg-type]
            guidance=float(guidance),
            seed=_seed(seed),
            margin_px=int(margin_px),
        )
        return self._edit(session, options, request)

    @shows_errors
    def background(  # noqa: PLR0913
        self,
        session: Session,
        kind: str,
        color: str,
        color2: str,
        blur_px: float,
        image: str | None,
        prompt: str,
        engine: str,
        request: gr.Request,
    ) -> EditReply:
        picture = load_image(image).rgb if image else None
        choice = edits.BackgroundChoice.from_page(kind, color, color2, blur_px, picture, prompt)
        options = edits.EditOptions(operation="background", background=choice, prompt=prompt, engine=engine)  # type: ignore[arg-type]
        return self._edit(session, options, request)

    @shows_errors
    def outpaint(  # noqa: PLR0913
        self,
        session: Session,
        left: float,
        right: float,
        top: float,
        bottom: float,
        aspect: str,
        prompt: str,
        engine: str,
        seed: float,
        request: gr.Request,
    ) -> EditReply:
        options = edits.EditOptions.from_page(
            "Extend canvas",
            prompt,
            "",
            edits.BackgroundChoice(),
            (left, right, top, bottom),
            aspect,
            engine,
            30,
            1.0,
            7.5,
            seed,
            64,
        )
        return self._edit(session, options, request)

    @shows_errors
    def use_result(self, session: Session) -> tuple[Session, dict[str, Any]]:
        if session.result is None:
            raise InvalidInput("no result yet: run an edit first")
        new = actions.load(self.services, session.result, "result", session)
        return new, {"width": new.size[0], "height": new.size[1], "name": new.name}


def _seed(seed: float | None) -> int | None:
    return None if seed is None or seed < 0 else int(seed)


def register(handlers: Handlers, session: gr.State) -> None:
    """Add the API-only endpoints (hidden inputs and a hidden trigger per endpoint)."""
    api = Api(handlers)
    with gr.Column(visible=False):
        file_in = gr.File(label="file")
        texts = [gr.Textbox(label=f"text {i}") for i in range(5)]
        numbers = [gr.Number(label=f"number {i}") for i in range(6)]
        checks = [gr.Checkbox(label=f"flag {i}") for i in range(2)]
        files_out = [gr.File(label=name) for name in ("result", "mask", "cutout")]
        json_out = gr.JSON(label="info")
        t, n, c = texts, numbers, checks
        endpoints: list[tuple[str, Any, list[Any], list[Any], bool]] = [
            ("load_image", api.load_image, [file_in], [json_out], False),
            ("select", api.select, [t[0], t[1], t[2]], [files_out[1], json_out], True),
            ("choose_candidate", api.choose_candidate, [n[0], t[0]], [files_out[1], json_out], False),
            ("mask_from_color", api.mask_from_color, [t[0], n[0], t[1]], [files_out[1], json_out], False),
            ("mask_from_luminance", api.mask_from_luminance, [n[0], n[1], t[0]], [files_out[1], json_out], False),
            ("import_mask", api.import_mask, [file_in, t[0]], [files_out[1], json_out], False),
            ("refine", api.refine, [n[0], n[1], c[0], c[1], n[2]], [files_out[1], json_out], False),
            ("remove", api.remove, [t[0], n[0]], [*files_out, json_out], True),
            ("inpaint", api.inpaint, [t[0], t[1], t[2], *n[:5]], [*files_out, json_out], True),
            ("background", api.background, [t[0], t[1], t[2], n[0], file_in, t[3], t[4]], [*files_out, json_out], True),
            ("outpaint", api.outpaint, [*n[:4], t[0], t[1], t[2], n[4]], [*files_out, json_out], True),
            ("use_result", api.use_result, [], [json_out], False),
        ]
        for name, fn, inputs, outputs, on_gpu in endpoints:
            trigger = gr.Button(visible=False)
            trigger.click(
                fn,
                [session, *inputs],
                [session, *outputs],
                api_name=name,
                concurrency_id=GPU if on_gpu else None,
                concurrency_limit=1 if on_gpu else "default",
            )
