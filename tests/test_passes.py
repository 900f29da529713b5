"""Model-backed pipeline stages with a tiny random model: the plumbing, not the quality."""

import json
import subprocess
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
import pymupdf
import pytest
import torch
from PIL import Image

from docvlm.model import DocTokenizer, DocVLM, DocVLMConfig
from docvlm.passes import PageReader, anchor_text, usable_text_layer
from docvlm.pipeline import extract
from docvlm.synth.text import corpus
from schemas import Box, Region, RegionLabel, Source, Status
from tests.conftest import bent_line, caps_receipt, make_text_pdf, render_gray


def _tiny(folder: Path, trained_tasks: list[str]) -> Path:
    cfg = DocVLMConfig.preset_named("tiny")
    tok = DocTokenizer.train(corpus(800), cfg.vocab.bpe_vocab_size, cfg.vocab.n_loc_bins)
    cfg.vocab.max_new_tokens = 24
    cfg.trained_tasks = trained_tasks
    torch.manual_seed(0)
    DocVLM.build(cfg, tok).save(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A random model that claims page-layout training: the model's own layout pass runs."""
    return _tiny(tmp_path_factory.mktemp("model") / "tiny", ["layout", "read_line"])


@pytest.fixture(scope="module")
def reader_model(tmp_path_factory) -> Path:
    """A random model trained (it says) on reading only: regions come from segmentation."""
    return _tiny(tmp_path_factory.mktemp("model") / "reader", ["read_line"])


def words(doc):
    return Counter(w.text for p in doc.pages for r in p.regions for ln in r.lines
                   for w in ln.words)


def test_anchored_mode_reproduces_the_text_layer_exactly(tmp_path, tiny_model):
    pdf = make_text_pdf(tmp_path / "a.pdf", pages=2)
    plain = extract(pdf, mode="text")
    anchored = extract(pdf, mode="anchored", model=str(tiny_model), dpi=72)
    assert anchored.status in (Status.SUCCESS, Status.PARTIAL)
    assert all(p.mode == "anchored" for p in anchored.pages)
    assert words(anchored) == words(plain) and sum(words(plain).values()) > 100
    tokens = anchored.pages[0].visual_tokens
    assert 0 < tokens.kept <= tokens.total


def test_auto_mode_reads_pixels_where_there_is_no_text_layer(tmp_path, tiny_model):
    img = render_gray(make_text_pdf(tmp_path / "s.pdf"), dpi=60)
    Image.fromarray(img).save(tmp_path / "scan.png")
    doc = extract(tmp_path / "scan.png", model=str(tiny_model))
    assert doc.status in (Status.SUCCESS, Status.PARTIAL)
    page = doc.pages[0]
    assert page.mode == "vision" and page.visual_tokens.kept > 0
    for r in page.regions:  # whatever a random model says, outputs are valid and sourced
        assert r.source == Source.VISION and 0 <= r.confidence <= 1
    born = extract(tmp_path / "s.pdf", model=str(tiny_model), dpi=72)
    assert born.pages[0].mode == "anchored"


def test_reading_model_gets_segmented_regions_read_line_by_line(tmp_path, reader_model):
    pdf = make_text_pdf(tmp_path / "s.pdf")
    img = render_gray(pdf, dpi=150)
    Image.fromarray(img).save(tmp_path / "scan.png")
    doc = extract(tmp_path / "scan.png", model=str(reader_model), dpi=150)
    page = doc.pages[0]
    assert page.mode == "vision" and page.visual_tokens is None  # no model layout pass
    truth = [b for b in pymupdf.open(pdf)[0].get_text("dict")["blocks"]]
    n_truth = sum(len(b["lines"]) for b in truth)
    lines = [ln for r in page.regions for ln in r.lines]
    assert all(r.source == Source.VISION for r in page.regions)
    # the bold heading is told from the text by its strokes (segmentation, before reading)
    assert [r.label for r in page.regions] == [RegionLabel.SECTION_HEADER] + [
        RegionLabel.TEXT] * (len(page.regions) - 1)
    assert abs(len(lines) - n_truth) <= 2, (len(lines), n_truth)  # one Line per text line
    # each line box is a real line: inside the page, one text line tall, none overlapping
    heights = sorted(ln.box.y1 - ln.box.y0 for ln in lines)
    for a, b in pairwise(lines):
        assert a.box.y1 <= b.box.y0 + 1
    for ln in lines:
        assert 0 <= ln.box.x0 < ln.box.x1 <= page.width and 0 <= ln.box.y0 < ln.box.y1
        assert ln.box.y1 - ln.box.y0 <= 2 * heights[len(heights) // 2]
    born = extract(pdf, mode="anchored", model=str(reader_model), dpi=72)
    assert words(born) == words(extract(pdf, mode="text"))  # anchored: still exact


def test_anchor_text_assigns_words_by_centre():
    def box(x0, y0, x1, y1):
        return Box(page=1, x0=x0, y0=y0, x1=x1, y1=y1)

    from schemas import Line, Word

    layer = [Region(id="t0", label=RegionLabel.TEXT, box=box(0, 0, 300, 20), source=Source.
                    TEXT_LAYER, lines=[Line(text="Total 12.50 extra", box=box(0, 0, 300, 20),
                                            words=[Word(text="Total", box=box(0, 0, 40, 20)),
                                                   Word(text="12.50", box=box(50, 0, 90, 20)),
                                                   Word(text="extra", box=box(250, 0, 290, 20))
                                                   ])])]
    model_regions = [Region(id="r0", label=RegionLabel.KEY_VALUE, box=box(0, 0, 100, 20),
                            source=Source.VISION)]
    out = anchor_text(model_regions, layer, 1)
    assert [(r.label, r.text) for r in out] == [(RegionLabel.KEY_VALUE, "Total 12.50"),
                                                (RegionLabel.TEXT, "extra")]
    assert model_regions[0].text == ""  # inputs untouched


def test_usable_text_layer_rejects_junk():
    def reg(text):
        return Region(id="x", label=RegionLabel.TEXT, box=Box(page=1, x0=0, y0=0, x1=1, y1=1),
                      source=Source.TEXT_LAYER, text=text)

    assert usable_text_layer([reg("Invoice number 12345, total due 210.60")])
    assert not usable_text_layer([reg("\ufffd\ufffd\ufffd \ufffd\ufffd")])
    assert not usable_text_layer([reg("\ue000\ue001\ue002\ue003 \ue004\ue005")])
    assert not usable_text_layer([])


def test_vision_mode_without_a_model_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCVLM_MODEL", raising=False)
    pdf = make_text_pdf(tmp_path / "a.pdf")
    r = subprocess.run([str(Path(sys.executable).with_name("docvlm")), "extract", str(pdf),
                        "--mode", "vision"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    from docvlm.pipeline import default_model_path

    if default_model_path() is None:
        assert r.returncode == 2 and "needs a model" in r.stderr
    else:  # shipped weights exist: vision mode runs
        assert r.returncode in (0, 3) and json.loads(r.stdout)["pages"][0]["mode"] == "vision"


def test_ruled_table_on_a_scan_becomes_a_table_region_read_cell_by_cell(tmp_path,
                                                                        reader_model):
    from docvlm.synth.pages import HELDOUT_SEED_BASE, make_page

    p = make_page(HELDOUT_SEED_BASE + 2, "table", "heldout")
    Image.fromarray(p.render(150)).save(tmp_path / "table.png")
    doc = extract(tmp_path / "table.png", model=str(reader_model), dpi=150)
    tables = [r for r in doc.pages[0].regions if r.label == RegionLabel.TABLE]
    truth = next(g for g in p.regions if g.table is not None).table
    assert len(tables) == 1
    t = tables[0].table
    assert (t.n_rows, t.n_cols, len(t.cells)) == (truth.n_rows, truth.n_cols, len(truth.cells))
    assert all(c.box is not None and tables[0].box.x0 - 1 <= c.box.x0 for c in t.cells)
    assert tables[0].text == t.to_markdown() and tables[0].text.count("\n") == t.n_rows
    # its lines are the lines read in its cells, each inside the cell whose text holds it
    lines = tables[0].lines
    assert len(lines) >= sum(1 for c in t.cells if c.text.strip())
    for ln in lines:
        cx, cy = (ln.box.x0 + ln.box.x1) / 2, (ln.box.y0 + ln.box.y1) / 2
        cell = next(c for c in t.cells if c.box.x0 <= cx <= c.box.x1 and c.box.y0 <= cy <= c.box.y1)
        assert ln.text in cell.text


def test_a_table_cell_holding_one_digit_is_read(tmp_path):
    """A quantity column of single digits (SROIE 010): a cell with one glyph gave the line
    finder too few glyphs to measure their height, so it found no line and the digit was
    lost; the glyph is measured over the whole table."""
    from docvlm import segment

    doc = pymupdf.open()
    page = doc.new_page(width=320, height=160)
    rows = [("Item", "Qty", "Amount"), ("White bread", "4", "8.52"), ("Wholemeal", "2", "5.56"),
            ("Jumbo bun", "7", "11.88"), ("Butterscotch", "3", "7.44")]
    xs, y0, pitch = (20, 150, 210, 300), 20, 24
    for k, row in enumerate(rows):
        for c, text in enumerate(row):
            page.insert_text((xs[c] + 6, y0 + k * pitch + 17), text, fontsize=11, fontname="helv")
    for k in range(len(rows) + 1):
        page.draw_line((xs[0], y0 + k * pitch), (xs[-1], y0 + k * pitch), width=0.8)
    for x in xs:
        page.draw_line((x, y0), (x, y0 + len(rows) * pitch), width=0.8)
    pix = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w)
    Image.fromarray(img).save(tmp_path / "qty.png", dpi=(200, 200))
    s = 200 / 72
    cell = img[int((y0 + pitch) * s) + 3 : int((y0 + 2 * pitch) * s) - 2,
               int(xs[1] * s) + 3 : int(xs[2] * s) - 2]
    assert segment.text_lines(cell) == []  # alone, the cell's one glyph is not measured
    got = extract(tmp_path / "qty.png", mode="vision")
    tables = [r for r in got.pages[0].regions if r.label == RegionLabel.TABLE]
    assert len(tables) == 1 and tables[0].table.n_rows == len(rows)
    qty = {c.row: c.text for c in tables[0].table.cells if c.col == 1}
    assert [qty[k] for k in range(1, len(rows))] == [r[1] for r in rows[1:]]


def test_lines_read_with_the_reading_head_when_the_model_says_so(tmp_path):
    folder = _tiny(tmp_path / "ctc", ["read_line"])
    cfg = DocVLMConfig.load(folder)
    cfg.read_with = "ctc"
    cfg.save(folder)
    img = render_gray(make_text_pdf(tmp_path / "s.pdf"), dpi=150)
    Image.fromarray(img).save(tmp_path / "scan.png")
    doc = extract(tmp_path / "scan.png", model=str(folder), dpi=150)
    lines = [ln for r in doc.pages[0].regions for ln in r.lines]
    assert len(lines) >= 10
    # an untrained head reads random bytes ('<' among them), but never a special token
    assert all(not any(t in ln.text for t in ("<loc_", "<task_", "<image>", "<|"))
               and 0 <= ln.confidence <= 1 for ln in lines)
    model = DocVLM.load(folder)
    from docvlm.model import prepare_image
    views = prepare_image(img[:60, :400], model.cfg, "native")
    g = model.ctc_read(views)[0]
    assert g.plain and g.text == model.ctc_decode(collate_one(model, views))[0]


def collate_one(model, views):
    from docvlm.model import Sample, collate

    return collate(model.tokenizer, [Sample(views, "<task_read>")])


def test_pipeline_evaluation_on_held_out_pages(reader_model):
    """The pipeline-level evaluation: what does not depend on reading quality is checked
    (segmentation finds the lines, the held-out ruled tables keep their structure)."""
    from docvlm.eval.pages import eval_pages

    res = eval_pages(DocVLM.load(reader_model), 1, dpi=150)
    for cond in ("clean", "degraded"):
        r = res[cond]
        assert r["pages"] == 6 and r["tables"] >= 1
        assert r["line_recall"] >= 0.85 and r["line_precision"] >= 0.85, r
        assert r["table_teds_s"] >= 0.9, r
        assert r["region_cer"] >= 0 and r["kv_f1"] is not None


def test_anchored_born_digital_invoice_gets_exact_table_cells_and_key_values(tmp_path,
                                                                            reader_model):
    """A reading-only model on a born-digital page: segmentation supplies the structure
    (ruled table grid, key/value pairs), the text layer the exact text."""
    from docvlm.synth.pages import HELDOUT_SEED_BASE, make_page

    p = next(pg for pg in (make_page(HELDOUT_SEED_BASE + s, "invoice", "heldout")
                           for s in range(10))
             if any(g.table is not None for g in pg.regions))
    (tmp_path / "inv.pdf").write_bytes(p.pdf)
    doc = extract(tmp_path / "inv.pdf", model=str(reader_model))
    page = doc.pages[0]
    assert page.mode == "anchored" and page.visual_tokens is None
    truth = next(g for g in p.regions if g.table is not None).table
    table = next(r for r in page.regions if r.label == RegionLabel.TABLE).table
    assert (table.n_rows, table.n_cols) == (truth.n_rows, truth.n_cols)
    got = {(c.row, c.col): c.text for c in table.cells}
    assert all(got[(c.row, c.col)] == " ".join(c.text.split()) for c in truth.cells)
    fields = {r.field.key: r.field.value for r in page.regions if r.field is not None}
    kv = {k.key: k.value for k in p.kv}
    assert any(fields.get(k) == v for k, v in kv.items()), (fields, kv)
    assert words(doc) == words(extract(tmp_path / "inv.pdf", mode="text"))  # nothing lost


def test_consensus_keeps_the_reading_the_others_agree_with():
    from docvlm.model.vlm import Generated
    from docvlm.passes import consensus

    def g(text, score):
        return Generated([], text, [1.0], plain=True, score=score)

    # the likeliest single reading is the odd one out: the median string wins
    reads = [g("Newletter", -0.02), g("Newsletter", -0.05), g("Newsletter", -0.06),
             g("Newslettcr", -0.08), g("Nevsletter", -0.1)]
    assert consensus(reads).text == "Newsletter"
    assert consensus(reads[:1]).text == "Newletter"
    # two readings: the reading head's path probability decides
    assert consensus([g("abc", -0.5), g("abd", -0.1)]).text == "abd"
    # character by character, the majority: right where no single reading is
    fixed = consensus([g("Nevsletter", -0.05), g("Newslettcr", -0.06), g("Newsleter", -0.07)])
    assert fixed.text == "Newsletter" and fixed.token_ids == list(b"Newsletter")


def test_amounts_with_points_for_thousands_separators_and_months_are_repaired():
    from docvlm.model.vlm import Generated
    from docvlm.passes import repair_numbers

    def fixed(text):
        g = repair_numbers(Generated(list(text.encode()), text, [0.9] * len(text), plain=True))
        assert len(g.token_confidence) == len(g.text)
        return g.text

    assert fixed("Subtotal 5.053.20") == "Subtotal 5,053.20"
    assert fixed("Total: 1.234.567.89 EUR") == "Total: 1,234,567.89 EUR"
    assert fixed("Date: 15/11.1997 16:44") == "Date: 15/11/1997 16:44"
    assert fixed("05.01-17") == "05-01-17"
    # a month name beside a number, a digit read for a letter it looks like
    assert fixed("Date: 6 Apri1 1996 12:10") == "Date: 6 April 1996 12:10"
    assert fixed("0ct 12, 2005") == "Oct 12, 2005"
    assert fixed("15 AUGU5T 2019") == "15 AUGUST 2019"
    assert fixed("12 5ept 2020") == "12 Sept 2020"
    for kept in ("5.053,20", "Version 1.2.3", "12.05.2024", "v2.053.20.1", "ID 15.053.201",
                 "3.50", "1,234.50", "15/11/1997", "1/2.5 cups", "2.5/10",
                 "Code 0ct", "A1B 2C3", "Room 1A1 5", "mp3 5", "DEC0 2020"):
        assert fixed(kept) == kept


def test_lines_are_read_again_at_more_scales_only_where_the_first_two_disagree():
    """The shipped reading head on rendered lines (training-split fonts, degraded): every
    line is read in the first two views (scale 1.0 at its measured width and a quarter
    wider), and only lines whose two readings differ in the other eight (four more scales,
    each at both widths); the consensus has fewer character errors than one reading."""
    from docvlm.crops import READ_SCALES, READ_WIDTHS
    from docvlm.eval.metrics import corpus_cer
    from docvlm.pipeline import DEFAULT_MODEL_DIR
    from docvlm.synth.lines import render_line, training_text
    from docvlm.train.data import sample_rng

    model = DocVLM.load(DEFAULT_MODEL_DIR)
    crops = [render_line(r, training_text(r), "train", degrade_p=1.0)
             for r in (sample_rng(77, i, "test-scales") for i in range(40))]
    calls = []
    read = model.ctc_read
    model.ctc_read = lambda views, *a: calls.append(len(views)) or read(views, *a)
    with torch.no_grad():
        once = PageReader(model, scales=(1.0,), widths=(1.0,)).read_lines(
            [c.image for c in crops])
        assert sum(calls) == 40
        calls.clear()
        multi = PageReader(model).read_lines([c.image for c in crops])
    assert len(READ_SCALES) == 5 and READ_WIDTHS == (1.0, 1.25)
    n_disagree = (sum(calls) - 80) // 8
    assert sum(calls) == 80 + 8 * n_disagree and 0 < n_disagree < 40
    refs = [c.text for c in crops]
    assert corpus_cer([g.text for g in multi], refs) < corpus_cer([g.text for g in once], refs)


def test_int8_reading_head_reads_as_well_as_float32_and_extraction_uses_it(tmp_path):
    """The shipped model with its linear layers quantized to int8 (the default on a CPU)
    reads held-out lines with the character error rate of float32, to a point; every linear
    layer is replaced; ``extract`` loads it so unless asked for fp32; a bad precision is a
    usage error."""
    from torch import nn

    from docvlm import errors
    from docvlm.eval.metrics import corpus_cer
    from docvlm.passes import load_model
    from docvlm.pipeline import DEFAULT_MODEL_DIR, ExtractOptions
    from docvlm.synth.lines import line_text, render_line
    from docvlm.train.data import sample_rng

    crops = [render_line(r, line_text(r), "heldout", degrade_p=0.5)
             for r in (sample_rng(78, i, "test-int8") for i in range(40))]
    refs = [c.text for c in crops]
    fp32 = DocVLM.load(DEFAULT_MODEL_DIR)
    int8 = DocVLM.load(DEFAULT_MODEL_DIR)
    assert int8.quantize_int8() and int8.int8 and not fp32.int8
    assert not any(type(m) is nn.Linear for m in int8.modules())
    assert any(type(m) is nn.Linear for m in fp32.modules())
    cers = {}
    for name, m in (("fp32", fp32), ("int8", int8)):
        got = PageReader(m, scales=(1.0,), widths=(1.0,)).read_lines([c.image for c in crops])
        cers[name] = corpus_cer([g.text for g in got], refs)
    assert cers["int8"] < cers["fp32"] + 0.01 and cers["int8"] < 0.08, cers
    # extraction: int8 by default, float32 on request
    pdf = make_text_pdf(tmp_path / "a.pdf", height=200, text="Invoice 2024-03-15 total 1,234.50")
    img = tmp_path / "a.png"
    Image.fromarray(render_gray(pdf, dpi=200)).save(img)
    for precision, want in (("auto", True), ("fp32", False)):
        doc = extract(img, ExtractOptions(mode="vision", precision=precision))
        assert doc.status == Status.SUCCESS
        assert load_model(DEFAULT_MODEL_DIR, int8=want).int8 is want
    with pytest.raises(errors.UsageError, match="precision"):
        extract(img, ExtractOptions(mode="vision", precision="bf16"))


def _faint_line(text: str, seed: int):
    """A large receipt line printed 30-50 grey levels below its paper, soft-edged and
    blotchy, with paper grain (as faded thermal receipts photograph)."""
    import cv2
    import numpy as np

    doc = pymupdf.open()
    page = doc.new_page(width=170, height=14)
    page.insert_text((3, 10), text, fontname="cobo", fontsize=9)
    pix = page.get_pixmap(matrix=pymupdf.Matrix(3.5, 3.5), colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    rng = np.random.default_rng(seed)
    blot = cv2.GaussianBlur(rng.uniform(0.3, 1.0, img.shape).astype(np.float32), (0, 0), 3)
    blot = (blot - blot.min()) / (blot.max() - blot.min()) * 0.7 + 0.3
    faint = 242 - (255 - img) * (50 / 255) * blot + rng.normal(0, 3, img.shape)
    return np.clip(faint, 0, 255).astype(np.uint8)


def test_faint_thermal_line_crops_are_read_as_one_line_each():
    """Ground-truth crops of faint print: the crop is darkened before it is segmented, so
    each is read as its one line (segmented as it is, the ink gate keeps pieces of strokes,
    and each piece was read as a line of junk: 'THANK YOU PLEASE COME AGAIN' read
    '2 T T 9 9 2 9 - 9 8 - 2 - - - 9 - -')."""
    from docvlm.eval.metrics import cer
    from docvlm.pipeline import DEFAULT_MODEL_DIR

    texts = ["EXCHANGE ARE ALLOWED WITHIN", "TOTAL SALES INCL GST 45.60",
             "THANK YOU PLEASE COME AGAIN"]
    with torch.no_grad():
        got = PageReader(DocVLM.load(DEFAULT_MODEL_DIR)).read_images(
            [_faint_line(t, i) for i, t in enumerate(texts)])
    for text, read in zip(texts, got):
        assert cer(read, text) < 0.25, (text, read)


def test_curved_lines_are_read_level(monkeypatch):
    """A line bent like a photographed page (ends one or two glyphs above the middle) is
    straightened before it is cut to the reading band; left bent, its ends fall out of the
    band (stage-7 weights: CER 0.21-0.86 bent against 0.00-0.07 straightened; stage 8,
    trained on more blur, reads a line bent one glyph better: 0.09; stage 18 better
    still: 0.015, against 0.0 straightened)."""
    import docvlm.crops as crops
    from docvlm.eval.metrics import cer
    from docvlm.pipeline import DEFAULT_MODEL_DIR

    texts = ["Thank you for your claim dated 18 September 2026 regarding policy",
             "TOTAL INCL. GST 6% RM 45.60 CASH RM 50.00 CHANGE RM 4.40"]
    lines = [(t, bent_line(t, b)) for t in texts for b in (1.0, 2.0)]
    # the head's own readings: the lexicon would mend a bent line's misread words and hide
    # what straightening does
    reader = PageReader(DocVLM.load(DEFAULT_MODEL_DIR), lexicon=False)
    with torch.no_grad():
        level = [g.text for g in reader.read_lines([im for _, im in lines])]
        monkeypatch.setattr(crops, "straighten_line", lambda gray, glyph=None: gray)
        bent = [g.text for g in reader.read_lines([im for _, im in lines])]
    for k, ((t, _), a, b) in enumerate(zip(lines, level, bent)):
        assert cer(a, t) < 0.12, (t, a)
        assert cer(b, t) > cer(a, t) + (0.2 if k % 2 else 0.01), (t, a, b)


@pytest.fixture(scope="module")
def shipped_reader():
    from docvlm.pipeline import DEFAULT_MODEL_DIR

    return PageReader(DocVLM.load(DEFAULT_MODEL_DIR))


@pytest.mark.parametrize("seed", [0, 2, 4, 6])
def test_receipts_in_capitals_are_turned_upright_by_reading_them(shipped_reader, seed):
    """A receipt in capitals and digits has no ascender asymmetry: the geometric test
    decides seeds 2, 4 and 6 the wrong way round (upright and turned). Reading a few of its
    lines both ways tells every one."""
    from docvlm.preprocess import preprocess_scan

    img, _ = caps_receipt(seed)
    for page, want in ((img, 0), (np.ascontiguousarray(img[::-1, ::-1]), 180)):
        res = preprocess_scan(page, line_scores=shipped_reader.line_scores)
        assert res.rotation == want
        step = next(s for s in res.steps if s.name == "orientation")
        assert step.detail.startswith("read:")


@pytest.mark.parametrize("seed", [1, 3, 4])
def test_a_faint_receipt_in_capitals_is_turned_upright_by_reading_it(shipped_reader, seed):
    """The same receipts faded as SROIE's 003 is (ink 55 levels below the paper): unstretched,
    too few and too broken lines were found, and the vote either did not happen (None: the
    ascender test, which gets capitals wrong, decided) or said 'turned' (003; seed 1 with
    the stage-16 weights); the vote now reads the page stretched as it will be read."""
    from docvlm.preprocess import preprocess_scan, upside_down_by_reading

    img, _ = caps_receipt(seed)
    faint = np.clip(251 - (255 - img.astype(np.float32)) * (55 / 255), 0, 255).astype(np.uint8)
    unstretched = upside_down_by_reading(faint, shipped_reader.line_scores)
    assert unstretched is None or unstretched[0]  # no vote, or a wrong one
    for page, want in ((faint, 0), (np.ascontiguousarray(faint[::-1, ::-1]), 180)):
        res = preprocess_scan(page, line_scores=shipped_reader.line_scores)
        step = next(s for s in res.steps if s.name == "orientation")
        assert res.rotation == want and step.detail.startswith("read:"), step.detail


def test_too_few_lines_to_vote_fall_back_on_the_ascender_test(shipped_reader):
    from docvlm.preprocess import preprocess_scan, upside_down_by_reading

    doc = pymupdf.open()
    page = doc.new_page(width=300, height=200)
    page.insert_text((20, 80), "Quarterly report", fontname="helv", fontsize=14)
    page.insert_text((20, 120), "Prepared by the finance team", fontname="helv", fontsize=11)
    pix = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).copy()
    assert upside_down_by_reading(img, shipped_reader.line_scores) is None
    res = preprocess_scan(img, line_scores=shipped_reader.line_scores)
    step = next(s for s in res.steps if s.name == "orientation")
    assert res.rotation == 0 and step.detail.startswith("up/down confidence")


def test_an_upside_down_receipt_scan_is_read_upright(tmp_path):
    """End to end with the shipped weights: the page comes back turned (rotation 180, told
    by reading) and its lines read like the printed ones."""
    from docvlm.eval.metrics import corpus_cer

    img, lines = caps_receipt(4)
    path = tmp_path / "turned.png"
    Image.fromarray(np.ascontiguousarray(img[::-1, ::-1])).save(path, dpi=(200, 200))
    doc = extract(path, mode="vision")
    page = doc.pages[0]
    assert page.rotation == 180
    step = next(s for s in page.preprocessing if s.name == "orientation")
    assert step.detail.startswith("read:")
    got = " ".join(ln.text for r in page.regions for ln in r.lines)
    assert corpus_cer([got], [" ".join(lines)]) < 0.2
    # the line boxes turned back onto the scan as it came in cover its print
    turned = np.ascontiguousarray(img[::-1, ::-1])
    s = turned.shape[1] / page.width  # input pixels per point
    covered = np.zeros(turned.shape, bool)
    for ln in (ln for r in page.regions for ln in r.lines):
        b = page.source_box(ln.box)
        covered[int(b.y0 * s) : int(b.y1 * s) + 1, int(b.x0 * s) : int(b.x1 * s) + 1] = True
    ink = turned < 100
    assert covered[ink].mean() > 0.95
