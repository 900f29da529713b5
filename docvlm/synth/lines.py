"""Single rendered text lines (the ``reading`` stage's data): exact text, varied fonts, sizes
and resolutions, optionally degraded like a scan. Rendering a page the size of one line with
PyMuPDF costs about a millisecond."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pymupdf

from docvlm.crops import median_glyph_height
from docvlm.synth import fonts
from docvlm.synth.degrade import degrade
from docvlm.synth.text import line_of_text

MAX_CHARS = 64


@dataclass
class LineCrop:
    image: np.ndarray  # (H, W) uint8 gray
    text: str
    family: str
    dpi: float
    degradations: list[str] = field(default_factory=list)
    glyph_px: float | None = None  # median glyph height measured on the clean render


def line_text(r: random.Random, max_chars: int = MAX_CHARS) -> str:
    t = line_of_text(r)
    if len(t) > max_chars:
        t = t[:max_chars].rsplit(" ", 1)[0] or t[:max_chars]
    return t.strip() or "0"


def render_line(r: random.Random, text: str, split: str = "train", *,
                degrade_p: float = 0.5) -> LineCrop:
    fam = fonts.pick(r, split)
    code = fam.bold if r.random() < 0.2 else fam.regular
    f = fonts.font(code)
    size = r.uniform(7.0, 14.0)
    dpi = r.uniform(140, 300)
    width = f.text_length(text, fontsize=size)
    asc, desc = f.ascender, f.descender
    pad_x, pad_top, pad_bot = r.uniform(1, 6), r.uniform(0.5, 4), r.uniform(0.5, 4)
    h = (asc - desc) * size + pad_top + pad_bot
    doc = pymupdf.open()
    page = doc.new_page(width=width + 2 * pad_x, height=h)
    tw = pymupdf.TextWriter(page.rect)
    tw.append((pad_x, pad_top + asc * size), text, font=f, fontsize=size)
    tw.write_text(page, color=(0, 0, 0) if r.random() < 0.8 else (r.uniform(0, 0.4),) * 3)
    z = dpi / 72
    pix = page.get_pixmap(matrix=pymupdf.Matrix(z, z), colorspace=pymupdf.csGRAY, alpha=False)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.stride)[:, : pix.w].copy()
    doc.close()
    glyph = median_glyph_height(img)
    steps: list[str] = []
    if r.random() < degrade_p:
        img, steps = degrade(img, r, strength=r.uniform(0.5, 1.0), rotate_max=0.6)
    return LineCrop(img, text, fam.name, dpi, steps, glyph)
