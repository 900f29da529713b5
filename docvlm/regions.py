"""Regions without the model (no torch import): classical-segmentation layout, the
anchored mode's assignment of text-layer words to regions, and the structure a segmented
page gets from its text (key/value pairs, checkbox keys, titles, headers, lists)."""

from __future__ import annotations

import re

import numpy as np

from docvlm import segment
from schemas import Box, FormField, Line, Region, RegionLabel, Source, Table, TableCell, Word


def _box_pt(rect: segment.Rect, sx: float, sy: float, page: int) -> Box:
    x0, y0, x1, y1 = rect
    return Box(page=page, x0=round(x0 / sx, 2), y0=round(y0 / sy, 2), x1=round(x1 / sx, 2),
               y1=round(y1 / sy, 2))


def segment_layout(image: np.ndarray, number: int, width: float, height: float
                   ) -> list[Region]:
    """Regions from classical segmentation: text blocks (their lines' boxes kept, text to be
    read by the parse pass) and checkboxes (checked when their inside holds ink)."""
    h, w = image.shape[:2]
    sx, sy = w / width, h / height
    boxes: list[segment.Rect] = []
    ink = segment.ink_mask(image)  # once: lines, tables and checkbox states all start here
    lines = segment.text_lines(image, boxes_out=boxes, ink=ink)
    regions: list[Region] = []
    tables = segment.ruled_tables(image, ink=ink)
    for t in tables:
        box = _box_pt(t.box, sx, sy, number)
        cells = [TableCell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span,
                           column_header=c.row == 0, box=_box_pt(c.box, sx, sy, number))
                 for c in t.cells]
        regions.append(Region(id="", label=RegionLabel.TABLE, box=box, source=Source.VISION,
                              table=Table(n_rows=t.n_rows, n_cols=t.n_cols, cells=cells,
                                          box=box)))

    def in_table(r: segment.Rect) -> bool:
        cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
        return any(t.box[0] <= cx <= t.box[2] and t.box[1] <= cy <= t.box[3] for t in tables)

    lines = [ln for ln in lines if not in_table(ln)]
    boxes = [b for b in boxes if not in_table(b)]
    for b in segment.text_blocks(image, lines):
        regions.append(Region(
            id="", label=RegionLabel.TEXT, box=_box_pt(b.box, sx, sy, number),
            source=Source.VISION,
            lines=[Line(text="", box=_box_pt(ln, sx, sy, number)) for ln in b.lines]))
    for x0, y0, x1, y1 in boxes:
        t = max(2, (x1 - x0) // 5)
        inside = ink[y0 + t : y1 - t, x0 + t : x1 - t]
        checked = inside.size > 0 and inside.mean() > 0.08
        regions.append(Region(id="", label=RegionLabel.CHECKBOX,
                              box=_box_pt((x0, y0, x1, y1), sx, sy, number),
                              text="\u2612" if checked else "\u2610", source=Source.VISION))
    regions.sort(key=lambda r: (round(r.box.y0 / 4), r.box.x0))
    for k, r in enumerate(regions):
        r.id, r.order = f"p{number}-r{k}", k
    return regions


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
    texts = [r for r in regions if r.label == RegionLabel.TEXT]
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
            if m and not BULLET.match(r.lines[0].text):
                used.add(id(r.lines[0]))
                new.append(_kv_region(r.lines[0], None, m.group(1).strip(), m.group(2).strip(),
                                      r.source))
    out: list[Region] = []
    for r in regions:
        if r.label == RegionLabel.TEXT:
            keep = [ln for ln in r.lines if id(ln) not in used]
            if not keep:
                continue
            if len(keep) != len(r.lines):
                r = r.model_copy(update={"lines": keep, "box": _union([ln.box for ln in keep]),
                                         "text": "\n".join(ln.text for ln in keep if ln.text)})
        out.append(r)
    out += new
    for cb in (r for r in out if r.label == RegionLabel.CHECKBOX):
        beside = [ln for ln in lines if _same_row(ln.box, cb.box) and 0 <= ln.box.x0 - cb.box.x1
                  < 4 * (cb.box.y1 - cb.box.y0)]
        if beside:
            ln = min(beside, key=lambda ln: ln.box.x0)
            cb.field = FormField(key=ln.text.strip(), value="true" if cb.text == "\u2612"
                                 else "false", key_box=ln.box, value_box=cb.box,
                                 confidence=ln.confidence, source=src[id(ln)])
    _label(out, med, height)
    out.sort(key=lambda r: (round(r.box.y0 / 4), r.box.x0))
    for k, r in enumerate(out):
        r.id, r.order = f"p{number}-r{k}", k
    return out


def _kv_region(key: Line, value: Line | None, k: str, v: str, source: Source) -> Region:
    lines = [key] if value is None else [key, value]
    conf = min(ln.confidence for ln in lines)
    return Region(id="", label=RegionLabel.KEY_VALUE, box=_union([ln.box for ln in lines]),
                  text=" ".join(ln.text.strip() for ln in lines), confidence=conf,
                  source=source, lines=lines,
                  field=FormField(key=k, value=v, key_box=key.box,
                                  value_box=value.box if value else key.box,
                                  confidence=conf, source=source))


def _label(regions: list[Region], med: float, height: float) -> None:
    texts = [r for r in regions if r.label == RegionLabel.TEXT and r.lines]

    def line_h(r: Region) -> float:
        return float(np.median([ln.box.y1 - ln.box.y0 for ln in r.lines]))

    top = [r for r in texts if r.box.y0 < 0.3 * height and len(r.lines) <= 2]
    title = max(top, key=line_h, default=None)
    if title is not None and line_h(title) >= 1.3 * med:
        title.label = RegionLabel.TITLE
    for r in texts:
        if r.label != RegionLabel.TEXT:
            continue
        if r.box.y0 > 0.92 * height and len(r.lines) <= 2:
            r.label = RegionLabel.FOOTER
        elif r.box.y1 < 0.06 * height and len(r.lines) <= 2:
            r.label = RegionLabel.HEADER
        elif len(r.lines) <= 2 and line_h(r) >= 1.15 * med:
            r.label = RegionLabel.SECTION_HEADER
        elif len(r.lines) >= 2 and sum(bool(BULLET.match(ln.text)) for ln in r.lines) >= max(
                2, 0.6 * len(r.lines)):
            r.label = RegionLabel.LIST
