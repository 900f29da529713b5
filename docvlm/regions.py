"""Regions without the model (no torch import): classical-segmentation layout, the
anchored mode's assignment of text-layer words to regions, and the structure a segmented
page gets from its text (key/value pairs, checkbox keys, titles, headers, lists)."""

from __future__ import annotations

import difflib
import re
from itertools import pairwise

import numpy as np

from docvlm import segment
from schemas import Box, FormField, Line, Region, RegionLabel, Source, Table, TableCell, Word


def _box_pt(rect: segment.Rect, sx: float, sy: float, page: int) -> Box:
    x0, y0, x1, y1 = rect
    return Box(page=page, x0=round(x0 / sx, 2), y0=round(y0 / sy, 2), x1=round(x1 / sx, 2),
               y1=round(y1 / sy, 2))


def _chains(spans: list[tuple[float, float, int]], gap: float) -> list[list[int]]:
    """Items grouped where their intervals chain together: a new group starts where an
    interval begins ``gap`` or more past the end of all before it (a negative ``gap``: an
    overlap that small still parts them)."""
    groups: list[list[int]] = []
    end = -float("inf")
    for a, b, i in sorted(spans):
        if not groups or a >= end + gap:
            groups.append([i])
        else:
            groups[-1].append(i)
        end = max(end, b)
    return groups


def reading_order(regions: list[Region]) -> list[Region]:
    """Regions in reading order, by recursive XY-cut (Nagy & Seth 1984): a page is cut into
    bands at the horizontal gaps no region crosses, top to bottom; a band into columns at
    the vertical gutters (half a line wide or more) no region crosses, left to right; and so
    on within each. Consecutive bands of running text (a region of two lines or more on
    each) split by the same gutter are one band first, so two columns of paragraphs whose
    gaps happen to line up are still read column by column. What no cut parts is read top
    to bottom, left to right on a row."""
    if len(regions) < 2:
        return list(regions)
    boxes = [r.box for r in regions]
    heights = sorted(ln.box.y1 - ln.box.y0 for r in regions for ln in r.lines) or sorted(
        b.y1 - b.y0 for b in boxes)
    lh = max(1.0, heights[len(heights) // 2])
    tall = [len(r.lines) >= 2 and r.label != RegionLabel.TABLE for r in regions]

    def bands(idx: list[int]) -> list[list[int]]:
        return _chains([(boxes[i].y0, boxes[i].y1, i) for i in idx], -0.15 * lh)

    def columns(idx: list[int]) -> list[list[int]]:
        return _chains([(boxes[i].x0, boxes[i].x1, i) for i in idx], 0.5 * lh)

    def order(idx: list[int], cut_rows: bool = True) -> list[int]:
        if len(idx) < 2:
            return idx
        if cut_rows:
            groups: list[tuple[list[int], int]] = []  # (indices, bands merged)
            for b in bands(idx):
                if groups:
                    g, n = groups[-1]
                    if (any(tall[i] for i in b) and any(tall[i] for i in g)
                            and len(columns(b)) > 1 and len(columns(g)) > 1
                            and len(columns(g + b)) > 1):
                        groups[-1] = (g + b, n + 1)
                        continue
                groups.append((b, 1))
            if len(groups) > 1:
                return [i for g, n in groups for i in order(g, cut_rows=n == 1)]
        cols = columns(idx)
        if len(cols) > 1:
            return [i for c in cols for i in order(c)]
        return sorted(idx, key=lambda i: (round(boxes[i].y0 / 4), boxes[i].x0))

    return [regions[i] for i in order(list(range(len(regions))))]


def segment_layout(image: np.ndarray, number: int, width: float, height: float
                   ) -> list[Region]:
    """Regions from classical segmentation, geometry only (the parse pass reads their
    lines): ruled tables (cell grids); checkboxes (checked when their inside holds ink) with
    the label beside them; fill-in fields (underlines, outlined boxes) with the label left of
    them and the value on them, as key/value regions; tables without rules (columns lined
    up); rows ending in a label and a value far apart, as key/value regions, or four and
    more at an even pitch as one list; the rest as text blocks. Line boxes are typographic;
    fields carry empty keys until :func:`structure` fills them from the lines read."""
    h, w = image.shape[:2]
    sx, sy = w / width, h / height
    boxes: list[segment.Rect] = []
    ink = segment.ink_mask(image)  # once: lines, tables and checkbox states all start here
    lines = segment.text_lines(image, boxes_out=boxes, ink=ink)
    regions: list[Region] = []
    tables = segment.ruled_tables(image, ink=ink)

    def line(rect: segment.Rect) -> Line:
        return Line(text="", box=_box_pt(segment.typographic(rect), sx, sy, number))

    def in_table(r: segment.Rect) -> bool:
        return any(_centre_in(r, t.box) for t in tables)

    def table_region(t: segment.RuledTable, among: list[segment.Rect]) -> Region:
        """A table and, as its lines, the text lines of ``among`` inside it (the boxes of
        what its cells hold, as born-digital tables carry their text layer's lines)."""
        box = _box_pt(t.box, sx, sy, number)
        inside = [ln for ln in among if _centre_in(ln, t.box)]
        cells = [TableCell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span,
                           column_header=c.row == 0, box=_box_pt(c.box, sx, sy, number))
                 for c in t.cells]
        return Region(id="", label=RegionLabel.TABLE, box=box, source=Source.VISION,
                      lines=[line(ln) for ln in segment.sort_lines(inside)],
                      table=Table(n_rows=t.n_rows, n_cols=t.n_cols, cells=cells, box=box))

    regions.extend(table_region(t, lines) for t in tables)
    lines = [ln for ln in lines if not in_table(ln)]
    boxes = [b for b in boxes if not in_table(b)]

    def key_value(key: segment.Rect, values: list[segment.Rect], value_rect: segment.Rect
                  ) -> Region:
        """A key/value region: its label line, the lines of its value, and the value's place
        (a fill-in field's box, or the value line itself); keys are filled in by
        :func:`structure` once the lines are read."""
        return Region(
            id="", label=RegionLabel.KEY_VALUE, source=Source.VISION,
            box=_box_pt(_union_rect([value_rect, *map(segment.typographic, [key, *values])]),
                        sx, sy, number),
            lines=[line(ln) for ln in [key, *values]],
            field=FormField(key="", value=None, key_box=line(key).box,
                            value_box=_box_pt(value_rect, sx, sy, number),
                            source=Source.VISION))

    taken: set[segment.Rect] = set()
    for x0, y0, x1, y1 in boxes:  # a checkbox and the label beside it
        checked = segment.box_is_checked(ink, (x0, y0, x1, y1))
        cb = (x0, y0, x1, y1)
        beside = [ln for ln in lines if ln not in taken and _rows_meet(ln, cb)
                  and 0 <= ln[0] - x1 < 4 * (y1 - y0)]
        label = [min(beside)] if beside else []
        taken.update(label)
        regions.append(Region(
            id="", label=RegionLabel.CHECKBOX, box=_box_pt(_union_rect([cb, *map(
                segment.typographic, label)]), sx, sy, number),
            text="\u2612" if checked else "\u2610", source=Source.VISION,
            lines=[line(ln) for ln in label],
            field=FormField(key="", value="true" if checked else "false",
                            key_box=line(label[0]).box if label else None,
                            value_box=_box_pt(cb, sx, sy, number), source=Source.VISION)))
    for f in segment.fill_in_fields(ink, [t.box for t in tables]):
        # a label left of an underline or box, and what is written on it
        left = [ln for ln in lines if ln not in taken and _rows_meet(ln, f)
                and ln[2] <= f[0] + 0.3 * (ln[3] - ln[1])
                and f[0] - ln[2] < 8 * (ln[3] - ln[1])]
        if not left:  # or a label run into the field: 'Amount claimed: 41.13' as one line
            left = [ln for ln in lines if ln not in taken and _rows_meet(ln, f)
                    and ln[0] < f[0] < ln[2] and f[0] - ln[0] < 20 * (ln[3] - ln[1])]
        if not left:
            continue
        key = max(left, key=lambda r: r[2])
        values = [ln for ln in lines if ln not in taken and ln != key and _rows_meet(ln, f)
                  and f[0] - 2 <= (ln[0] + ln[2]) / 2 and ln[2] <= f[2] + 0.5 * (ln[3] - ln[1])]
        taken.update([key, *values])
        regions.append(key_value(key, values, f))
    # tables without rules, from what the form's fields left: two columns of fields side by
    # side would otherwise line up like a four-column table
    for t in segment.open_tables(ink, [ln for ln in lines if ln not in taken],
                                 exclude=[t.box for t in tables]):
        regions.append(table_region(t, [ln for ln in lines if ln not in taken]))
        tables.append(t)
        taken.update(ln for ln in lines if ln not in taken and in_table(ln))
    for t in segment.aligned_tables([ln for ln in lines if ln not in taken]):
        regions.append(table_region(t, [ln for ln in lines if ln not in taken]))
        tables.append(t)
        taken.update(ln for ln in lines if ln not in taken and in_table(ln))
    for group, listed in _pair_rows([ln for ln in lines if ln not in taken]):
        taken.update(ln for row in group for ln in row)
        if listed:  # items with amounts: one list
            regions.append(Region(
                id="", label=RegionLabel.LIST, source=Source.VISION,
                box=_box_pt(_union_rect([segment.typographic(ln) for row in group for ln in row]),
                            sx, sy, number),
                lines=[line(ln) for row in group for ln in row]))
            continue
        regions.extend(key_value(key, [value], segment.typographic(value))
                       for key, value in group)
    for b in segment.text_blocks(image, [ln for ln in lines if ln not in taken], body=lines,
                                   ink=ink):
        heading = b.bold and len(b.lines) <= 2  # a title or a section's heading: structure()
        regions.append(Region(  # tells which
            id="", label=RegionLabel.SECTION_HEADER if heading else RegionLabel.TEXT,
            box=_box_pt(_union_rect(
                [segment.typographic(ln) for ln in b.lines]), sx, sy, number),
            source=Source.VISION, lines=[line(ln) for ln in b.lines]))
    regions = reading_order(regions)
    for k, r in enumerate(regions):
        r.id, r.order = f"p{number}-r{k}", k
    return regions


def _pair_rows(lines: list[segment.Rect]
               ) -> list[tuple[list[tuple[segment.Rect, segment.Rect]], bool]]:
    """Rows ending in two lines of like height far apart (over 1.2 line heights: a label
    and its value, an item and its price; whatever else is on the row well left of them),
    grouped while the rows follow each other at an
    even pitch with their left lines aligned, and kept when they read as label -> value
    (:func:`_labelled`). Only lines of narrow blocks (at most 14 line
    heights wide) pair up: the columns of a two-column page are wider. Returns each group
    with whether it is a list (it came of four rows or more: items with amounts), its first
    or last row split off when set apart (:func:`_trim_ends`)."""
    if not lines:
        return []
    lh = float(np.median([ln[3] - ln[1] for ln in lines]))
    narrow = {ln for b in segment.text_blocks(None, lines)
              if max(x[2] - x[0] for x in b.lines) <= 14 * lh for ln in b.lines}
    rows: list[tuple[segment.Rect, segment.Rect]] = []
    for ln in lines:
        row = sorted(o for o in lines if _rows_meet(o, ln) and _rows_meet(ln, o))
        if len(row) < 2 or row[-2] != ln or not all(o in narrow for o in row[-2:]):
            continue
        if len(row) > 2 and ln[0] - row[-3][2] < 4 * lh:
            continue  # the last two of several pieces close together: a table row
        a, b = (r[3] - r[1] for r in row[-2:])
        if row[-1][0] - ln[2] > 1.2 * lh and max(a, b) <= 1.4 * min(a, b):
            rows.append((ln, row[-1]))
    rows.sort(key=lambda p: p[0][1])
    groups: list[list[tuple[segment.Rect, segment.Rect]]] = []
    for key, value in rows:
        if groups:
            g = groups[-1]
            gap = key[1] - g[-1][0][3]
            step = (key[1] + key[3] - g[-1][0][1] - g[-1][0][3]) / 2  # centre to centre
            pitch = (g[-1][0][1] + g[-1][0][3] - g[0][0][1] - g[0][0][3]) / 2 / (len(g) - 1) \
                if len(g) > 1 else None  # the group's own row pitch
            if (gap <= 1.2 * lh and abs(key[0] - g[-1][0][0]) <= lh
                    and (pitch is None or step <= 1.25 * pitch)):
                g.append((key, value))
                continue
        groups.append([(key, value)])
    right = max(ln[2] for ln in lines)  # the text's right edge
    return [(part, len(g) >= 4 and len(part) >= 2) for g in groups
            if _labelled(g, lh, right) for part in _trim_ends(g)]


def _trim_ends(group: list[tuple[segment.Rect, segment.Rect]]
               ) -> list[list[tuple[segment.Rect, segment.Rect]]]:
    """A group's first or last row set apart from the rest by a wider step than theirs (a
    receipt's date line over its items, a total under them) is a group of its own."""
    if len(group) < 4:
        return [group]
    mids = [(k[1] + k[3]) / 2 for k, _ in group]
    steps = [b - a for a, b in pairwise(mids)]
    head, tail = [], []
    if steps[0] > 1.2 * float(np.median(steps[1:])):
        head = [group[:1]]
        group, steps = group[1:], steps[1:]
    if len(group) >= 3 and steps[-1] > 1.2 * float(np.median(steps[:-1])):
        tail = [group[-1:]]
        group = group[:-1]
    return head + [group] + tail


def _labelled(group: list[tuple[segment.Rect, segment.Rect]], lh: float, right: int) -> bool:
    """Rows that read as label -> value: the values start close after the longest label
    (within 4 line heights), or they are amounts set flush right (right edges aligned, left
    ones ragged or the values short; or a lone short value at the text's right edge). Two
    blocks side by side (a sender's and a recipient's address) have their second column far
    away and flush left."""
    keys, values = [k for k, _ in group], [v for _, v in group]
    if min(v[0] for v in values) - max(k[2] for k in keys) <= 4 * lh:
        return True
    x0s, x1s = [v[0] for v in values], [v[2] for v in values]
    if len(group) > 1:  # right edges aligned, left ones ragged (or short values: amounts
        # of as many digits align on both sides)
        return max(x1s) - min(x1s) <= 0.5 * lh and (
            max(x0s) - min(x0s) > 0.5 * lh or max(b - a for a, b in zip(x0s, x1s)) <= 6 * lh)
    v = values[0]
    return right - v[2] <= lh and v[2] - v[0] <= 8 * lh


def _union_rect(rects: list[segment.Rect]) -> segment.Rect:
    return (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects),
            max(r[3] for r in rects))


def _centre_in(r: segment.Rect, box: segment.Rect) -> bool:
    cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _rows_meet(a: segment.Rect, b: segment.Rect) -> bool:
    """``a`` (a text line) sits on ``b``'s row: half its height overlaps ``b`` vertically."""
    return min(a[3], b[3]) - max(a[1], b[1]) >= 0.5 * (a[3] - a[1])


def _split_lines(text: str, box: Box, conf: float) -> list[Line]:
    """Lines of a region read as one text, boxes by dividing the region's height evenly."""
    rows = [t for t in text.split("\n") if t.strip()]
    if not rows:
        return []
    step = (box.y1 - box.y0) / len(rows)
    return [Line(text=t, confidence=conf, box=Box(page=box.page, x0=box.x0,
                                                   y0=round(box.y0 + i * step, 2),
                                                   x1=box.x1,
                                                   y1=round(box.y0 + (i + 1) * step, 2)))
            for i, t in enumerate(rows)]


def _place_cells(table: Table, box: Box) -> Table:
    """Cell boxes from an even grid over the table region (the model emits structure only)."""
    if not table.n_rows or not table.n_cols:
        return table
    cw, rh = (box.x1 - box.x0) / table.n_cols, (box.y1 - box.y0) / table.n_rows
    cells = [TableCell(**{**c.model_dump(exclude={"box"}), "box": Box(
        page=box.page, x0=round(box.x0 + c.col * cw, 2), y0=round(box.y0 + c.row * rh, 2),
        x1=round(box.x0 + (c.col + c.col_span) * cw, 2),
        y1=round(box.y0 + (c.row + c.row_span) * rh, 2))}) for c in table.cells]
    return Table(n_rows=table.n_rows, n_cols=table.n_cols, cells=cells, box=box)


def anchor_text(regions: list[Region], text_regions: list[Region], number: int
                ) -> list[Region]:
    """Anchored mode: each text-layer word goes to the region containing its centre;
    regions keep their labels and boxes (from the model or from segmentation; lines found by
    segmentation are replaced by the text layer's), text is the text layer's, exactly, and a
    table's cells get the words inside them. Words in no region keep their own text-layer
    region (labelled text)."""
    out = [r.model_copy(deep=True, update={"lines": []}) for r in regions]
    leftovers: list[Region] = []
    for tr in text_regions:
        for ln in tr.lines:
            groups: dict[int, list[Word]] = {}
            for w in ln.words:
                cx, cy = (w.box.x0 + w.box.x1) / 2, (w.box.y0 + w.box.y1) / 2
                hit = next((i for i, r in enumerate(out) if r.box.x0 <= cx <= r.box.x1
                            and r.box.y0 <= cy <= r.box.y1), -1)
                groups.setdefault(hit, []).append(w)
            for i, words in groups.items():
                line = Line(text=" ".join(w.text for w in words), words=words, box=Box(
                    page=number, x0=min(w.box.x0 for w in words),
                    y0=min(w.box.y0 for w in words), x1=max(w.box.x1 for w in words),
                    y1=max(w.box.y1 for w in words)))
                if i < 0:
                    leftovers.append(line)
                else:
                    out[i].lines.append(line)
                    if out[i].table is not None:
                        _fill_cells(out[i].table, words)
    for r in out:
        r.text = (r.table.to_markdown() if r.table is not None and r.table.cells
                  else "\n".join(ln.text for ln in r.lines))
        r.source = Source.TEXT_LAYER if r.lines else Source.VISION
    for k, ln in enumerate(leftovers):
        out.append(Region(id=f"p{number}-a{k}", label=RegionLabel.TEXT, box=ln.box,
                          text=ln.text, lines=[ln], source=Source.TEXT_LAYER))
    for order, r in enumerate(out):
        r.order = order
    return out


def _fill_cells(table: Table, words: list[Word]) -> None:
    for w in words:
        cx, cy = (w.box.x0 + w.box.x1) / 2, (w.box.y0 + w.box.y1) / 2
        for c in table.cells:
            if c.box is not None and c.box.x0 <= cx <= c.box.x1 and c.box.y0 <= cy <= c.box.y1:
                c.text = f"{c.text} {w.text}" if c.text else w.text
                break


def usable_text_layer(text_regions: list[Region]) -> bool:
    """A text layer worth trusting: enough words, mostly letters/digits/punctuation (not
    replacement characters or private-use glyph junk from broken font encodings)."""
    text = "".join(r.text for r in text_regions)
    if len(text.strip()) < 3:
        return False
    good = sum(ch.isalnum() or ch.isspace() or ch in ".,;:!?()[]{}'\"-/%&@#*+=<>$€£" for ch in
               text)
    return good / len(text) >= 0.85 and text.count("\ufffd") / len(text) < 0.05


BULLET = re.compile(r"^\s*([\u2022\u2023\u25aa\u25cf\u25e6*\u2013\u2014-]|\(?\d{1,3}[.)]|"
                    r"\(?[a-z][.)])\s+\S")
KV_LINE = re.compile(r"^\s*([A-Za-z][\w .#/&()'-]{0,38}?)\s*:\s+(\S.*)$")
# a caption's own label ("Table 2: ...", "Figure 3. ..."): the text after it is no field value
CAPTION_LINE = re.compile(r"^\s*(table|tab\.|figure|fig\.?|chart|exhibit)\s+[\dIVX]+[a-z]?\s*[:.]",
                          re.I)


def _union(boxes: list[Box]) -> Box:
    return Box(page=boxes[0].page, x0=min(b.x0 for b in boxes), y0=min(b.y0 for b in boxes),
               x1=max(b.x1 for b in boxes), y1=max(b.y1 for b in boxes))


def _same_row(a: Box, b: Box) -> bool:
    ov = min(a.y1, b.y1) - max(a.y0, b.y0)
    return ov >= 0.5 * min(a.y1 - a.y0, b.y1 - b.y0)


def structure(regions: list[Region], number: int, width: float, height: float
              ) -> list[Region]:
    """Labels and key/value pairs for segmented, read regions (no model layout): a line
    ending in ':' and the nearest line right of it on its row become a key/value region
    with its field, as does a one-line region 'Key: value'; checkboxes get the text beside
    them as their key; the largest text near the top is the title, short larger text a
    section header, text in the top or bottom margin a header or footer, and blocks whose
    lines start with bullets or numbers lists. Reading order is renumbered."""
    for r in regions:
        if r.field is not None and r.field.key == "" and r.label in (RegionLabel.KEY_VALUE,
                                                                      RegionLabel.CHECKBOX):
            _fill_field(r)
    # segmentation's bold headings take part too: a bold label and its value are a pair
    texts = [r for r in regions if r.label in (RegionLabel.TEXT, RegionLabel.SECTION_HEADER)]
    lines = [ln for r in texts for ln in r.lines if ln.text.strip()]
    if not lines:
        return regions
    src = {id(ln): r.source for r in texts for ln in r.lines}
    med = float(np.median([ln.box.y1 - ln.box.y0 for ln in lines]))
    used: set[int] = set()
    new: list[Region] = []
    for ln in lines:
        t = ln.text.strip()
        if id(ln) in used or not (t.endswith(":") and 1 < len(t) <= 40):
            continue
        right = [o for o in lines if id(o) not in used and o is not ln
                 and o.box.x0 >= ln.box.x1 - 2 and _same_row(o.box, ln.box)
                 and o.box.x0 - ln.box.x1 < 0.4 * width and not o.text.strip().endswith(":")]
        if not right:
            continue
        val = min(right, key=lambda o: o.box.x0)
        used |= {id(ln), id(val)}
        new.append(_kv_region(ln, val, t[:-1].strip(), val.text.strip(), src[id(ln)]))
    for r in texts:
        if len(r.lines) == 1 and id(r.lines[0]) not in used:
            m = KV_LINE.match(r.lines[0].text)
            if m and not BULLET.match(r.lines[0].text) and not CAPTION_LINE.match(
                    r.lines[0].text):
                used.add(id(r.lines[0]))
                new.append(_kv_region(r.lines[0], None, m.group(1).strip(), m.group(2).strip(),
                                      r.source))
    out: list[Region] = []
    for r in regions:
        if r.label in (RegionLabel.TEXT, RegionLabel.SECTION_HEADER):
            keep = [ln for ln in r.lines if id(ln) not in used]
            if not keep:
                continue
            if len(keep) != len(r.lines):
                r = r.model_copy(update={"lines": keep, "box": _union([ln.box for ln in keep]),
                                         "text": "\n".join(ln.text for ln in keep if ln.text)})
        out.append(r)
    out += new
    for cb in (r for r in out if r.label == RegionLabel.CHECKBOX and r.field is None):
        beside = [ln for ln in lines if _same_row(ln.box, cb.box) and 0 <= ln.box.x0 - cb.box.x1
                  < 4 * (cb.box.y1 - cb.box.y0)]
        if beside:
            ln = min(beside, key=lambda ln: ln.box.x0)
            cb.field = FormField(key=ln.text.strip(), value="true" if cb.text == "\u2612"
                                 else "false", key_box=ln.box, value_box=cb.box,
                                 confidence=ln.confidence, source=src[id(ln)])
    out = _label_blocks(out, med)
    _label(out, med, width, height)
    out = reading_order(out)
    for k, r in enumerate(out):
        r.id, r.order = f"p{number}-r{k}", k
    return out


def _label_blocks(regions: list[Region], med: float) -> list[Region]:
    """A one-line bold label ending in ':' right over a block ("Bill to:" over an address)
    is that block's first line, not a heading of its own; a letter's closing line and the
    name under it are one block."""
    out = list(regions)
    for h in [r for r in regions if r.label == RegionLabel.SECTION_HEADER
              and len(r.lines) == 1 and r.text.strip().endswith(":")]:
        under = [r for r in out if r.label == RegionLabel.TEXT and r.lines
                 and 0 <= r.box.y0 - h.box.y1 <= med and abs(r.box.x0 - h.box.x0) <= med]
        if not under:
            continue
        b = min(under, key=lambda r: r.box.y0)
        out[out.index(b)] = _stacked(b, h, b)
        out.remove(h)
    # a letter's closing ("Yours sincerely,") and the name signed under it, a signature's
    # height apart: one block
    for c in [r for r in out if r.label == RegionLabel.TEXT and len(r.lines) == 1
              and CLOSING.match(r.text)]:
        under = [r for r in out if r.label == RegionLabel.TEXT and 1 <= len(r.lines) <= 2
                 and 0 <= r.box.y0 - c.box.y1 <= 5 * med and abs(r.box.x0 - c.box.x0) <= med]
        if not under:
            continue
        b = min(under, key=lambda r: r.box.y0)
        if any(r is not b and r is not c and r.box.y0 < b.box.y0 and r.box.y1 > c.box.y1
               and r.box.x0 < max(b.box.x1, c.box.x1) and r.box.x1 > c.box.x0 for r in out):
            continue  # something between them
        out[out.index(c)] = _stacked(c, c, b)
        out.remove(b)
    return out


def _stacked(base: Region, top: Region, bottom: Region) -> Region:
    """``base`` holding the lines of ``top`` over those of ``bottom`` (one block)."""
    lines = [*top.lines, *bottom.lines]
    return base.model_copy(update={
        "lines": lines, "box": _union([ln.box for ln in lines]),
        "text": "\n".join(ln.text for ln in lines if ln.text),
        "confidence": min(top.confidence, bottom.confidence)})


CLOSING = re.compile(r"^\s*(yours\b.*|(kind|best|warm)(est)?\s+(regards|wishes)|regards|"
                     r"sincerely|respectfully|with thanks|cheers)\s*[,.]?\s*$", re.I)


SIGNATURE = re.compile(r"^\s*(signature|signed|sign here)\b", re.I)


def _is_signature(key: str) -> bool:
    """A signature's label, read right or nearly (``Signcture``: one letter misread)."""
    word = re.sub(r"[^a-z]", "", key.lower().split(" ")[0] if key.strip() else "")
    return bool(SIGNATURE.match(key)) or difflib.SequenceMatcher(
        None, word, "signature").ratio() >= 0.8


def _fill_field(r: Region) -> None:
    """A segmented form field's key and value from its read lines: a checkbox's key is the
    label beside it; on a fill-in field, text left of the field's box is the key, text on it
    the value. A signature line without a value is a form field, not a key/value pair."""
    f = r.field
    if r.label == RegionLabel.CHECKBOX:
        key = " ".join(ln.text.strip() for ln in r.lines if ln.text.strip())
        f.key = key
        r.text = ("\u2612" if f.value == "true" else "\u2610") + (f" {key}" if key else "")
    else:
        x = f.value_box.x0 if f.value_box is not None else r.box.x1
        keys, vals = [], []
        for ln in r.lines:
            parts = ([(w.text, w.box) for w in ln.words] if ln.words
                     else [(ln.text.strip(), ln.box)])
            if not ln.words and ln.box.x0 < x < ln.box.x1 and ":" in ln.text:
                k, v = ln.text.split(":", 1)  # a label and its value read as one line
                keys.append(k)
                vals.append(v.strip())
                continue
            for t, b in parts:
                if t:
                    (keys if (b.x0 + b.x1) / 2 < x else vals).append(t)
        f.key = " ".join(keys).strip().rstrip(":").strip()
        f.value = " ".join(vals).strip() or None
        inline = _inline_value(f.key)
        if inline is not None:  # 'Date: 15/11/1997' and a time far right: the date is it
            f.key, f.value = inline
        if f.value is None and _is_signature(f.key):
            r.label = RegionLabel.FORM_FIELD
    if r.lines:
        f.confidence = r.confidence = min(ln.confidence for ln in r.lines)
    f.source = r.source


def _inline_value(key: str) -> tuple[str, str] | None:
    """A key side that holds its value already: 'Date: 15/11/1997' (a label, a colon and
    text), or a label run into a number, its colon lost in reading ('Date 15/11/1997'):
    (label, value), else None."""
    m = KV_LINE.match(key) or re.fullmatch(
        r"([A-Za-z][A-Za-z .#]*?)\s+(\S*\d\S*\d\S*\d\S*(?:\s+\S+)*)", key)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return None


def _kv_region(key: Line, value: Line | None, k: str, v: str, source: Source) -> Region:
    lines = [key] if value is None else [key, value]
    conf = min(ln.confidence for ln in lines)
    return Region(id="", label=RegionLabel.KEY_VALUE, box=_union([ln.box for ln in lines]),
                  text=" ".join(ln.text.strip() for ln in lines), confidence=conf,
                  source=source, lines=lines,
                  field=FormField(key=k, value=v, key_box=key.box,
                                  value_box=value.box if value else key.box,
                                  confidence=conf, source=source))


def _centred_under(r: Region, title: Region, width: float) -> bool:
    """``r``'s lines are centred on the title's centre, and the title on the page."""
    c = (title.box.x0 + title.box.x1) / 2
    return abs(c - width / 2) < 0.05 * width and all(
        abs((ln.box.x0 + ln.box.x1) / 2 - c) < 0.05 * width for ln in r.lines)


def _label(regions: list[Region], med: float, width: float, height: float) -> None:
    texts = [r for r in regions if r.label == RegionLabel.TEXT and r.lines]

    def line_h(r: Region) -> float:
        return float(np.median([ln.box.y1 - ln.box.y0 for ln in r.lines]))

    # the title: the largest type of the page's top, or a bold heading opening the page
    top = [r for r in regions if r.label in (RegionLabel.TEXT, RegionLabel.SECTION_HEADER)
           and r.lines and r.box.y0 < 0.3 * height and len(r.lines) <= 2]
    title = max(top, key=line_h, default=None)
    first = min(regions, key=lambda r: (r.box.y0, r.box.x0), default=None)
    if title is not None and (line_h(title) >= 1.3 * med or (
            title is first and title.label == RegionLabel.SECTION_HEADER)):
        title.label = RegionLabel.TITLE
    else:
        title = None
    lowest = max(regions, key=lambda r: r.box.y1)
    tables = [r.box for r in regions if r.label == RegionLabel.TABLE]
    for r in texts:
        if r.label != RegionLabel.TEXT:
            continue
        if len(r.lines) <= 2 and any(0 <= r.box.y0 - t.y1 <= 1.5 * med and r.box.x0 < t.x1
                                     and r.box.x1 > t.x0 for t in tables):
            r.label = RegionLabel.CAPTION  # right under a table
            continue
        centred = abs((r.box.x0 + r.box.x1) / 2 - width / 2) < 0.12 * width
        if len(r.lines) <= 3 and (r.box.y0 > 0.92 * height or (r is lowest and (
                r.box.y0 > 0.8 * height or (centred and len(r.lines) == 1)))):
            r.label = RegionLabel.FOOTER  # the page's last words: low, or centred alone
        elif (r.box.y1 < 0.06 * height and len(r.lines) <= 2) or (
                title is not None and 2 <= len(r.lines) <= 6 and r.box.y1 < 0.35 * height
                and title.box.y0 - med <= r.box.y0 <= title.box.y1 + 2 * med
                and (max(ln.box.x1 - ln.box.x0 for ln in r.lines) <= 0.35 * width
                     or _centred_under(r, title, width))):
            r.label = RegionLabel.HEADER  # the letterhead: short lines (or centred under
            # a centred title) beside or right under it; a report's opening paragraph spans
            # its column
        elif len(r.lines) <= 2 and line_h(r) >= 1.15 * med:
            r.label = RegionLabel.SECTION_HEADER
        elif len(r.lines) >= 2 and sum(bool(BULLET.match(ln.text)) for ln in r.lines) >= max(
                2, 0.4 * len(r.lines)):  # items wrap: a bullet on at least 2 in 5 lines
            r.label = RegionLabel.LIST
