import cv2
import numpy as np
import pytest

from docvlm.pipeline import extract
from docvlm.preprocess import (
    denoise,
    detect_orientation,
    estimate_skew,
    flatten_illumination,
    lines_are_horizontal,
    normalize_contrast,
    preprocess_scan,
    rotate_quarter,
    rotate_small,
    upscale_small_text,
)
from schemas import PageKind
from tests.conftest import make_text_pdf, render_gray, truth_lines_px


@pytest.fixture(scope="module")
def page_image(tmp_path_factory):
    pdf = make_text_pdf(tmp_path_factory.mktemp("pp") / "p.pdf")
    return render_gray(pdf, dpi=120)


def _rotate_ccw(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)  # cv2: positive = counter-clockwise
    return cv2.warpAffine(img, m, (w, h), borderValue=255)


@pytest.mark.parametrize("content_ccw", [0, 90, 180, 270])
def test_orientation_is_detected_and_undone(page_image, content_ccw):
    scanned = rotate_quarter(page_image, -content_ccw % 360)  # content turned counter-clockwise
    rot, conf = detect_orientation(scanned)
    assert rot == content_ccw and conf >= 0.3
    np.testing.assert_array_equal(rotate_quarter(scanned, rot), page_image)


@pytest.mark.parametrize("angle", [-8.0, -3.5, -0.8, 1.5, 4.0, 9.5])
def test_skew_is_measured_within_a_quarter_degree(page_image, angle):
    assert estimate_skew(_rotate_ccw(page_image, angle)) == pytest.approx(angle, abs=0.25)


@pytest.mark.parametrize("angle", [0.0, 0.7, -2.3])
def test_two_column_page_with_rows_out_of_step_is_not_skewed(angle):
    # a straight two-column report whose columns' rows do not line up: the whole-page row
    # profile was sharpest at 0.8 degrees (rotating one column's rows onto the other's)
    from docvlm.synth.pages import make_page

    page = make_page(5017, "report", "train")
    assert page.variant == 1  # the two-column template
    img = _rotate_ccw(page.render(200), angle)
    assert estimate_skew(img) == pytest.approx(angle, abs=0.25)


def test_deskew_restores_a_sharp_row_profile(page_image):
    skewed = _rotate_ccw(page_image, 4.0)
    fixed = rotate_small(skewed, estimate_skew(skewed))
    assert abs(estimate_skew(fixed)) < 0.25


def test_preprocess_scan_reports_every_step(page_image):
    scan = rotate_quarter(_rotate_ccw(page_image, 3.0), 270)  # sideways and skewed
    scan = np.clip(scan.astype(np.int16) // 2 + 100, 0, 255).astype(np.uint8)  # washed out
    res = preprocess_scan(scan)
    steps = {s.name: s for s in res.steps}
    assert list(steps) == ["illumination", "orientation", "deskew", "upscale", "contrast",
                           "denoise"]
    assert not steps["illumination"].applied  # evenly washed out: nothing to level
    assert not steps["upscale"].applied and res.scale == 1.0  # 120 dpi text is big enough
    assert steps["orientation"].applied and res.rotation == 90
    assert steps["deskew"].applied and steps["deskew"].angle == pytest.approx(3.0, abs=0.3)
    assert steps["contrast"].applied and res.image.min() < 30
    assert res.image.shape == page_image.shape


def test_contrast_left_alone_on_a_crisp_page(page_image):
    out, applied, _ = normalize_contrast(page_image)
    assert not applied and out is page_image


def test_denoise_only_when_noisy(page_image):
    rng = np.random.default_rng(0)
    noisy = page_image.copy()
    mask = rng.random(noisy.shape) < 0.03
    noisy[mask] = 0
    out, applied, _ = denoise(noisy)
    assert applied and (out[mask] == 0).mean() < 0.3
    assert not denoise(page_image)[1]


def test_born_digital_pages_skip_preprocessing(text_pdf):
    doc = extract(text_pdf)
    assert all(p.kind == PageKind.BORN_DIGITAL and p.preprocessing == [] for p in doc.pages)


def test_scanned_image_is_preprocessed_in_the_pipeline(tmp_path, page_image):
    from PIL import Image

    p = tmp_path / "scan.png"
    Image.fromarray(rotate_quarter(_rotate_ccw(page_image, -2.0), 180)).save(p, dpi=(120, 120))
    doc = extract(p)
    pg = doc.pages[0]
    assert pg.kind == PageKind.IMAGE and pg.rotation == 180
    skew = next(s for s in pg.preprocessing if s.name == "deskew")
    assert skew.applied and skew.angle == pytest.approx(-2.0, abs=0.3)


@pytest.mark.parametrize("content_ccw", [0, 90, 180, 270])
def test_noisy_skewed_scan_is_put_upright(content_ccw):
    """The sample letter (JPEG, noise, uneven light, 2.5 degree skew) turned four ways."""
    from tests.conftest import REPO

    letter = cv2.imread(str(REPO / "samples" / "scanned_letter.jpg"), cv2.IMREAD_GRAYSCALE)
    res = preprocess_scan(rotate_quarter(letter, -content_ccw % 360))
    assert res.rotation == content_ccw
    assert res.skew == pytest.approx(2.5, abs=0.3)


def _small_table_image() -> np.ndarray:
    """A table set at 72 dpi, glyphs about 5 px: a figure cut from a journal page."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=300, height=110)
    rows = [("Group", "Mean", "SD"), ("Control", "16.3", "2.1"), ("Treated", "15.3", "2.4"),
            ("Placebo", "14.9", "1.8")]
    for i, row in enumerate(rows):
        for j, t in enumerate(row):
            page.insert_text((10 + 110 * j, 20 + 22 * i), t, fontsize=8)
    for y in (6, 26, 92):
        page.draw_line((5, y), (295, y), width=0.8)
    pix = page.get_pixmap(dpi=72, colorspace=pymupdf.csGRAY)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).copy()


def test_small_text_is_enlarged_before_the_median_filter_can_erase_it():
    small = _small_table_image()
    out, f, detail = upscale_small_text(small)
    assert 1.5 < f <= 3.0 and out.shape[0] == round(small.shape[0] * f) and "glyph" in detail
    big, f2, _ = upscale_small_text(out)
    assert f2 == 1.0 and big is out  # enlarged once: now above SMALL_GLYPH
    tiled = np.tile(small, (40, 40))  # 4,400 x 12,000 px of small text: 53 MP
    same, f3, why = upscale_small_text(tiled)
    assert f3 == 1.0 and same is tiled and "too large" in why
    res = preprocess_scan(small)
    assert [s.name for s in res.steps][1:4] == ["orientation", "deskew", "upscale"]
    assert res.scale == f and res.image.shape == out.shape


def test_a_tiny_skew_on_a_small_image_is_left_alone():
    small = _small_table_image()
    # 0.2 degrees over 300 px moves a line's ends 1 px: not worth resampling tiny text; the
    # same angle across a page 1,500 px wide (7.5 px) is undone
    res = preprocess_scan(_rotate_ccw(small, 0.2))
    deskew = next(s for s in res.steps if s.name == "deskew")
    assert deskew.angle == pytest.approx(0.2, abs=0.05) and not deskew.applied
    wide = cv2.resize(small, (small.shape[1] * 5, small.shape[0] * 5),
                      interpolation=cv2.INTER_CUBIC)
    res = preprocess_scan(_rotate_ccw(wide, 0.4))
    assert next(s for s in res.steps if s.name == "deskew").applied


def test_a_receipt_photographed_on_a_dark_table_is_not_turned():
    """A narrow monospaced receipt between two dark margins (the table it lies on): the
    margins make the column profile spikier than the row profile, which took the page for
    a quarter-turned one; the letters' nearest neighbours still lie beside them."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=230, height=600)
    rows = ["MR. D.I.Y. (M) SDN BHD", "LOT 1851-A & 1851-B", "-" * 36]
    for k in range(8):
        rows += [f"ITEM {k}0{k} RACKET 108#      *S", f"9021{k}85  1 X 13.50   13.50"]
    rows += ["-" * 36, "TOTAL INCL. GST@6%   RM 34.40", "CASH                 RM 50.40"]
    for i, t in enumerate(rows):
        page.insert_text((12, 30 + 12 * i), t, fontsize=9, fontname="cour")
    pix = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
    receipt = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w)
    photo = np.full((pix.h, pix.w + 300), 30, np.uint8)
    photo[:, 150 : 150 + pix.w] = receipt
    assert lines_are_horizontal(photo)
    assert not lines_are_horizontal(rotate_quarter(photo, 90))
    assert preprocess_scan(photo).rotation == 0
    assert detect_orientation(rotate_quarter(photo, 90))[0] == 270


@pytest.mark.parametrize("quarter,flip,skew", [(0, False, 0.0), (0, True, 2.5), (90, False, -3.0),
                                               (90, True, 1.5), (0, False, -4.0)])
def test_source_box_turns_a_box_back_onto_the_page_as_it_came_in(quarter, flip, skew):
    """A mark on the input image, carried through the steps preprocess_scan applies (a
    quarter turn, the deskew, a half turn), is found by Page.source_box where it was."""
    from schemas import Box, Page, PreprocessStep

    img = np.full((300, 200), 255, np.uint8)
    img[78:83, 48:53] = 0
    out = rotate_quarter(img, quarter)
    out = rotate_small(out, skew) if skew else out
    out = rotate_quarter(out, 180) if flip else out
    ys, xs = np.nonzero(out < 128)
    x, y = xs.mean() + 0.5, ys.mean() + 0.5  # the mark's centre on the output page
    page = Page(number=1, width=out.shape[1], height=out.shape[0], pixel_width=out.shape[1],
                pixel_height=out.shape[0], dpi=72, rotation=(quarter + 180 * flip) % 360,
                kind=PageKind.IMAGE,
                preprocessing=[PreprocessStep(name="deskew", applied=bool(skew), angle=skew)])
    b = page.source_box(Box(page=1, x0=x - 2.5, y0=y - 2.5, x1=x + 2.5, y1=y + 2.5))
    assert (b.x0 + b.x1) / 2 == pytest.approx(50.5, abs=1.0)
    assert (b.y0 + b.y1) / 2 == pytest.approx(80.5, abs=1.0)
    assert b.x1 - b.x0 == pytest.approx(5 * (abs(np.cos(np.radians(skew))) + abs(np.sin(
        np.radians(skew)))), abs=0.01)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_faint_receipt_in_a_thin_black_frame_is_stretched_and_its_lines_found(seed):
    """A faded thermal receipt (ink 32 levels below its paper, grain) scanned with a 2-px
    black frame: the frame hid how washed out the page is, contrast was left alone and no
    line was found; stretched at most MAX_CONTRAST_GAIN times, the grain stays paper."""
    import cv2

    from docvlm import segment
    from docvlm.eval.metrics import box_pr
    from docvlm.synth.pages import make_page

    clean = make_page(seed, "receipt").render(200)
    soft = cv2.GaussianBlur(clean.astype(np.float32), (0, 0), 1.0)
    rng = np.random.default_rng(seed)
    img = np.clip(240 - (255 - soft) * (32 / 255) + rng.normal(0, 3, soft.shape), 0, 255)
    img = img.astype(np.uint8)
    img[:2] = img[-2:] = 20
    img[:, :2] = img[:, -2:] = 20
    out, applied, detail = normalize_contrast(img)
    assert applied and detail.startswith("stretched 2"), detail  # the frame's 20 left out
    ref = [("l", r) for r in segment.text_lines(clean)]
    assert not segment.text_lines(img)  # unstretched: nothing found
    got = [("l", r) for r in segment.text_lines(out)]
    m = box_pr(got, ref, 0.5)
    assert m["recall"] >= 0.9 and m["precision"] >= 0.85, m


def _lit_page(i: int, strength: float) -> tuple[np.ndarray, list]:
    """A held-out page (150 dpi) lit from a point, as ``synth.degrade.uneven_light``, and its
    true line boxes in pixels."""
    import random

    from docvlm.synth.degrade import uneven_light
    from docvlm.synth.pages import HELDOUT_SEED_BASE, make_page

    p = make_page(HELDOUT_SEED_BASE + 88_000 + i)
    return uneven_light(p.render(150), random.Random(i), strength), truth_lines_px(p, 150)


@pytest.mark.parametrize("i", [1, 2, 8])
def test_a_page_lit_from_one_side_keeps_its_lines(i):
    """Light falling to 40-60 % towards a corner: thresholds took the dark part for ink,
    deskew turned the page by its edge, and every line was lost. Levelled first, the page
    reads as a clean one does."""
    from docvlm import segment
    from docvlm.eval.metrics import box_pr

    img, truth = _lit_page(i, 0.6)
    res = preprocess_scan(img)
    assert res.steps[0].name == "illumination" and res.steps[0].applied
    assert abs(res.skew) < 1.0
    m = box_pr([("l", r) for r in segment.text_lines(res.image)], truth, 0.5)
    assert m["precision"] >= 0.9 and m["recall"] >= 0.9, m
    unlevelled = preprocess_scan(img, light=False)
    m0 = box_pr([("l", r) for r in segment.text_lines(unlevelled.image)], truth, 0.5)
    assert m0["recall"] < 0.5  # what levelling saves


def test_levelling_leaves_even_light_and_dark_content_alone(page_image):
    """Only a sheet of paper whose light falls off gradually is levelled: dark boxes, a
    photo across half the page, the table around a photographed receipt and white print on
    black begin at an edge and are left as they are; on a lit page a black box stays black."""
    h, w = page_image.shape
    box = page_image.copy()
    box[h // 3 : 2 * h // 3, w // 6 : 5 * w // 6] = 30
    half = page_image.copy()
    half[:, : w // 2] = 40
    table = np.full((h, w), 60, np.uint8)
    sheet = table[h // 8 : h - h // 8, w // 4 : w - w // 4]
    sheet[:] = cv2.resize(page_image, (sheet.shape[1], sheet.shape[0]))
    for img in (page_image, box, half, table, 255 - page_image):
        out, done, detail = flatten_illumination(img)
        assert not done and out is img, detail
    xx = np.arange(w, dtype=np.float32)[None, :]
    lit = np.clip(page_image * (1 - 0.5 * xx / w), 0, 255).astype(np.uint8)
    lit[h // 3 : h // 2, w // 6 : w // 2] = 20
    out, done, _ = flatten_illumination(lit)
    assert done
    assert out[h // 3 : h // 2, w // 6 : w // 2].mean() < 40
    left, right = np.percentile(out[:, : w // 8], 90), np.percentile(out[:, -w // 8 :], 90)
    assert abs(left - right) < 15 and min(left, right) > 235  # one paper level
    rgb, done, _ = flatten_illumination(np.dstack([lit] * 3))
    assert done and rgb.shape == (h, w, 3)
    np.testing.assert_array_equal(rgb[..., 1], out)
