"""Model-backed page stages: the layout pass and the parse pass (analyze-then-parse, as
Dolphin and MinerU 2.5 do), and the anchored mode that takes exact text from a PDF text layer.

- layout pass: the whole page (tiles + thumbnail) -> ``<task_layout>`` -> labelled regions;
- parse pass: each region cropped from the full-resolution render, its text scaled to the
  line height the model reads best, -> ``<task_read>`` (text) or ``<task_table>`` (OTSL);
- anchored: text-layer words are assigned to the layout's regions, so text is exact and the
  model supplies structure; words outside every region become text regions of their own,
  so nothing in the text layer is lost.

Text regions are read line by line: each region is cut into text lines (``docvlm.segment``)
and every line crop, scaled to the model's line height, is read on its own (the task the
model trains on most), so each :class:`Line` has its real box. A model whose training
record (``cfg.trained_tasks``) has no page layout gets its regions from the same classical
segmentation (text blocks and checkboxes) instead of inventing them.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from docvlm import segment
from docvlm.crops import fit_line, normalize_text_scale, table_scale_target
from docvlm.model.codec import otsl_to_table, parse_layout
from docvlm.model.processor import MAX_ANCHORS, Sample, collate
from docvlm.model.vision import prepare_image
from docvlm.model.vlm import DocVLM
from schemas import Box, FormField, Line, Region, RegionLabel, Source, Table, TableCell, Word

log = logging.getLogger(__name__)

NO_TEXT = {RegionLabel.FIGURE, RegionLabel.CHECKBOX}

_loaded: dict[str, DocVLM] = {}


def load_model(path: str | Path) -> DocVLM:
    """Load once per process (workers and pools call this repeatedly)."""
    key = str(Path(path).resolve())
    if key not in _loaded:
        _loaded[key] = DocVLM.load(path)
    return _loaded[key]


class PageReader:
    """Runs the model's tasks on one rendered page (gray, with its size in points)."""

    def __init__(self, model: DocVLM, batch_size: int = 8) -> None:
        self.model, self.bs = model, batch_size

    def _generate(self, samples: list[Sample], max_new: int, lines: bool = False):
        """Greedy generation in batches. ``lines``: every sample is one text line, so its
        output cannot be longer than its width allows (a character is at least ~4 px at
        the trained scale): samples are batched by width and each batch's token budget is
        capped by it, which keeps a confused model from looping to ``max_new``."""
        order = sorted(range(len(samples)), key=lambda i: samples[i].views[0].pixels.shape[2]
                       ) if lines else list(range(len(samples)))
        out: list = [None] * len(samples)
        for k in range(0, len(order), self.bs):
            idx = order[k : k + self.bs]
            chunk = [samples[i] for i in idx]
            budget = max_new
            if lines:
                budget = min(max_new, 8 + max(s.views[0].pixels.shape[2] for s in chunk) // 4)
            batch = collate(self.model.tokenizer, chunk, left_pad=True)
            for i, g in zip(idx, self.model.generate(batch, max_new_tokens=budget)):
                out[i] = g
        return out

    def layout(self, image: np.ndarray, number: int, width: float, height: float,
               anchors: list[Region] | None = None
               ) -> tuple[list[Region], list[str], tuple[int, int] | None]:
        """Regions (no text yet), decoding problems, and (kept, total) visual tokens (None
        when the regions come from segmentation). With ``anchors`` (text-layer regions),
        their words and boxes enter the prompt."""
        if "layout" not in self.model.cfg.trained_tasks:
            return segment_layout(image, number, width, height), [], None
        views = prepare_image(image, self.model.cfg, "tiles")
        kept = sum(v.n_tokens for v in views)
        total = sum(v.total_groups for v in views)
        words = [(w.text, (w.box.x0 / width, w.box.y0 / height, w.box.x1 / width,
                           w.box.y1 / height))
                 for r in anchors or [] for ln in r.lines for w in ln.words][:MAX_ANCHORS]
        g = self._generate([Sample(views, "<task_layout>", anchors=words)], 400)[0]
        parsed = parse_layout(g.text, self.model.cfg.vocab.n_loc_bins, number, width, height)
        for r in parsed.items:
            r.confidence = round(g.confidence, 4)
        items, problems = parsed.items, parsed.problems
        if not items and segment.text_lines(image):
            problems = [*problems, "the model found no regions on a page with text: "
                        "regions from classical segmentation"]
            items = segment_layout(image, number, width, height)
        return items, problems, (kept, total)

    def parse(self, image: np.ndarray, regions: list[Region], width: float, height: float
              ) -> list[str]:
        """Fill each region's text (and table) from its crop; returns decoding problems."""
        h, w = image.shape[:2]
        sx, sy = w / width, h / height
        samples, targets = [], []
        for r in regions:
            if r.label in NO_TEXT:
                continue
            x0, y0 = max(0, int(r.box.x0 * sx) - 4), max(0, int(r.box.y0 * sy) - 4)
            x1, y1 = min(w, int(r.box.x1 * sx) + 4), min(h, int(r.box.y1 * sy) + 4)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            crop = image[y0:y1, x0:x1]
            frac = (x0 / w, y0 / h, x1 / w, y1 / h)
            if r.label == RegionLabel.TABLE and r.table is not None and r.table.cells:
                for cell in r.table.cells:  # a ruled grid: read each cell's lines
                    cb = cell.box
                    cx0, cy0 = int(cb.x0 * sx) + 2, int(cb.y0 * sy) + 2
                    cx1, cy1 = int(cb.x1 * sx) - 1, int(cb.y1 * sy) - 1
                    if cx1 - cx0 < 4 or cy1 - cy0 < 4:
                        continue
                    for b in self._find_lines(image[cy0:cy1, cx0:cx1], cx0, cy0, sx, sy,
                                              cb.page):
                        samples.append(self._line_sample(image, b, sx, sy))
                        targets.append((r, cell))
                continue
            if r.label == RegionLabel.TABLE:
                crop = normalize_text_scale(crop, table_scale_target(self.model.cfg.tiling.line_px))
                samples.append(Sample(prepare_image(crop, self.model.cfg, "native", frac),
                                      "<task_table>"))
            else:
                line_boxes = [ln.box for ln in r.lines] or self._find_lines(
                    image[y0:y1, x0:x1], x0, y0, sx, sy, r.box.page)
                if line_boxes:  # read line by line: each line gets its own box
                    r.lines = []
                    for b in line_boxes:
                        samples.append(self._line_sample(image, b, sx, sy))
                        targets.append((r, Line(text="", box=b, confidence=r.confidence)))
                    continue
                samples.append(self._read_sample(crop, frac, line=False))
            targets.append((r, None))
        problems = []
        by_line: dict[str, Region] = {}
        by_cell: dict[str, Region] = {}
        for (r, line), g in zip(targets, self._read(samples, targets)):
            if isinstance(line, TableCell):
                line.text = " ".join(t for t in (line.text, self._plain(g)) if t)
                r.confidence = round(min(r.confidence, g.confidence), 4)
                by_cell[r.id] = r
                continue
            if line is not None:
                line.text = self._plain(g)
                line.confidence = round(min(line.confidence, g.confidence), 4)
                r.lines.append(line)
                by_line[r.id] = r
                continue
            r.confidence = round(min(r.confidence, g.confidence), 4)
            if r.label == RegionLabel.TABLE:
                table, probs = otsl_to_table(g.text)
                r.table = _place_cells(table, r.box)
                r.text = table.to_markdown()
                problems += [f"{r.id}: {p}" for p in probs]
            else:
                r.text = self._plain(g)
                r.lines = _split_lines(r.text, r.box, r.confidence)
        for r in by_cell.values():
            r.text = r.table.to_markdown()
        for r in by_line.values():  # a line read as nothing keeps its box (and 0 text)
            r.text = "\n".join(ln.text for ln in r.lines if ln.text)
            if r.lines:
                r.confidence = round(min(ln.confidence for ln in r.lines), 4)
        return problems

    def _read(self, samples: list[Sample], targets: list) -> list:
        """Generate for every sample; line samples go to the reading head instead when the
        model says it reads lines with it (``cfg.read_with == "ctc"``)."""
        ctc = self.model.cfg.read_with == "ctc" and self.model.ctc is not None
        lines = [i for i, (_, ln) in enumerate(targets) if ln is not None] if ctc else []
        out: list = [None] * len(samples)
        for k in range(0, len(lines), 32):
            idx = lines[k : k + 32]
            for i, g in zip(idx, self.model.ctc_read([samples[i].views[0] for i in idx])):
                out[i] = g
        for line_mode in (True, False):
            rest = [i for i in range(len(samples)) if out[i] is None
                    and (targets[i][1] is not None) == line_mode]
            for i, g in zip(rest, self._generate([samples[i] for i in rest], 256,
                                                 lines=line_mode)):
                out[i] = g
        return out

    def read_images(self, images: list[np.ndarray], joiner: str = " ") -> list[str]:
        """Text of each crop, read line by line (the lines found by segmentation, or the
        whole crop as one line when segmentation finds one or none), lines joined by
        ``joiner``. For ground-truth crops (evaluation, benchmarks)."""
        samples, owners = [], []
        for k, img in enumerate(images):
            rects = segment.text_lines(img) if img.size else []
            crops = [img] if len(rects) <= 1 else [
                img[y0:y1, x0:x1] for x0, y0, x1, y1 in
                (segment.pad_rect(r, img.shape) for r in rects)]
            for c in crops:
                if c.size:
                    samples.append(self._read_sample(c, (0.0, 0.0, 1.0, 1.0)))
                    owners.append(k)
        texts: list[list[str]] = [[] for _ in images]
        for k, g in zip(owners, self._read(samples, [(None, True)] * len(samples))):
            t = self._plain(g)
            if t:
                texts[k].append(t)
        return [joiner.join(t) for t in texts]

    def _plain(self, g) -> str:
        """Read text without special tokens (a model has no business emitting them here)."""
        if g.plain:
            return g.text.strip()
        return self.model.tokenizer.decode(g.token_ids, skip_special=True).strip()

    def _line_sample(self, image: np.ndarray, b: Box, sx: float, sy: float) -> Sample:
        """The sample reading the text line at ``b`` (points), padded like training lines."""
        h, w = image.shape[:2]
        x0, y0, x1, y1 = segment.pad_rect((int(b.x0 * sx), int(b.y0 * sy), int(b.x1 * sx) + 1,
                                           int(b.y1 * sy) + 1), image.shape)
        return self._read_sample(image[y0:y1, x0:x1], (x0 / w, y0 / h, x1 / w, y1 / h))

    def _read_sample(self, crop: np.ndarray, frac: tuple[float, float, float, float],
                     line: bool = True) -> Sample:
        """A crop to read: one text line (scaled and banded exactly as in training), or a
        whole region when no lines were found in it."""
        crop = (fit_line(crop, self.model.cfg.tiling.line_px) if line else
                normalize_text_scale(crop, self.model.cfg.tiling.line_px))
        return Sample(prepare_image(crop, self.model.cfg, "native", frac), "<task_read>")

    @staticmethod
    def _find_lines(crop: np.ndarray, x0: int, y0: int, sx: float, sy: float, page: int
                    ) -> list[Box]:
        return [_box_pt((x0 + a, y0 + b, x0 + c, y0 + d), sx, sy, page)
                for a, b, c, d in segment.text_lines(crop)]


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
    lines = segment.text_lines(image, boxes_out=boxes)
    regions: list[Region] = []
    tables = segment.ruled_tables(image)
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
    ink = segment.ink_mask(image)
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
    """Anchored mode: each text-layer word goes to the model region containing its centre;
    regions keep the model's labels and boxes, text is the text layer's, exactly. Words in
    no region keep their own text-layer region (labelled text)."""
    out = [r.model_copy(deep=True) for r in regions]
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
    for r in out:
        r.text = "\n".join(ln.text for ln in r.lines)
        r.source = Source.TEXT_LAYER if r.lines else Source.VISION
    for k, ln in enumerate(leftovers):
        out.append(Region(id=f"p{number}-a{k}", label=RegionLabel.TEXT, box=ln.box,
                          text=ln.text, lines=[ln], source=Source.TEXT_LAYER))
    for order, r in enumerate(out):
        r.order = order
    return out


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
        new.append(_kv_region(ln, val, t[:-1].strip(), val.text.strip()))
    for r in texts:
        if len(r.lines) == 1 and id(r.lines[0]) not in used:
            m = KV_LINE.match(r.lines[0].text)
            if m and not BULLET.match(r.lines[0].text):
                used.add(id(r.lines[0]))
                new.append(_kv_region(r.lines[0], None, m.group(1).strip(), m.group(2).strip()))
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
                                 confidence=ln.confidence, source=Source.VISION)
    _label(out, med, height)
    out.sort(key=lambda r: (round(r.box.y0 / 4), r.box.x0))
    for k, r in enumerate(out):
        r.id, r.order = f"p{number}-r{k}", k
    return out


def _kv_region(key: Line, value: Line | None, k: str, v: str) -> Region:
    lines = [key] if value is None else [key, value]
    conf = min(ln.confidence for ln in lines)
    return Region(id="", label=RegionLabel.KEY_VALUE, box=_union([ln.box for ln in lines]),
                  text=" ".join(ln.text.strip() for ln in lines), confidence=conf,
                  source=Source.VISION, lines=lines,
                  field=FormField(key=k, value=v, key_box=key.box,
                                  value_box=value.box if value else key.box,
                                  confidence=conf, source=Source.VISION))


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
