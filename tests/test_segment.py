"""Classical line/block segmentation on synthetic pages with known truth, and the
segmentation-backed layout the pipeline uses for a model without page-layout training."""

import random

import numpy as np
import pytest

from docvlm import segment
from docvlm.eval.metrics import box_pr
from docvlm.passes import segment_layout
from docvlm.synth.pages import HELDOUT_SEED_BASE, make_page
from schemas import RegionLabel

DPI = 150


def _line_pr(kind: str, seed: int, degraded: bool) -> dict:
    p = make_page(HELDOUT_SEED_BASE + seed, kind, "heldout")
    img = p.render_degraded(DPI, random.Random(seed))[0] if degraded else p.render(DPI)
    s = img.shape[1] / p.width
    pred = [("t", tuple(v / s for v in r)) for r in segment.text_lines(img)]
    truth = [("t", ln.box) for g in p.regions for ln in g.lines]
    return box_pr(pred, truth, 0.5)


@pytest.mark.parametrize("kind", ["invoice", "table", "report", "letter", "form"])
@pytest.mark.parametrize("degraded", [False, True])
def test_text_lines_match_the_truth(kind, degraded):
    m = _line_pr(kind, 3, degraded)
    assert m["precision"] >= 0.75 and m["recall"] >= 0.75, m


def test_lines_are_in_reading_order_and_blocks_hold_them():
    img = np.full((200, 400), 255, np.uint8)
    for k, y in enumerate((20, 45, 120)):  # two lines of a paragraph, one far below
        for x in range(20, 300, 12):  # "letters" 9 px wide, a wider gap every fifth
            img[y : y + 12, x : x + 9] = 0 if (x // 12 + k) % 5 else 255
    lines = segment.text_lines(img)
    assert len(lines) == 3
    assert [r[1] for r in lines] == sorted(r[1] for r in lines)
    blocks = segment.text_blocks(img, lines)
    assert [len(b.lines) for b in blocks] == [2, 1]


def test_rules_and_blank_pages_give_no_lines():
    img = np.full((300, 300), 255, np.uint8)
    assert segment.text_lines(img) == []
    img[100:102, 10:290] = 0  # a horizontal rule
    img[10:290, 150:152] = 0  # a vertical rule
    assert segment.text_lines(img) == []


def test_segment_layout_finds_checkboxes_and_their_state():
    for seed in range(4):
        p = make_page(HELDOUT_SEED_BASE + seed, "form", "heldout")
        truth = [kv for kv in p.kv if isinstance(kv.value, bool)]
        if truth:
            break
    img = p.render(DPI)
    regions = segment_layout(img, 1, p.width, p.height)
    boxes = [r for r in regions if r.label == RegionLabel.CHECKBOX]
    assert len(boxes) == len(truth)
    for kv in truth:
        cx = (kv.value_box[0] + kv.value_box[2]) / 2
        cy = (kv.value_box[1] + kv.value_box[3]) / 2
        hit = [r for r in boxes if r.box.x0 <= cx <= r.box.x1 and r.box.y0 <= cy <= r.box.y1]
        assert len(hit) == 1 and hit[0].text == ("\u2612" if kv.value else "\u2610")
    texts = [r for r in regions if r.label == RegionLabel.TEXT]
    assert texts and all(r.lines and r.id.startswith("p1-r") for r in texts)
    assert [r.order for r in regions] == list(range(len(regions)))


def _structure(cells) -> set:
    return {(c.row, c.col, c.row_span, c.col_span) for c in cells}


def test_ruled_tables_recover_the_grid_with_spans():
    seen_span = False
    for seed in range(4):
        p = make_page(HELDOUT_SEED_BASE + seed, "table", "heldout")  # held out: ruled
        truth = next(g for g in p.regions if g.table is not None).table
        found = segment.ruled_tables(p.render(DPI))
        assert len(found) == 1
        t = found[0]
        assert (t.n_rows, t.n_cols) == (truth.n_rows, truth.n_cols)
        assert _structure(t.cells) == _structure(truth.cells)
        seen_span |= any(c.row_span > 1 or c.col_span > 1 for c in truth.cells)
    assert seen_span  # the check covered spanning cells
    # an unruled table (template 1) is not a ruled grid: left to the model
    unruled = next(make_page(s, "table", "train") for s in range(20)
                   if make_page(s, "table", "train").variant == 1)
    assert segment.ruled_tables(unruled.render(DPI)) == []


def test_segment_layout_puts_table_text_in_cells_not_blocks():
    p = make_page(HELDOUT_SEED_BASE + 1, "table", "heldout")
    regions = segment_layout(p.render(DPI), 1, p.width, p.height)
    tables = [r for r in regions if r.label == RegionLabel.TABLE]
    assert len(tables) == 1 and tables[0].table.n_rows >= 2
    tb = tables[0].box
    for r in regions:
        if r.label == RegionLabel.TEXT:  # no text block inside the table
            cy = (r.box.y0 + r.box.y1) / 2
            assert not (tb.y0 < cy < tb.y1 and tb.x0 < r.box.x0 < tb.x1)
