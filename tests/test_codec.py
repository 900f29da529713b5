"""Round trips object -> tokens -> object for boxes, layouts, OTSL tables and key/values."""

import itertools
import random

import pytest

from docvlm.model.codec import (
    box_from_bins,
    box_tokens,
    kv_target,
    layout_target,
    otsl_to_table,
    parse_kv,
    parse_layout,
    quantize,
    table_to_otsl,
)
from schemas import RegionLabel, Table, TableCell


@pytest.mark.parametrize("n", [100, 500])
def test_box_round_trip_within_half_a_bin(n):
    rng = random.Random(0)
    for _ in range(500):
        a, b = sorted(rng.random() for _ in range(2))
        c, d = sorted(rng.random() for _ in range(2))
        toks = box_tokens((a, c, b, d), n)
        bins = [int(t) for t in toks.replace(">", "").split("<loc_")[1:]]
        back = box_from_bins(bins, n)
        for x, y in zip((a, c, b, d), back):
            assert abs(x - y) <= 0.5 / n + 1e-12
    assert quantize(1.0, n) == n - 1 and quantize(-0.1, n) == 0


def test_layout_round_trip_and_garbage_tolerance():
    regions = [(lab.value, (0.06 * i, 0.05, 0.06 * i + 0.05, 0.9))
               for i, lab in enumerate(RegionLabel)]
    text = layout_target(regions, 500)
    out = parse_layout(text, 500, page=3, width=600, height=800)
    assert not out.problems
    assert [r.label.value for r in out.items] == [lab for lab, _ in regions]
    for r, (_, frac) in zip(out.items, regions):
        assert r.box.page == 3
        assert abs(r.box.x0 - frac[0] * 600) <= 0.61 and abs(r.box.y1 - frac[3] * 800) <= 0.81
    bad = parse_layout("<lbl_text><loc_1><loc_2><lbl_title><loc_1><loc_2><loc_3><loc_4>"
                       "<lbl_bogus><loc_1><loc_2><loc_3><loc_4><nl>", 500, 1, 100, 100)
    assert [r.label for r in bad.items] == [RegionLabel.TITLE]
    joined = " | ".join(bad.problems)
    assert "lacks 4 location tokens" in joined and "unknown label 'bogus'" in joined
    assert "unexpected <nl>" in joined


def _random_table(rng: random.Random, rows: int, cols: int) -> Table:
    taken = set()
    cells = []
    for r, c in itertools.product(range(rows), range(cols)):
        if (r, c) in taken:
            continue
        rs = cs = 1
        if rng.random() < 0.3:
            cs = rng.randint(1, cols - c)
            rs = rng.randint(1, rows - r)
            while any((a, b) in taken for a in range(r, r + rs) for b in range(c, c + cs)):
                cs, rs = max(1, cs - 1), max(1, rs - 1)
        taken |= {(a, b) for a in range(r, r + rs) for b in range(c, c + cs)}
        text = rng.choice(["", "12.50", "Total", "a b", "Né <x>"])
        cells.append(TableCell(row=r, col=c, row_span=rs, col_span=cs, text=text,
                               column_header=r == 0 and bool(text)))
    return Table(n_rows=rows, n_cols=cols, cells=cells)


def test_otsl_round_trip_exhaustive_random_tables():
    rng = random.Random(1)
    for _ in range(400):
        t = _random_table(rng, rng.randint(1, 6), rng.randint(1, 6))
        otsl = table_to_otsl(t)
        assert otsl.count("<nl>") == t.n_rows
        back, problems = otsl_to_table(otsl)
        assert problems == []
        assert back == t


def test_otsl_repairs_malformed_grids_without_crashing():
    cases = {
        "<fcel>a<fcel>b<nl><fcel>c<nl>": "padded",  # ragged row
        "<lcel>x<fcel>y<nl>": "merges into nothing",  # lcel at row start
        "<ucel><fcel>y<nl>": "merges into nothing",  # ucel in the first row
        "<fcel>a<lcel><nl><ucel><fcel>b<nl>": "not a rectangle",  # L-shaped span
        "junk<fcel>a<nl>": "outside any cell",
    }
    for text, expected in cases.items():
        table, problems = otsl_to_table(text)
        assert any(expected in p for p in problems), (text, problems)
        Table.model_validate(table.model_dump())  # always a valid grid
    rng = random.Random(2)
    toks = ["<fcel>a", "<ecel>", "<lcel>", "<ucel>", "<xcel>", "<nl>", "<ched>h", "zz"]
    for _ in range(2000):  # fuzz: never raises, always valid
        text = "".join(rng.choice(toks) for _ in range(rng.randint(0, 30)))
        table, _ = otsl_to_table(text)
        Table.model_validate(table.model_dump())


def test_kv_round_trip():
    pairs = [("Invoice no", "INV-1"), ("Paid", True), ("Shipped", False), ("PO", None)]
    out = parse_kv(kv_target(pairs))
    assert [(f.key, f.value) for f in out.items] == [
        ("Invoice no", "INV-1"), ("Paid", "true"), ("Shipped", "false"), ("PO", None)]
    assert parse_kv("<key>a<val>b<sep>garbage").problems
