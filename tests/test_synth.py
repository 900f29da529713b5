"""Synthetic documents: determinism, truth consistency, held-out split."""

import random
import re

import numpy as np
import pymupdf
import pytest

from docvlm.synth import fonts
from docvlm.synth import lines as synth_lines
from docvlm.synth.degrade import degrade
from docvlm.synth.lines import (
    CHARSET,
    bitmap_font,
    broken_strokes,
    dot_matrix,
    line_text,
    patchy_ink,
    render_line,
    training_text,
)
from docvlm.synth.pages import HELDOUT_SEED_BASE, KINDS, N_VARIANTS, make_page


@pytest.mark.parametrize("kind", KINDS)
def test_pages_are_deterministic_and_truth_matches_the_pdf(kind):
    a, b = make_page(5, kind), make_page(5, kind)
    assert a.pdf == b.pdf and [g.text for g in a.regions] == [g.text for g in b.regions]
    assert a.regions and a.split == "train" and a.variant < N_VARIANTS - 1
    doc = pymupdf.open("pdf", a.pdf)
    words = doc[0].get_text("words")
    # every truth word is found by MuPDF at (nearly) the same place
    truth = [w for g in a.regions for ln in g.lines for w in ln.words]
    assert len(truth) == len(words)
    for w in truth:
        x0, y0, x1, y1 = w.box
        hits = [m for m in words if m[4] == w.text and abs(m[0] - x0) < 1.5
                and abs(m[2] - x1) < 1.5 and m[1] >= y0 - 2 and m[3] <= y1 + 2]
        assert hits, (kind, w.text, w.box)
    for g in a.regions:
        x0, y0, x1, y1 = g.box
        assert 0 <= x0 < x1 <= a.width + 1 and 0 <= y0 < y1 <= a.height + 1


def test_tables_and_key_values_have_truth():
    inv = make_page(3, "invoice")
    tables = [g.table for g in inv.regions if g.table is not None]
    assert len(tables) == 1 and tables[0].n_cols == 4
    assert [kv.key for kv in inv.kv][:3] == ["Invoice no", "Date", "Due date"]
    form = make_page(4, "form")
    assert any(isinstance(kv.value, bool) for kv in form.kv)  # checkboxes


def test_heldout_split_uses_unseen_fonts_and_template():
    train_fams = {make_page(s).family for s in range(40)}
    held = [make_page(HELDOUT_SEED_BASE + s) for s in range(12)]
    assert train_fams.isdisjoint(fonts.HELD_OUT_FAMILIES)
    assert all(p.split == "heldout" and p.variant == N_VARIANTS - 1 for p in held)
    assert {p.family for p in held} <= fonts.HELD_OUT_FAMILIES


def test_lines_and_degradations_are_deterministic():
    a = render_line(random.Random(3), line_text(random.Random(3)))
    b = render_line(random.Random(3), line_text(random.Random(3)))
    np.testing.assert_array_equal(a.image, b.image)
    img = np.full((60, 200), 255, np.uint8)
    img[20:40, 20:180] = 0
    out, steps = degrade(img, random.Random(1), strength=1.0)
    assert out.shape == img.shape and out.dtype == np.uint8 and steps
    assert not np.array_equal(out, img)
    same, none = degrade(img, random.Random(1), strength=0.0)
    assert same is img and none == []


def test_training_lines_draw_more_variety_than_the_heldout_split():
    r = random.Random(11)
    train = [render_line(r, training_text(r), "train") for _ in range(300)]
    fams = {c.family for c in train}
    system = {f.name for f in fonts.SYSTEM_FAMILIES if f.available()}
    assert system, "scripts/setup.sh installs the system font packages"
    assert fams & system and not fams & fonts.HELD_OUT_FAMILIES
    steps = {s for c in train for s in c.degradations}
    assert {"stretch", "heavy", "threshold", "soft", "edges"} <= steps
    upper = sum(c.text.isupper() for c in train) / len(train)
    assert 0.15 < upper < 0.45  # a quarter forced upper case, plus codes that are already
    r = random.Random(11)
    held = [render_line(r, line_text(r), "heldout") for _ in range(100)]
    assert {c.family for c in held} <= fonts.HELD_OUT_FAMILIES
    assert not {s for c in held for s in c.degradations} & {"stretch", "heavy", "thin",
                                                             "dots", "threshold", "soft",
                                                             "edges"}


def _edge_ink(img: np.ndarray) -> bool:
    """Ink in the top or bottom tenth of the crop's rows."""
    k = max(1, img.shape[0] // 10)
    return bool((img[:k] < 128).any() or (img[-k:] < 128).any())


def test_training_boxes_cut_tight_or_hold_a_neighbours_ink(monkeypatch):
    text = "TOTAL RM 12.50"
    monkeypatch.setattr(synth_lines, "PIXEL_P", 0.0)  # bitmap-font lines are never cut so
    plain = [render_line(random.Random(s), text, "train", degrade_p=0) for s in range(120)]
    monkeypatch.setattr(synth_lines, "EDGE_P", 1.0)
    cut = [render_line(random.Random(s), text, "train", degrade_p=0) for s in range(120)]
    assert all("edges" in c.degradations for c in cut)
    assert all(c.text == text for c in cut)  # the neighbours' ink is not in the truth
    edge_plain = sum(_edge_ink(c.image) for c in plain if "edges" not in c.degradations)
    assert sum(_edge_ink(c.image) for c in cut) >= 30 > edge_plain + 20  # 40 and 2 seen
    # the held-out split draws exactly what it drew before
    held = render_line(random.Random(5), text, "heldout")
    monkeypatch.setattr(synth_lines, "EDGE_P", 0.0)
    np.testing.assert_array_equal(held.image, render_line(random.Random(5), text,
                                                          "heldout").image)


def test_receipt_lines_are_upper_case_till_text_in_receipt_print_styles():
    r = random.Random(5)
    lines = [render_line(r, training_text(r, receipt=True), "train", receipt=True)
             for _ in range(200)]
    upper = sum(c.text.isupper() for c in lines) / len(lines)
    assert upper > 0.6
    mono = {f.name for f in fonts.families("train", True) if f.mono}
    assert sum(c.family in mono or c.family.startswith("pixel:")  # (bitmap fonts are)
               for c in lines) > 0.5 * len(lines)
    steps = {s for c in lines for s in c.degradations}
    assert {"broken", "faint", "dots", "bitmap", "patchy", "stretch"} <= steps
    assert not any({"patchy", "faint"} <= set(c.degradations) for c in lines)
    # the till's line kinds: article numbers, clock times, registration numbers, footers
    texts = [c.text for c in lines]
    assert any(re.search(r"\b\d{13}\b", t) for t in texts)
    assert any(re.search(r"\b\d{1,2}:\d{2}(:\d{2})?\b", t) for t in texts)
    assert any(re.search(r"\(\d+-[A-Z]\)|NO: \d{12}", t) for t in texts)
    # dates as tills print them (day/month/year, slashes) and numbered roads ('SS 21/39')
    assert sum(bool(re.search(r"\b\d{2}/\d{2}/(\d{2}|\d{4})\b", t)) for t in texts) >= 8
    assert any(re.search(r"JALAN [A-Z0-9]+ \d+/\d+", t) for t in texts)
    for c in lines:  # glyph_px is the clean render's, whatever the print style made of it
        assert c.glyph_px is None or c.glyph_px >= 3
    # the held-out split ignores the flag: it draws what it always drew
    a = render_line(random.Random(9), "TOTAL 12.50", "heldout", receipt=True)
    b = render_line(random.Random(9), "TOTAL 12.50", "heldout")
    np.testing.assert_array_equal(a.image, b.image)


def test_patchy_ink_fades_in_and_out_along_the_line_but_never_vanishes():
    img = np.full((30, 600), 255, np.uint8)
    img[8:22, 10:590] = 0
    for seed in range(20):
        out = patchy_ink(img, random.Random(seed))
        ink = (255 - out[8:22, 10:590].astype(np.float32)).mean(axis=0) / 255
        assert ink.min() >= 0.25 - 1e-3 and ink.max() <= 1.0  # a quarter of the ink at least
        assert ink.max() - ink.min() > 0.05  # stronger in places than in others
        assert (out[:8] == 255).all()  # paper stays paper


def test_broken_strokes_blank_thin_bands_across_the_ink():
    img = np.full((60, 300), 255, np.uint8)
    img[10:50, 20:280] = 0
    out = broken_strokes(img, random.Random(2), glyph=40.0)
    rows = (out[10:50, 20:280] < 128).mean(axis=1)
    assert (rows == 1).sum() >= 20 and (rows < 1).sum() >= 4  # most rows whole, some broken
    assert out[:10].min() == 255  # paper stays paper


def test_bitmap_font_redraws_ink_in_square_pixel_steps():
    import cv2

    img = np.full((80, 400), 255, np.uint8)
    cv2.putText(img, "TOTAL 12.50", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 3,
                cv2.LINE_AA)
    out = bitmap_font(img, random.Random(1), glyph=40.0)
    assert out.shape == img.shape and set(np.unique(out)) <= {0, 255}  # black or white
    # the grid's cells are 3-5 px: runs of ink and paper along a row are that long at least
    row = (out[40] < 128).astype(np.int8)
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[-1], row, [-1]])) != 0))
    assert runs.min() >= 3
    # the line is still there: most of its ink is kept, little is added
    a, b = img < 128, out < 128
    assert (a & b).sum() > 0.6 * a.sum() and (b & ~a).sum() < 0.6 * a.sum()


def test_dot_matrix_breaks_strokes_into_dots():
    import cv2

    img = np.full((100, 300), 255, np.uint8)
    img[20:80, 20:280] = 0  # one solid bar, as tall as a big glyph
    out = dot_matrix(img, random.Random(0), glyph=60.0)
    n, _ = cv2.connectedComponents((out < 128).astype(np.uint8))
    assert n - 1 > 20  # the bar is now a grid of separate dots
    ink = (out < 128).mean()
    assert 0.2 * (img < 128).mean() < ink < (img < 128).mean()


def test_system_fonts_load_by_path_and_cover_the_reading_charset():
    for fam in fonts.SYSTEM_FAMILIES:
        if not fam.available():
            continue
        for code in filter(None, (fam.regular, fam.bold, fam.italic)):
            f = fonts.font(code)
            missing = [c for c in CHARSET if not f.has_glyph(ord(c))]
            assert not missing, (fam.name, code, missing)


def test_bitmap_fonts_are_installed_and_draw_the_reading_charset_distinctly():
    from docvlm.synth import pixel

    assert pixel.PCF_INSTALLED and pixel.TERMINUS_INSTALLED, "scripts/setup.sh installs them"
    ascii_set = sorted(set(CHARSET))
    for name in pixel.PIXEL_FONTS:
        glyphs = {}
        for c in ascii_set:  # no spacing, no double width: a plain draw of each character
            on = pixel.dots(c, name, random.Random(1))
            assert on is not None and on.any(), (name, c)
            glyphs.setdefault(on.tobytes() + bytes(on.shape), []).append(c)
        # every character has its own glyph (a font read in the wrong encoding draws
        # other glyphs, or the same box for many)
        assert all(len(v) == 1 for v in glyphs.values()), (name, glyphs.values())
    # characters the Latin-1 PCF fonts do not hold: no line, the caller draws an outline
    assert pixel.dots("\u2022 item", pixel.PCF_INSTALLED[0], random.Random(0)) is None


def test_training_receipt_lines_are_printed_in_bitmap_fonts_dot_by_dot():
    from docvlm.synth import pixel

    r = random.Random(5)
    lines = [render_line(r, training_text(r, receipt=True), "train", receipt=True)
             for _ in range(120)]
    px = [c for c in lines if c.family.startswith("pixel:")]
    assert 0.15 * len(lines) < len(px) < 0.45 * len(lines)  # PIXEL_RECEIPT_P = 0.3
    assert {c.family.split(":")[1] for c in px} & set(pixel.PCF_INSTALLED)
    assert any("terminus" in c.family for c in px)
    assert all("pixel" in c.degradations and "broken" not in c.degradations for c in px)
    # enlarged to a line of text: a dot is a pixel or more, the line is a few dots tall
    for c in px:
        assert c.image.shape[0] >= 8 and (c.glyph_px is None or c.glyph_px >= 3)
    # square pixels enlarged by a whole factor: every run along a row is that long
    on = pixel.dots("TOTAL 12.50", "6x13", random.Random(0))
    out = cv2_nearest(on, 3)
    row = (out[3 * 6] < 128).astype(np.int8)
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[-1], row, [-1]])) != 0))
    assert runs.min() >= 3 and (runs % 3 == 0).all()
    # the held-out split never draws them
    r = random.Random(5)
    held = [render_line(r, line_text(r), "heldout") for _ in range(60)]
    assert not any(c.family.startswith("pixel:") for c in held)


def cv2_nearest(on: np.ndarray, k: int) -> np.ndarray:
    from docvlm.synth.pixel import enlarge

    class First(random.Random):  # enlarge's first draw picks square pixels (< 0.35)
        def random(self):
            return 0.0

    return enlarge(on, float(k), First())
