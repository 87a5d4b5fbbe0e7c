"""Per-browser-session state: a frozen ``Session`` kept in ``gr.State`` and replaced, never mutated.

A session is a notebook being written: the ``Photo``, the mask steps made on it so far (recipe
steps, ``pipeline.recipe``), the current mask, the live ``Refine`` and a bounded ``history`` of
finished edits. Images are full resolution (``(H, W, 3)`` uint8 RGB), masks ``(H, W)`` float32
at the photo's size; the page shows a copy scaled by ``Photo.scale`` (<= 1).

The last mask step stays *open* while the user keeps working with the same source and combine
mode (more clicks, another tolerance): it is redone on ``base``, the mask before it. Another
source or another combine mode starts a new step, so each step owns its clicks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from pipeline.recipe import ColorRange, MaskStep, Recipe, Refine, StoredMask, TextPrompt
from pipeline.recipe.mask_sources import ClickChain
from pipeline.select.protocol import Candidate, Prepared
from pipeline.types import Image, Mask

FULL_SIZE_CELLS = 3
"""History cells that keep their full-size pictures in memory; older ones live in the session folder."""

MAX_CELLS = 24
"""History cells kept at all; the oldest is forgotten (with its files) when a new one comes."""


@dataclass(frozen=True, eq=False)
class Photo:
    """The picture being edited, its display copy and what is known about it.

    ``origin`` is the recipe that made this photo from an uploaded one (empty for an upload, a
    history cell's recipe for "use result as input"); ``alpha`` its own transparency, if any.
    """

    image: Image
    name: str
    display: Image
    scale: float
    prepared: Future[Prepared] | None = None
    alpha: Mask | None = None
    origin: Recipe = Recipe()

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, eq=False)
class Pictures:
    """A history cell's full-size pictures: the edit's input, its raw mask (before refine), the mask
    before the last mask step (``base``, to keep redoing that step after a restore) and the result.

    ``result`` is None in memory when the cell's result download is lossless (PNG, WebP): it is read
    back from there (a 12 MP result is 36 MB that would otherwise sit in every recent cell).
    """

    image: Image
    mask: Mask
    base: Mask | None
    result: Image | None


@dataclass(frozen=True, eq=False)
class Cell:
    """One finished edit: its full recipe, what the page shows of it and where its pictures are.

    ``pictures`` is None once the cell is older than ``FULL_SIZE_CELLS``: then the input and the
    raw mask are read back from ``folder / "pictures.npz"`` and the result from its download
    (``downloads[0]``) when that is a lossless PNG, else from the npz too. ``downloads`` are the
    files offered in step 5.
    """

    index: int
    recipe: Recipe
    photo_name: str
    caption: str
    engine: str
    thumbnail: Image
    preview: tuple[Image, Image]
    folder: Path
    downloads: tuple[str, ...]
    pictures: Pictures | None = None

    def load_pictures(self) -> Pictures:
        """The full-size pictures, from memory or from the cell's folder (``result`` always set)."""
        from pipeline.io.images import load_image

        pictures = self.pictures
        if pictures is None:
            with np.load(self.folder / "pictures.npz") as data:
                pictures = Pictures(data["image"], data["mask"], data.get("base"), data.get("result"))
        if pictures.result is None:
            pictures = replace(pictures, result=load_image(self.downloads[0]).rgb)
        return pictures

    def spilled(self) -> Cell:
        """This cell with its pictures written (compressed) to its folder and dropped from memory."""
        if self.pictures is None:
            return self
        kept = {"image": self.pictures.image, "mask": self.pictures.mask}
        if self.pictures.base is not None:
            kept["base"] = self.pictures.base
        if self.pictures.result is not None:  # a JPEG download is lossy: keep the exact one
            kept["result"] = self.pictures.result
        np.savez_compressed(self.folder / "pictures.npz", **kept)
        return replace(self, pictures=None)


@dataclass(frozen=True, eq=False)
class FoundText:
    """What SAM 3 found for ``text`` at ``threshold`` on the session's photo, kept so that picking
    other instances does not run the model again. Masks are bit-packed (``(N, ceil(H*W/8))``
    uint8): 16 instances of a 12 MP photo take 24 MB."""

    text: str
    threshold: float
    scores: tuple[float, ...]
    packed: np.ndarray
    shape: tuple[int, int]

    @staticmethod
    def pack(text: str, threshold: float, found: Sequence[Candidate]) -> FoundText:
        shape = found[0].mask.shape if found else (0, 0)
        packed = np.stack([np.packbits(c.mask.ravel() >= 0.5) for c in found]) if found else np.zeros((0, 0), np.uint8)
        return FoundText(text, threshold, tuple(c.score for c in found), packed, shape)  # type: ignore[arg-type]

    def candidates(self) -> tuple[Candidate, ...]:
        size = self.shape[0] * self.shape[1]
        return tuple(
            Candidate(np.unpackbits(row, count=size).reshape(self.shape).astype(np.float32), score)
            for row, score in zip(self.packed, self.scores, strict=True)
        )


@dataclass(frozen=True, eq=False)
class Session:
    """Everything one browser tab (or one API client) is working on; see the module docstring.

    ``chain`` is the click selection of the last ``Clicks`` step and ``chain_before`` the one
    before its last point (to re-pick a candidate without redoing every click); their full-size
    candidates are dropped, and ``candidates`` keeps display-size copies with their scores.
    ``click_backend`` is the click selector this tab chose ("auto": the app's; see ``Services.selector_for``).
    ``base`` is the mask before the last step; None after the first step means it is not known
    (see ``ui.notebook.last_step``), and the next step starts a new one.
    """

    photo: Photo | None = None
    steps: tuple[MaskStep, ...] = ()
    base: Mask | None = None
    mask: Mask | None = None
    chain: ClickChain | None = None
    chain_before: ClickChain | None = None
    candidates: tuple[tuple[Mask, float], ...] = ()
    text_found: FoundText | None = None
    click_backend: str = "auto"
    corner: tuple[float, float] | None = None
    zoom: float = 1.0
    centre: tuple[float, float] | None = None
    refine: Refine = Refine()
    result: Image | None = None
    shown_cell: int | None = None
    history: tuple[Cell, ...] = ()
    folder: Path | None = field(default=None)

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the photo; (0, 0) without one."""
        return (0, 0) if self.photo is None else self.photo.size

    @cached_property
    def display_mask(self) -> Mask | None:
        """The current mask at display size, computed once per state (None without a mask)."""
        if self.photo is None or self.mask is None:
            return None
        from ui.display import mask_to_display

        return mask_to_display(self.mask, self.photo.display.shape)

    def with_refine(self, refine: Refine) -> Session:
        """A copy with ``refine`` set; the mask is the same, so its display-size copy is kept."""
        updated = replace(self, refine=refine)
        if "display_mask" in self.__dict__:
            updated.__dict__["display_mask"] = self.__dict__["display_mask"]
        return updated

    def current_mask(self) -> Mask:
        """The raw current mask, an empty one when nothing is selected yet."""
        if self.mask is not None:
            return self.mask
        width, height = self.size
        return np.zeros((height, width), dtype=np.float32)

    def recipe(self) -> Recipe:
        """The notebook so far: how the photo was made, its mask steps and the refinement."""
        origin = self.photo.origin if self.photo is not None else Recipe()
        refine = () if self.refine.is_identity else (self.refine,)
        return origin.then(*self.steps, *refine)

    def cell(self, index: int) -> Cell:
        for cell in self.history:
            if cell.index == index:
                return cell
        raise LookupError(index)

    def with_cell(self, cell: Cell, result: Image) -> Session:
        """Add ``cell`` (whose result is ``result``) to the history and show it: older cells spill their
        pictures, the oldest is forgotten."""
        kept = (*self.history, cell)
        forgotten = kept[:-MAX_CELLS]
        kept = kept[-MAX_CELLS:]
        for old in forgotten:
            shutil.rmtree(old.folder, ignore_errors=True)
        kept = tuple(c.spilled() if i < len(kept) - FULL_SIZE_CELLS else c for i, c in enumerate(kept))
        return replace(self, history=kept, result=result, shown_cell=cell.index)


def is_open(last: MaskStep | None, step: MaskStep) -> bool:
    """Whether ``step`` continues ``last`` (same source, same combine mode) instead of starting a new one.

    A colour range continues only with the same colour (another tolerance); another colour is another
    source. Of stored masks only the sketch continues (the sketch is painted on, then applied again);
    each imported file is a step of its own.
    """
    if last is None or type(last) is not type(step) or last.combine != step.combine:
        return False
    if isinstance(step, ColorRange):
        return step.color == last.color  # type: ignore[union-attr]
    if isinstance(step, StoredMask):
        return step.origin == last.origin == "sketch"  # type: ignore[union-attr]
    if isinstance(step, TextPrompt):
        return step.text == last.text  # type: ignore[union-attr]  # other instances of the same name
    return True


def forget(session: Session) -> None:
    """Free what a session holds outside memory (its folder); ``gr.State``'s delete callback.

    The copies Gradio's cache holds of the session's files go too (``drop_served_copies``).
    Gradio drops its reference to the session just after this returns, so the heap is handed
    back to the system a moment later (``trim_heap_soon``): without that glibc keeps the freed
    pages, and the server's memory would not show that the session is gone.
    """
    if isinstance(session, Session) and session.folder is not None:
        drop_served_copies(session.folder)
        shutil.rmtree(session.folder, ignore_errors=True)
    trim_heap_soon()


def drop_served_copies(folder: Path) -> None:
    """Delete the copies Gradio made in its cache of the files this session was sent.

    Gradio serves a returned file from a copy at ``CACHE/sha256(seed + content)/name`` that its
    own sweep (``delete_cache``) removes only hours later; a session's downloads would otherwise
    outlive it there. (Two sessions that made byte-identical files share one copy.)
    """
    from gradio.processing_utils import hash_file
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder())
    for path in folder.rglob("*"):
        if path.is_file():
            try:
                copy = cache / hash_file(path) / path.name
                copy.unlink(missing_ok=True)
                copy.parent.rmdir()
            except OSError:
                continue


_trim_lock = threading.Lock()
_trim_timer: threading.Timer | None = None
TRIM_DELAY_S = 1.0


def trim_heap_soon() -> None:
    """Return freed heap memory to the system in ``TRIM_DELAY_S`` (one trim for a burst of calls)."""
    global _trim_timer
    with _trim_lock:
        if _trim_timer is None or not _trim_timer.is_alive():
            _trim_timer = threading.Timer(TRIM_DELAY_S, trim_heap)
            _trim_timer.daemon = True
            _trim_timer.start()


def trim_heap() -> bool:
    """``malloc_trim(0)``: give the pages glibc keeps after ``free`` back to the system (False off glibc)."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False
