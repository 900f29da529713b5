"""Targets as token strings, and back: boxes (location tokens), layouts, OTSL tables,
key/value pairs. Encoders build training targets; decoders turn generated text into
``schemas`` objects and never crash on malformed output (they repair or report).

Boxes are quantised to ``n`` bins per axis of the page (``<loc_0>``..``<loc_{n-1}>``, x0 y0
x1 y1, DocTags' convention); decoding returns bin centres, so the round-trip error is at most
half a bin (0.1 % of the page side for n = 500).

OTSL (Lysak et al., 2023, "Optimized Table Tokenization for Table Structure Recognition"):
one token per grid slot, row by row, each row ended by ``<nl>``: ``<fcel>`` a cell with text,
``<ecel>`` an empty cell, ``<lcel>`` covered by the cell to the left, ``<ucel>`` by the cell
above, ``<xcel>`` by both; here ``<ched>``/``<rhed>`` start column/row header cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from schemas import Box, FormField, Region, RegionLabel, Source, Table, TableCell

TOKEN_RE = re.compile(r"<(loc_\d+|fcel|ecel|lcel|ucel|xcel|nl|ched|rhed|key|val|sep|null|check|"
                      r"uncheck|lbl_[a-z_]+|region|/region)>")
START = {"fcel", "ecel", "ched", "rhed"}


# ---------------------------------------------------------------- boxes
def quantize(v: float, n: int) -> int:
    return min(n - 1, max(0, int(v * n)))


def box_tokens(frac: tuple[float, float, float, float], n: int) -> str:
    """Location tokens for a box given as fractions of the page (x0, y0, x1, y1)."""
    return "".join(f"<loc_{quantize(v, n)}>" for v in frac)


def box_from_bins(bins: list[int], n: int) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = ((b + 0.5) / n for b in bins)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def to_page_box(frac: tuple[float, float, float, float], page: int, width: float,
                height: float) -> Box:
    x0, y0, x1, y1 = frac
    return Box(page=page, x0=round(x0 * width, 2), y0=round(y0 * height, 2),
               x1=round(x1 * width, 2), y1=round(y1 * height, 2))


# ---------------------------------------------------------------- layout
def layout_target(regions: list[tuple[str, tuple[float, float, float, float]]], n: int) -> str:
    """``<lbl_text><loc_..>x4`` per region, in reading order."""
    return "".join(f"<lbl_{label}>{box_tokens(frac, n)}" for label, frac in regions)


@dataclass
class Parsed:
    items: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_layout(text: str, n: int, page: int, width: float, height: float) -> Parsed:
    """Regions from ``<lbl_X>`` + 4 location tokens; anything else is skipped and reported."""
    out = Parsed()
    toks = TOKEN_RE.findall(text)
    i = 0
    while i < len(toks):
        t = toks[i]
        if not t.startswith("lbl_"):
            out.problems.append(f"unexpected <{t}> at token {i}")
            i += 1
            continue
        label = t[4:]
        locs = toks[i + 1 : i + 5]
        if len(locs) < 4 or not all(x.startswith("loc_") for x in locs):
            out.problems.append(f"<{t}> at token {i} lacks 4 location tokens")
            i += 1
            continue
        try:
            lab = RegionLabel(label)
        except ValueError:
            out.problems.append(f"unknown label {label!r}")
            i += 5
            continue
        frac = box_from_bins([int(x[4:]) for x in locs], n)
        k = len(out.items)
        out.items.append(Region(id=f"p{page}-r{k}", label=lab, order=k, source=Source.VISION,
                                box=to_page_box(frac, page, width, height)))
        i += 5
    return out


# ---------------------------------------------------------------- OTSL tables
def table_to_otsl(table: Table) -> str:
    slots = [["<ecel>"] * table.n_cols for _ in range(table.n_rows)]
    for c in table.cells:
        for r in range(c.row, c.row + c.row_span):
            for k in range(c.col, c.col + c.col_span):
                if (r, k) == (c.row, c.col):
                    head = "ched" if c.column_header else "rhed" if c.row_header else None
                    text = " ".join(c.text.split())
                    slots[r][k] = (f"<{head}>" if head else "<fcel>" if text else "<ecel>") + text
                elif r == c.row:
                    slots[r][k] = "<lcel>"
                elif k == c.col:
                    slots[r][k] = "<ucel>"
                else:
                    slots[r][k] = "<xcel>"
    return "".join("".join(row) + "<nl>" for row in slots)


def otsl_to_table(text: str) -> tuple[Table, list[str]]:
    """Parse OTSL into a valid :class:`Table`, repairing what is malformed (ragged rows,
    merges with nothing to merge into, non-rectangular spans) and listing each repair."""
    problems: list[str] = []
    rows: list[list[tuple[str, str]]] = [[]]
    pos = 0
    for m in re.finditer(r"<(fcel|ecel|lcel|ucel|xcel|nl|ched|rhed)>", text):
        if rows[-1]:  # text between tags belongs to the previous slot
            tag, txt = rows[-1][-1]
            rows[-1][-1] = (tag, txt + text[pos : m.start()])
        elif text[pos : m.start()].strip():
            problems.append(f"text outside any cell dropped: {text[pos:m.start()].strip()!r}")
        pos = m.end()
        if m.group(1) == "nl":
            rows.append([])
        else:
            rows[-1].append((m.group(1), ""))
    if rows[-1]:
        tag, txt = rows[-1][-1]
        rows[-1][-1] = (tag, txt + text[pos:])
    rows = [r for r in rows if r]
    n_rows = len(rows)
    n_cols = max((len(r) for r in rows), default=0)
    for i, r in enumerate(rows):
        if len(r) < n_cols:
            problems.append(f"row {i} has {len(r)} of {n_cols} cells: padded")
            r.extend([("ecel", "")] * (n_cols - len(r)))
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    starts: dict[tuple[int, int], list] = {}
    for i, r in enumerate(rows):
        for j, (tag, txt) in enumerate(r):
            left, up = owner.get((i, j - 1)), owner.get((i - 1, j))
            src = None
            if tag == "lcel" and left is not None and left[0] == i:
                src = left  # only a span's first row continues leftwards with <lcel>
            elif up is not None and (tag == "ucel" or (tag == "xcel" and up == left)):
                src = up
            if tag in START or src is None:
                if tag not in START:
                    problems.append(f"<{tag}> at row {i}, col {j} merges into nothing: "
                                    "made an empty cell")
                    tag, txt = "ecel", txt
                starts[(i, j)] = [tag, txt.strip(), i, j, i, j]  # tag, text, r0, c0, r1, c1
                owner[(i, j)] = (i, j)
            else:
                owner[(i, j)] = src
                s = starts[src]
                s[4], s[5] = max(s[4], i), max(s[5], j)
    # spans must be rectangles fully owned by their start; otherwise shrink to the first row
    cells = []
    claimed: set[tuple[int, int]] = set()
    for (i, j), (tag, txt, r0, c0, r1, c1) in sorted(starts.items()):
        rect = {(a, b) for a in range(r0, r1 + 1) for b in range(c0, c1 + 1)}
        if any(owner.get(p) != (i, j) for p in rect) or rect & claimed:
            problems.append(f"span of cell at row {i}, col {j} is not a rectangle: cut")
            c1_ = c0
            while c1_ + 1 < n_cols and owner.get((r0, c1_ + 1)) == (i, j) \
                    and (r0, c1_ + 1) not in claimed:
                c1_ += 1
            r1, c1 = r0, c1_
            rect = {(r0, b) for b in range(c0, c1 + 1)}
        claimed |= rect
        cells.append(TableCell(row=r0, col=c0, row_span=r1 - r0 + 1, col_span=c1 - c0 + 1,
                               text=txt, column_header=tag == "ched", row_header=tag == "rhed"))
    for i in range(n_rows):  # orphans left by cut spans become empty cells
        for j in range(n_cols):
            if (i, j) not in claimed:
                cells.append(TableCell(row=i, col=j))
    cells.sort(key=lambda c: (c.row, c.col))
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells), problems


# ---------------------------------------------------------------- key/value pairs
def kv_target(pairs: list[tuple[str, str | bool | None]]) -> str:
    out = []
    for k, v in pairs:
        val = "<check>" if v is True else "<uncheck>" if v is False else \
            "<null>" if v is None else v
        out.append(f"<key>{k}<val>{val}")
    return "<sep>".join(out)


def parse_kv(text: str) -> Parsed:
    out = Parsed()
    for chunk in text.split("<sep>"):
        if not chunk.strip():
            continue
        m = re.fullmatch(r"\s*<key>(.*?)<val>(.*)", chunk, re.S)
        if not m:
            out.problems.append(f"malformed pair {chunk[:40]!r}")
            continue
        key, val = m.group(1).strip(), m.group(2).strip()
        value = {"<check>": "true", "<uncheck>": "false", "<null>": None}.get(val, val)
        out.items.append(FormField(key=key, value=value))
    return out
