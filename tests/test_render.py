import cv2
import numpy as np
import pymupdf
import pytest

from docvlm.ingest import open_document
from docvlm.pipeline import extract
from docvlm.render import fit_dpi, pixel_size, render_page, render_pages
from tests.conftest import make_text_pdf


@pytest.mark.parametrize("w,h,dpi,budget", [(612, 792, 200, 10**9), (14400, 14400, 200, 4e7),
                                            (595, 842, 600, 2e7), (100, 5000, 300, 1e6)])
def test_fit_dpi_respects_the_pixel_budget(w, h, dpi, budget):
    eff = fit_dpi(w, h, dpi, int(budget))
    assert eff <= dpi
    r = pymupdf.Rect(0, 0, w, h)
    pw, ph = pixel_size(r, eff)
    assert pw * ph <= budget
    if eff < dpi:  # lowered only as far as needed
        pw2, ph2 = pixel_size(r, eff * 1.01)
        assert pw2 * ph2 > budget * 0.99


@pytest.mark.parametrize("gray", [True, False])
def test_backends_give_the_same_shape_and_similar_pixels(text_pdf, gray):
    with open_document(text_pdf) as doc:
        a = render_page(doc, 1, dpi=150, gray=gray, backend="pymupdf")
        b = render_page(doc, 1, dpi=150, gray=gray, backend="pdf2image")
    assert a.image.shape == b.image.shape
    assert a.image.dtype == b.image.dtype == np.uint8
    assert a.image.ndim == (2 if gray else 3)
    assert (a.sx, a.sy) == (b.sx, b.sy)
    # Same text in the same place (antialiasing differs): nearly all ink of each lies within
    # one pixel of the other's ink.
    def ink(img):
        return (img.reshape(img.shape[0], img.shape[1], -1).min(-1) < 128).astype(np.uint8)

    ia, ib = ink(a.image), ink(b.image)
    k = np.ones((3, 3), np.uint8)
    assert (ia & cv2.dilate(ib, k)).sum() / ia.sum() > 0.95
    assert (ib & cv2.dilate(ia, k)).sum() / ib.sum() > 0.95


def test_render_matches_bare_pymupdf(text_pdf):
    with open_document(text_pdf) as doc:
        r = render_page(doc, 2, dpi=200)
    pix = pymupdf.open(text_pdf)[1].get_pixmap(dpi=200, colorspace=pymupdf.csGRAY, alpha=False)
    bare = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w)
    np.testing.assert_array_equal(r.image, bare)
    assert r.sx == pytest.approx(200 / 72, rel=2e-3)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_text_layer_boxes_land_on_their_ink(tmp_path, rotate):
    """Word boxes (page points, top-left origin, page as displayed) map onto rendered ink,
    for rotated pages and a CropBox that does not start at the origin."""
    p = tmp_path / "r.pdf"
    doc = pymupdf.open()
    page = doc.new_page(width=500, height=400)
    page.insert_text((120, 150), "Alpha", fontsize=30)
    page.insert_text((300, 330), "Omega", fontsize=18)
    page.set_cropbox(pymupdf.Rect(60, 40, 480, 380))
    page.set_rotation(rotate)
    doc.save(p)
    out = extract(p, dpi=100)
    pg = out.pages[0]
    assert (pg.width, pg.height) == ((420, 340) if rotate in (0, 180) else (340, 420))
    with open_document(p) as d:
        r = render_page(d, 1, dpi=100)
    ink = r.image < 128
    words = [w for reg in pg.regions for ln in reg.lines for w in ln.words]
    assert sorted(w.text for w in words) == ["Alpha", "Omega"]
    total_in = 0
    for w in words:
        x0, y0, x1, y1 = (round(v) for v in r.to_pixels(w.box.x0, w.box.y0, w.box.x1,
                                                               w.box.y1))
        inside = ink[y0:y1, x0:x1].sum()
        assert inside > 50, f"no ink under {w.text} at {w.box}"
        total_in += inside
    assert total_in >= 0.95 * ink.sum()  # and the boxes cover (nearly) all the ink


def test_process_pool_rendering_equals_in_process(tmp_path):
    pdf = make_text_pdf(tmp_path / "five.pdf", pages=5)
    serial = dict(render_pages(pdf, [1, 2, 3, 4, 5], dpi=72, workers=1))
    parallel = dict(render_pages(pdf, [1, 2, 3, 4, 5], dpi=72, workers=2))
    assert list(parallel) == [1, 2, 3, 4, 5]
    for n in serial:
        np.testing.assert_array_equal(serial[n].image, parallel[n].image)


def test_process_pool_reports_a_bad_page_and_keeps_the_rest(tmp_path):
    pdf = make_text_pdf(tmp_path / "two.pdf", pages=2)
    out = dict(render_pages(pdf, [1, 2, 9], dpi=72, workers=2))
    assert out[1].image.size and out[2].image.size
    assert out[9].code == "corrupt" and out[9].page == 9
