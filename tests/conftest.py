"""Shared fixtures: documents the tests build themselves (clean, hostile, scanned)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pymupdf
import pytest

REPO = Path(__file__).resolve().parents[1]

PROSE = (
    "The quick brown fox jumps over the lazy dog while the committee reviews the annual "
    "budget. Invoices, receipts and forms are processed every day by the finance team, "
    "who check totals, dates and addresses before payment. Tables list the quantities, "
    "unit prices and amounts for each item delivered during the month of October."
)


def make_text_pdf(path: Path, pages: int = 1, *, width: float = 595, height: float = 842,
                  rotate: int = 0, fontsize: float = 11, text: str = PROSE) -> Path:
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=width, height=height)
        page.insert_text((50, 60), f"Page {i + 1} heading", fontsize=16, fontname="hebo")
        page.insert_textbox(pymupdf.Rect(50, 80, width - 50, height - 50), (text + " ") * 4,
                            fontsize=fontsize)
        if rotate:
            page.set_rotation(rotate)
    doc.save(path)
    return path


def render_gray(pdf: Path, dpi: int = 100, page: int = 0) -> np.ndarray:
    doc = pymupdf.open(pdf)
    pix = doc[page].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).copy()


def bent_line(text: str, bend_glyphs: float, size: float = 11, zoom: float = 3) -> np.ndarray:
    """``text`` rendered as one gray line, then bent along a parabola whose ends rise
    ``bend_glyphs`` median glyph heights above its middle (a photographed page that curves
    towards the binding)."""
    import cv2

    from docvlm.crops import median_glyph_height

    doc = pymupdf.open()
    page = doc.new_page(width=len(text) * size * 0.55 + 10, height=size * 3)
    page.insert_text((5, size * 1.9), text, fontname="helv", fontsize=size)
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).copy()
    doc.close()
    amp = bend_glyphs * (median_glyph_height(img) or 10)
    pad = int(amp) + 4
    img = np.pad(img, ((pad, pad), (0, 0)), constant_values=255)
    h, w = img.shape
    xs = np.arange(w, dtype=np.float32)
    off = amp * (2 * xs / w - 1) ** 2 - amp / 2
    my = (np.arange(h, dtype=np.float32)[:, None] + off[None, :]).astype(np.float32)
    return cv2.remap(img, np.tile(xs, (h, 1)), my, cv2.INTER_LINEAR, borderValue=255)


def caps_receipt(seed: int, dpi: int = 200, degraded: bool = True) -> tuple[np.ndarray, list[str]]:
    """A till receipt printed in capitals and digits (Courier, 80-mm roll, the training
    split's receipt lines upper-cased), degraded like a phone scan: what has no ascender
    asymmetry to tell upright from upside down. Returns (gray image, its lines)."""
    import random

    from docvlm.synth.degrade import degrade
    from docvlm.synth.lines import receipt_line

    r = random.Random(seed)
    doc = pymupdf.open()
    page = doc.new_page(width=226, height=520)
    y, lines = 20.0, []
    while y < 500:
        lines.append(receipt_line(r).upper()[:34])
        page.insert_text((12, y), lines[-1], fontname="cour", fontsize=8.5)
        y += r.uniform(11, 15)
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).copy()
    doc.close()
    if degraded:
        img = degrade(img, random.Random(seed), strength=1.0, rotate_max=0.4)[0]
    return img, lines


def truth_lines_px(page, dpi: float) -> list[tuple[str, tuple]]:
    """A synthetic page's true line boxes in the pixels of its render at ``dpi``, as
    ``box_pr`` takes them."""
    z = dpi / 72
    return [("l", tuple(v * z for v in ln.box)) for g in page.regions for ln in g.lines]


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header declares width x height but holds almost no data (a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


def _pdf_with_xref(objects: list[bytes]) -> bytes:
    """A well-formed PDF (exact xref offsets) from object bodies numbered from 1."""
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


ZERO_PAGE_PDF = _pdf_with_xref([b"<</Type/Catalog/Pages 2 0 R>>",
                                b"<</Type/Pages/Kids[]/Count 0>>"])


@pytest.fixture
def text_pdf(tmp_path) -> Path:
    return make_text_pdf(tmp_path / "text.pdf", pages=3)


@pytest.fixture
def hostile(tmp_path, text_pdf) -> dict[str, Path]:
    """name -> path of a file that must fail cleanly (typed error, no traceback)."""
    data = text_pdf.read_bytes()
    files = {}

    def put(name: str, content: bytes) -> None:
        p = tmp_path / name
        p.write_bytes(content)
        files[name] = p

    put("empty.pdf", b"")
    put("html.pdf", b"<!DOCTYPE html><html><body>not a pdf</body></html>")
    put("zip.pdf", b"PK\x03\x04" + b"\x00" * 200)
    put("header_only.pdf", data[:120])
    put("zero_pages.pdf", ZERO_PAGE_PDF)
    enc = pymupdf.open(text_pdf)
    enc.save(tmp_path / "encrypted.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256,
             user_pw="secret", owner_pw="owner")
    files["encrypted.pdf"] = tmp_path / "encrypted.pdf"
    files["bomb.png"] = png_header_only(tmp_path / "bomb.png", 60000, 60000)
    put("truncated.png", (REPO / "samples" / "scanned_letter.jpg").read_bytes()[:0]
        + b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    return files
