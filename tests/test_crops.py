"""Text-scale normalisation of line crops: the same function feeds training and inference."""

import random

import numpy as np
import pytest

from docvlm.crops import fit_line, glyph_target, median_glyph_height
from docvlm.synth.lines import render_line


@pytest.mark.parametrize("seed", range(6))
def test_fit_line_gives_the_trained_glyph_size_in_an_exact_band(seed):
    r = random.Random(seed)
    crop = render_line(r, "Invoice 2024-03-15 total 1,234.50", degrade_p=0.0)
    out = fit_line(crop.image, 32)
    assert out.shape[0] == 32 and out.shape[1] % 32 == 0 and out.dtype == np.uint8
    g = median_glyph_height(out)
    assert abs(g - glyph_target(32)) <= 0.2 * glyph_target(32) + 1
    ink_rows = np.nonzero((out < 128).any(axis=1))[0]
    assert ink_rows[0] >= 1 and ink_rows[-1] <= 30  # the whole line is inside the band


def test_fit_line_on_blank_and_tiny_input():
    blank = np.full((20, 50), 250, np.uint8)
    out = fit_line(blank, 32)
    assert out.shape == (32, 32 * (-(-round(50 * 32 / 20) // 32))) and (out == 250).all()
    assert fit_line(np.zeros((1, 1), np.uint8), 32).shape == (32, 32)
