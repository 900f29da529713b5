"""The PDF text layer: words and lines with boxes, as regions with source ``text-layer``.

Coordinates come from MuPDF relative to the CropBox of the unrotated page; the page's
rotation matrix maps them to the displayed page, the frame every docvlm box uses.
"""

from __future__ import annotations

import unicodedata

import pymupdf

from schemas import Box, Line, PageKind, Region, RegionLabel, Source, Word, replace_surrogates

# Expand ligatures (ﬁ -> fi) and keep MuPDF's clip to the page.
_FLAGS = (pymupdf.TEXTFLAGS_WORDS & ~pymupdf.TEXT_PRESERVE_LIGATURES) | pymupdf.TEXT_MEDIABOX_CLIP


def clean_text(s: str) -> str:
    """NFKC, and lone surrogates (broken font encodings) replaced by U+FFFD."""
    return replace_surrogates(unicodedata.normalize("NFKC", s))


def _box(rect: pymupdf.Rect, number: int) -> Box:
    r = rect.normalize()
    return Box(page=number, x0=round(r.x0, 2), y0=round(r.y0, 2), x1=round(r.x1, 2),
               y1=round(r.y1, 2))


def _union(boxes: list[Box]) -> Box:
    return Box(page=boxes[0].page, x0=min(b.x0 for b in boxes), y0=min(b.y0 for b in boxes),
               x1=max(b.x1 for b in boxes), y1=max(b.y1 for b in boxes))


def page_words(page: pymupdf.Page) -> list[tuple]:
    """MuPDF words ``(x0, y0, x1, y1, text, block, line, word)`` with non-blank text."""
    return [w for w in page.get_text("words", flags=_FLAGS) if w[4].strip()]


def classify_page(page: pymupdf.Page, n_words: int) -> PageKind:
    """Scanned when images cover at least half the page and there is no text layer."""
    if n_words:
        return PageKind.BORN_DIGITAL
    area = abs(page.rect)
    covered = 0.0
    for info in page.get_image_info():
        covered = max(covered, abs(pymupdf.Rect(info["bbox"]) & page.cropbox))
    return PageKind.SCANNED if area > 0 and covered >= 0.5 * area else PageKind.BORN_DIGITAL


def text_regions(page: pymupdf.Page, number: int, words: list[tuple] | None = None
                 ) -> list[Region]:
    """One ``text`` region per MuPDF block, holding its lines and words, in content order."""
    words = page_words(page) if words is None else words
    m = page.rotation_matrix
    blocks: dict[int, dict[int, list[Word]]] = {}
    for x0, y0, x1, y1, text, b, ln, _ in words:
        word = Word(text=clean_text(text),
                    box=_box(pymupdf.Rect(x0, y0, x1, y1) * m, number))
        blocks.setdefault(b, {}).setdefault(ln, []).append(word)
    regions = []
    for order, (b, lines) in enumerate(blocks.items()):
        out_lines = [
            Line(text=" ".join(w.text for w in ws), box=_union([w.box for w in ws]), words=ws)
            for ws in lines.values()
        ]
        regions.append(Region(
            id=f"p{number}-t{b}", label=RegionLabel.TEXT, box=_union([ln.box for ln in out_lines]),
            text="\n".join(ln.text for ln in out_lines), source=Source.TEXT_LAYER,
            order=order, lines=out_lines,
        ))
    return regions
