"""Removal benchmark that can tell a smear from texture: PSNR, SSIM and a texture ratio.

    flock -x /tmp/stencil-bench.lock python3 -m bench.removal                 # quality + 12 MP timing
    flock -x /tmp/stencil-bench.lock python3 -m bench.removal --skip-12mp     # quality only
    python3 -m bench.removal --crops docs/removal                             # also save side-by-side crops
    python3 -m bench.removal --skip-12mp --half tune                          # explore on the tune half only
    python3 -m bench.removal --lama PATH                                      # add a big-lama TorchScript file

Cases, all on real photos from ``../shared/datasets/photos`` (skipped with a message when absent):

- **pasted**: an object silhouette (an alphamatting true alpha >= 0.5) pasted in flat green on a
  real photo; the truth is the photo before pasting.
- **holes**: the latent-diffusion inpainting samples' own mask shapes (>= 0.5), moved off the
  object they were drawn around (``moved_hole``: the nearest shift that keeps the shape 12 px
  clear of every masked pixel, shrunk by 0.8 steps when it fits nowhere); the truth is the photo
  itself. Each mask covers a person, a dog or a tree, so the photo *inside* the original mask is
  that object, not background: scoring a removal there rewards a smear in the object's colours
  over a bench rebuilt behind it. ``--object-holes`` keeps the original masks (the definition
  used before; its figures are not a removal score).

Cases alternate between a *tune* half and a *held-out* half (even and odd case numbers); settings
are chosen on the tune half only and the held-out half is the headline. Scores inside the hole:

- PSNR (dB) against the truth;
- SSIM: the mean of the local SSIM map (grey levels, Gaussian window sigma 1.5) over hole pixels;
- texture ratio: RMS gradient magnitude (Sobel, grey) of the result over the truth's, inside the
  hole shrunk by 3 px (so a seam at the rim does not count as texture). 1.0 = as much texture as
  the true background; a smooth smear scores about 0.3.
- median texture ratio: the same with the median gradient magnitude instead of the RMS. A smear
  with a few strong edges can meet the RMS ratio (the squares of a few edges outweigh a smooth
  rest); it cannot meet this one.

Every method runs on the same holes in the same process: cv2 Telea and NS (radius 5, whole
photo), the old smooth classical engine, the exemplar engine, and with ``--contrib PATH`` (a folder
holding opencv-contrib-python-headless, e.g. from ``pip install --target``) OpenCV's xphoto
shift-map and FSR-fast inpainting.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds a select.py that would shadow the standard library's select module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.removal_cases import DATASETS, Case, cases, paste, read_rgb, silhouette  # noqa: E402 - after the path fix

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(image uint8 RGB, hole bool) -> filled image``."""


def psnr(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    error = np.mean((result[hole].astype(np.float64) - truth[hole].astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(error, 1e-9)))


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)


def ssim_in(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean local SSIM (Wang et al. 2004 constants, Gaussian sigma 1.5) over the hole's pixels."""
    import cv2

    x, y = _grey(result), _grey(truth)
    blur = lambda a: cv2.GaussianBlur(a, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ssim = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(ssim[hole].mean())


def _gradients_inside(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitudes (grey) at the pixels of ``hole`` shrunk by 3 px."""
    import cv2

    inner = cv2.erode(hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    if not inner.any():
        inner = hole
    grey = _grey(image)
    gx, gy = cv2.Sobel(grey, cv2.CV_64F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_64F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)[inner]


def texture_ratio(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """RMS gradient magnitude inside the hole (shrunk by 3 px): result over truth."""
    rms = lambda image: float(np.sqrt(np.mean(_gradients_inside(image, hole) ** 2)))  # noqa: E731
    return rms(result) / max(rms(truth), 1e-9)


def median_texture_ratio(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Median gradient magnitude inside the hole (shrunk by 3 px): result over truth. The RMS
    ratio can be met by a smear with a few strong edges (the squares of a few edges outweigh
    a smooth rest); the median says whether the typical pixel has texture."""
    median = lambda image: float(np.median(_gradients_inside(image, hole)))  # noqa: E731
    return median(result) / max(median(truth), 1e-9)


def methods(contrib: bool, lama: Path | None) -> dict[str, Method]:
    import cv2

    from pipeline.edits.remove import remove
    from pipeline.inpaint.classic import ClassicInpainter
    from pipeline.inpaint.exemplar import ExemplarInpainter

    def engine(inpainter) -> Method:
        return lambda image, hole: remove(image, hole.astype(np.float32), inpainter, grow_px=0).image

    table: dict[str, Method] = {
        "telea": lambda image, hole: cv2.inpaint(image, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA),
        "ns": lambda image, hole: cv2.inpaint(image, hole.astype(np.uint8), 5, cv2.INPAINT_NS),
        "smooth (old)": engine(ClassicInpainter()),
        "exemplar": engine(ExemplarInpainter()),
        # The rim join with s12's choice of sources (near sources preferred less, reuse free).
        "exemplar, s12 sources": engine(ExemplarInpainter(near_grey=20.0, reuse_grey=0.0)),
        "exemplar, no rim join": engine(
            ExemplarInpainter(join_px=0.0, near_grey=20.0, reuse_grey=0.0)
        ),  # s12's default
        # The settings before guided sources, weighted votes and the detail gain (patch 7).
        "exemplar, first settings": engine(
            ExemplarInpainter(patch_px=7, guide_weight=0.0, vote_sharpness=0.0, detail_gain=1.0, join_px=0.0,
                              near_grey=20.0, reuse_grey=0.0)  # fmt: skip
        ),
    }
    if contrib:
        table["xphoto shiftmap"] = lambda image, hole: _xphoto(image, hole, cv2.xphoto.INPAINT_SHIFTMAP)
        table["xphoto fsr-fast"] = lambda image, hole: _xphoto(image, hole, cv2.xphoto.INPAINT_FSR_FAST)
    if lama is not None:
        from pipeline.inpaint.lama import load_lama

        table["lama"] = engine(load_lama(lama, device="cpu"))
    return table


def _xphoto(image: np.ndarray, hole: np.ndarray, algorithm: int) -> np.ndarray:
    import cv2

    known = np.where(hole, 0, 255).astype(np.uint8)  # xphoto: non-zero = known pixel
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    out = np.zeros_like(bgr)
    cv2.xphoto.inpaint(bgr, known, out, algorithm)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def quality(table: dict[str, Method], crops: Path | None, *, object_holes: bool = False, half: str = "all") -> None:
    rows: dict[str, list[tuple[str, float, float, float, float, float]]] = {name: [] for name in table}
    print("| case | half | hole | " + " | ".join(f"{n} PSNR / SSIM / tex / median tex / s" for n in table) + " |")
    print("|---|---|---|" + "---|" * len(table))
    for index, case in enumerate(cases(object_holes=object_holes)):
        if half not in ("all", case.half):
            continue
        cells, results = [], {}
        for name, method in table.items():
            start = time.perf_counter()
            result = method(case.image, case.hole)
            seconds = time.perf_counter() - start
            assert np.array_equal(result[~case.hole], case.image[~case.hole]) or name.startswith("xphoto"), name
            scores = (psnr(result, case.truth, case.hole), ssim_in(result, case.truth, case.hole),
                      texture_ratio(result, case.truth, case.hole), median_texture_ratio(result, case.truth, case.hole),
                      seconds)  # fmt: skip
            rows[name].append((case.half, *scores))
            results[name] = result
            cells.append(f"{scores[0]:.2f} / {scores[1]:.3f} / {scores[2]:.2f} / {scores[3]:.2f} / {scores[4]:.2f}")
        print(f"| {case.name} | {case.half} | {100 * case.hole.mean():.0f}% | " + " | ".join(cells) + " |", flush=True)
        if crops is not None and index in (1, 3, 5, 11):
            save_crop(crops, case, results)
    for summary in ("held-out", "tune", "all") if half == "all" else (half,):
        print(f"\n**mean, {summary}** ({sum(1 for r in rows['telea'] if summary in ('all', r[0]))} cases)\n")
        print("| method | PSNR dB | SSIM | texture | median texture | s |\n|---|---|---|---|---|---|")
        for name, values in rows.items():
            picked = np.array([v[1:] for v in values if summary in ("all", v[0])])
            mean = picked.mean(axis=0)
            print(f"| {name} | {mean[0]:.2f} | {mean[1]:.3f} | {mean[2]:.2f} | {mean[3]:.2f} | {mean[4]:.2f} |")


def save_crop(folder: Path, case: Case, results: dict[str, np.ndarray]) -> None:
    """One small JPEG: the hole's box (with context) in the input, the truth and each method."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    ys, xs = np.nonzero(case.hole)
    pad = int(0.3 * max(np.ptp(ys), np.ptp(xs)))
    h, w = case.hole.shape
    window = (
        slice(max(0, ys.min() - pad), min(h, ys.max() + pad)),
        slice(max(0, xs.min() - pad), min(w, xs.max() + pad)),
    )
    shown = ("telea", "ns", "exemplar, first settings", "exemplar", "lama")
    names = ["input", "truth", *(n for n in shown if n in results)]
    panels = [case.image, case.truth, *(results[n] for n in names[2:])]
    tiles = []
    for label, panel in zip(names, panels, strict=True):
        tile = np.ascontiguousarray(panel[window])
        scale = 240 / tile.shape[0]
        tile = cv2.resize(tile, (max(1, int(tile.shape[1] * scale)), 240), interpolation=cv2.INTER_AREA)
        cv2.putText(
            tile,
            label.replace("exemplar, first settings", "exemplar v1"),
            (6, 18),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.55,
            (255, 255, 255),
            2,
            cv2.LINE_AA,
        )
        tiles.append(tile)
    strip = np.concatenate(tiles, axis=1)
    slug = case.name.replace(" ", "-").replace("/", "-")
    cv2.imwrite(str(folder / f"{slug}.jpg"), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])


def timing_12mp(table: dict[str, Method]) -> None:
    """A 4000x3000 upscaled HOPE scene with a 5% and a 15% hole; the exemplar fill (median of 3),
    the same without the rim join and its first settings beside Telea, in the same process."""
    import cv2

    photo = read_rgb(DATASETS / "photos" / "hope-image-preview/scene_0001/0000_rgb.jpg")[:, 240:1680]
    truth = cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    columns = ["12 MP hole", "exemplar s (median of 3)", "no rim join s", "first settings s", "Telea s"]
    print("\n| " + " | ".join([*columns, "exemplar PSNR / tex", "Telea PSNR / tex"]) + " |")
    print("|---|---|---|---|---|---|---|")
    for share in (0.05, 0.15):
        unit = silhouette("GT04", 1000)  # its area grows with the square of its height
        height = int(1000 * np.sqrt(share * truth.shape[0] * truth.shape[1] / unit.sum()))
        image, hole = paste(truth, silhouette("GT04", min(2950, height)), (0.5, 0.5))
        seconds: dict[str, float] = {}
        results: dict[str, np.ndarray] = {}
        for name in ("exemplar", "exemplar, no rim join", "exemplar, first settings"):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                results[name] = table[name](image, hole)
                times.append(time.perf_counter() - start)
            seconds[name] = statistics.median(times)
        start = time.perf_counter()
        telea = table["telea"](image, hole)
        telea_s = time.perf_counter() - start
        ours = results["exemplar"]
        print(f"| {100 * hole.mean():.1f}% | {seconds['exemplar']:.2f} | {seconds['exemplar, no rim join']:.2f} | "
              f"{seconds['exemplar, first settings']:.2f} | "
              f"{telea_s:.2f} | {psnr(ours, truth, hole):.2f} / {texture_ratio(ours, truth, hole):.2f} | "
              f"{psnr(telea, truth, hole):.2f} / {texture_ratio(telea, truth, hole):.2f} |", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-12mp", action="store_true", help="leave out the 12 MP timing")
    parser.add_argument("--only-12mp", action="store_true", help="only the 12 MP timing")
    parser.add_argument("--contrib", type=Path, default=None, help="folder with opencv-contrib-python-headless")
    parser.add_argument("--lama", type=Path, default=None, help="a big-lama TorchScript file to compare")
    parser.add_argument(
        "--object-holes",
        action="store_true",
        help="the inpainting samples' masks where drawn (over the object: not a removal score)",
    )
    parser.add_argument("--crops", type=Path, default=None, help="save side-by-side JPEG crops in this folder")
    parser.add_argument(
        "--half",
        choices=("all", "tune", "held-out"),
        default="all",
        help="score only this half of the cases (explore settings on 'tune'; 'held-out' is the headline)",
    )
    args = parser.parse_args()
    if not DATASETS.is_dir():
        print(f"skipped: {DATASETS} is absent (the benchmark needs the shared datasets)")
        return 0
    if args.contrib is not None:
        sys.path.insert(0, str(args.contrib.resolve()))
    import cv2

    cv2.setNumThreads(2)
    print(f"cv2 {cv2.__version__} ({cv2.__file__}), {cv2.getNumThreads()} threads")
    table = methods(args.contrib is not None, args.lama)
    if not args.only_12mp:
        quality(table, args.crops, object_holes=args.object_holes, half=args.half)
    if not args.skip_12mp:
        timing_12mp(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
