"""Text-scale normalisation of line crops: the same function feeds training and inference."""

import random

import cv2
import numpy as np
import pytest

from docvlm.crops import (
    MIN_CONTRAST_TO,
    _component_heights,
    fit_line,
    glyph_target,
    median_glyph_height,
    model_line,
    straighten_line,
    stretch_contrast,
)
from docvlm.synth.lines import render_line
from tests.conftest import bent_line


@pytest.mark.parametrize("seed", range(6))
def test_fit_line_gives_the_trained_glyph_size_in_an_exact_band(seed):
    r = random.Random(seed)
    # held-out lines: training boxes may hold a neighbour's ink, which the measure counts
    crop = render_line(r, "Invoice 2024-03-15 total 1,234.50", "heldout", degrade_p=0.0)
    out = fit_line(crop.image, 32)
    assert out.shape[0] == 32 and out.shape[1] % 32 == 0 and out.dtype == np.uint8
    g = median_glyph_height(out)
    assert abs(g - glyph_target(32)) <= 0.2 * glyph_target(32) + 1
    ink_rows = np.nonzero((out < 128).any(axis=1))[0]
    assert ink_rows[0] >= 1 and ink_rows[-1] <= 30  # the whole line is inside the band


def test_fit_line_widen_scales_the_width_only():
    """``widen`` draws the line wider at the same glyph height (the reader's wider view)."""
    crop = render_line(random.Random(3), "TOTAL INCL. GST 12.50", "heldout", degrade_p=0.0)
    plain, wide = fit_line(crop.image, 32), fit_line(crop.image, 32, widen=1.25)
    assert wide.shape[0] == plain.shape[0] == 32

    def ink_width(img):
        cols = np.nonzero((img < 128).any(axis=0))[0]
        return cols[-1] - cols[0] + 1

    assert 1.2 < ink_width(wide) / ink_width(plain) < 1.3
    assert abs(median_glyph_height(wide) - median_glyph_height(plain)) <= 1


def test_model_line_draws_lines_as_wide_as_the_model_reads_them():
    """``tiling.line_widen`` widens every line a model reads (training tasks and reader
    alike go through ``model_line``); the reader's own ``widen`` multiplies it."""
    from dataclasses import replace

    from docvlm.model.config import DocVLMConfig

    tiling = DocVLMConfig.preset_named("small").tiling
    crop = render_line(random.Random(4), "KEDAI MAKAN 01/02/2018", "heldout", degrade_p=0.0)
    assert np.array_equal(model_line(crop.image, tiling), fit_line(crop.image, tiling.line_px))
    wide = replace(tiling, line_widen=1.4)

    def ink_width(img):
        cols = np.nonzero((img < 128).any(axis=0))[0]
        return cols[-1] - cols[0] + 1

    base = ink_width(fit_line(crop.image, tiling.line_px))
    assert 1.35 < ink_width(model_line(crop.image, wide)) / base < 1.45
    assert 1.7 < ink_width(model_line(crop.image, wide, widen=1.25)) / base < 1.8
    assert model_line(crop.image, wide).shape[0] == tiling.line_px


def test_fit_line_on_blank_and_tiny_input():
    blank = np.full((20, 50), 250, np.uint8)
    out = fit_line(blank, 32)
    assert out.shape == (32, 32 * (-(-round(50 * 32 / 20) // 32))) and (out == 250).all()
    assert fit_line(np.zeros((1, 1), np.uint8), 32).shape == (32, 32)


def _broken(img: np.ndarray, pitch: int, gap: int) -> np.ndarray:
    """Every ``pitch``-th band of ``gap`` rows printed blank: a thermal head's dead rows."""
    out = img.copy()
    for y in range(0, img.shape[0], pitch):
        out[y : y + gap] = 255
    return out


@pytest.mark.parametrize("seed", range(4))
def test_glyph_height_of_print_broken_into_pieces_is_the_whole_glyphs(seed):
    r = random.Random(seed)
    crop = render_line(r, "LOT 1851-A JALAN KPB 6 TOTAL 12.50", degrade_p=0.0)
    g = median_glyph_height(crop.image)
    pitch = max(3, round(g / 3))
    broken = _broken(crop.image, pitch, max(1, pitch // 3))
    assert abs(median_glyph_height(broken) - g) <= 0.25 * g + 1
    # the pieces alone are far smaller: the joining is what measures the glyphs
    _, bw = cv2.threshold(broken, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    assert _component_heights(bw, broken.shape[0])[0] < 0.7 * g


def test_faint_ink_is_darkened_and_strong_ink_and_blank_paper_are_left_alone():
    crop = render_line(random.Random(3), "Qty(s) : 2 TOTAL INCL. GST@6%", degrade_p=0.0)
    assert stretch_contrast(crop.image) is crop.image  # black on white: unchanged
    faint = (200 + crop.image.astype(np.float32) * (40 / 255)).astype(np.uint8)  # ink 200

    out = fit_line(faint, 32)
    paper = np.percentile(out, 90)
    assert paper >= 235 and paper - out.min() >= MIN_CONTRAST_TO - 10
    rng = np.random.default_rng(0)
    grain = np.clip(235 + rng.normal(0, 3, (40, 200)), 0, 255).astype(np.uint8)
    assert stretch_contrast(grain) is grain


def _centre_rows(gray: np.ndarray, step: int) -> np.ndarray:
    """The ink's mean row in windows ``step`` pixels wide (windows with ink)."""
    ink = gray < 128
    rows = np.arange(gray.shape[0])[:, None]
    out = []
    for x in range(0, gray.shape[1] - step, step):
        w = ink[:, x : x + step]
        if w.sum() > step:
            out.append((w * rows).sum() / w.sum())
    return np.array(out)


@pytest.mark.parametrize("bend", [1.0, 2.5])
def test_curved_lines_are_straightened_and_straight_ones_left_alone(bend):
    text = "Thank you for your claim dated 18 September 2026 regarding policy"
    curved = bent_line(text, bend)
    g = median_glyph_height(curved)
    before = _centre_rows(curved, int(3 * g))
    out = straighten_line(curved)
    assert out.shape == curved.shape and out.dtype == np.uint8
    after = _centre_rows(out, int(3 * g))
    assert np.ptp(before) > 0.8 * bend * g  # the ends rise
    assert np.ptp(after) < 0.35 * g  # level now
    straight = bent_line(text, 0.0)
    assert straighten_line(straight) is straight
    r = random.Random(4)  # rendered training lines: nearly all left as they are
    lines = [render_line(r, "Invoice 2024-03-15 total 1,234.50").image for _ in range(40)]
    assert sum(straighten_line(im) is not im for im in lines) <= 2
