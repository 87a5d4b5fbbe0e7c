"""Background replacement: every mode, the subject stays exact, edges carry no old background."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fakes import PaintBlue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.edits import background as bg
from pipeline.edits.matting import estimate_foreground, refine_edge
from pipeline.errors import EmptyMask, InvalidInput, SizeMismatch
from pipeline.inpaint.classic import ClassicInpainter
from pipeline.inpaint.protocol import Prompting


def _modes(photo: np.ndarray) -> list[bg.Background]:
    return [
        bg.SolidColor((10, 200, 30)),
        bg.Gradient((255, 255, 255), (0, 0, 80), angle_deg=30),
        bg.BlurredOriginal(12),
        bg.ImageBackground(photo[::2, ::3].copy(), fit="cover"),
        bg.ImageBackground(photo[::2, ::3].copy(), fit="fit", pad_rgb=(1, 2, 3)),
        bg.PromptBackground(Prompting("a beach at dusk", seed=3)),
    ]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(feather=st.sampled_from([0.0, 3.0, 9.0]), shadow=st.booleans(), soft=st.booleans())
def test_subject_pixels_stay_exact_in_every_mode(photo: np.ndarray, disc_mask: np.ndarray, feather: float,
                                                 shadow: bool, soft: bool) -> None:  # fmt: skip
    subject = refine_edge(photo, disc_mask, band_px=3) if soft else disc_mask
    before = photo.copy()
    for mode in _modes(photo):
        result = bg.replace_background(
            photo, subject, mode, feather_px=feather, shadow=bg.Shadow() if shadow else None, inpainter=PaintBlue()
        )
        keep = subject == 1.0
        assert np.array_equal(result.image[keep], photo[keep]), type(mode).__name__
        assert result.image.shape == photo.shape and result.image.dtype == np.uint8
        assert np.array_equal(photo, before)


def test_each_mode_paints_the_background(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    far = (slice(0, 5), slice(0, 5))
    solid = bg.replace_background(photo, disc_mask, bg.SolidColor((10, 200, 30))).image
    assert (solid[far] == (10, 200, 30)).all()
    grad = bg.replace_background(photo, disc_mask, bg.Gradient((0, 0, 0), (255, 255, 255))).image
    assert grad[0, 0, 0] < 10 and grad[-1, 0, 0] > 245  # top to bottom
    blur = bg.replace_background(photo, disc_mask, bg.BlurredOriginal(10)).image
    outside = disc_mask == 0
    assert blur[outside].std() < photo[outside].std()
    # The blur does not drag the red subject into the backdrop.
    ring = np.zeros_like(disc_mask, bool)
    ring[48, 96:100] = True
    assert (blur[ring][:, 0].astype(int) - blur[ring][:, 1].astype(int)).max() < 25
    fitted = bg.replace_background(photo, disc_mask, bg.ImageBackground(photo[:10, :40].copy(), fit="fit",
                                                                        pad_rgb=(1, 2, 3))).image  # fmt: skip
    assert (fitted[0, 0] == (1, 2, 3)).all()


def test_prompt_mode_runs_the_engine_on_the_inverted_mask(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    engine = PaintBlue()
    result = bg.replace_background(photo, disc_mask, bg.PromptBackground(Prompting("sky")), inpainter=engine)
    assert result.engine == "fake"
    assert np.array_equal(engine.requests[0].mask, 1.0 - disc_mask)
    assert engine.requests[0].prompting.prompt == "sky"
    assert (result.image[disc_mask == 0] == (0, 0, 255)).all()
    assert np.array_equal(result.image[disc_mask == 1], photo[disc_mask == 1])
    with pytest.raises(InvalidInput, match="needs an inpainting engine"):
        bg.replace_background(photo, disc_mask, bg.PromptBackground(Prompting("sky")))
    classic = bg.replace_background(
        photo, disc_mask, bg.PromptBackground(Prompting("sky")), inpainter=ClassicInpainter()
    )
    assert classic.engine == "classic"


def test_feathered_edge_has_no_old_background_halo() -> None:
    # A blue subject on a bright yellow backdrop, with a soft, contaminated edge.
    h, w = 60, 80
    yy, xx = np.mgrid[0:h, 0:w]
    distance = np.hypot(xx - 40, yy - 30) - 18
    alpha = np.clip(0.5 - distance / 4, 0, 1).astype(np.float32)
    fg, old = np.array([20, 40, 220], float), np.array([250, 240, 0], float)
    image = np.clip(alpha[..., None] * fg + (1 - alpha[..., None]) * old + 0.5, 0, 255).astype(np.uint8)
    out = bg.replace_background(image, alpha, bg.SolidColor((0, 0, 0)), feather_px=4).image
    edge = (alpha > 0.05) & (alpha < 0.95)
    # Over black, any yellow left in the edge shows as red + green; the subject's blue has little.
    naive = alpha[..., None] * image
    assert out[edge][:, 1].astype(float).mean() < 0.5 * naive[edge][:, 1].mean()
    decontaminated = estimate_foreground(image, alpha)
    assert np.abs(decontaminated[edge].astype(float) - fg).mean() < 25


def test_shadow_darkens_only_the_background(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    white = bg.SolidColor((255, 255, 255))
    plain = bg.replace_background(photo, disc_mask, white).image
    for kind in ("drop", "contact"):
        shaded = bg.replace_background(photo, disc_mask, white, shadow=bg.Shadow(kind, angle_deg=90)).image
        assert shaded[disc_mask == 0].mean() < plain[disc_mask == 0].mean()
        assert np.array_equal(shaded[disc_mask == 1], photo[disc_mask == 1])
    with pytest.raises(InvalidInput):
        bg.Shadow(opacity=2.0)


def test_bad_input(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    with pytest.raises(EmptyMask, match="nothing selected"):
        bg.replace_background(photo, np.zeros_like(disc_mask), bg.SolidColor((0, 0, 0)))
    with pytest.raises(SizeMismatch):
        bg.replace_background(photo, np.ones((5, 5), np.float32), bg.SolidColor((0, 0, 0)))
    with pytest.raises(InvalidInput):
        bg.SolidColor((300, 0, 0))
    with pytest.raises(InvalidInput):
        bg.BlurredOriginal(0)
    with pytest.raises(InvalidInput):
        bg.PromptBackground(Prompting("  "))


def test_full_subject_mask_keeps_the_image(photo: np.ndarray) -> None:
    full = np.ones(photo.shape[:2], np.float32)
    assert np.array_equal(bg.replace_background(photo, full, bg.BlurredOriginal(5)).image, photo)


def test_refine_edge_softens_only_the_band(photo: np.ndarray, disc_mask: np.ndarray) -> None:
    soft = refine_edge(photo, disc_mask, band_px=4)
    assert soft.dtype == np.float32 and soft.shape == disc_mask.shape
    assert soft.min() >= 0.0 and soft.max() <= 1.0
    assert soft[48, 64] == 1.0 and soft[2, 2] == 0.0
    assert ((soft > 0) & (soft < 1)).any()
