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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from docvlm import segment
from docvlm.crops import (
    READ_SCALES,
    READ_WIDTHS,
    normalize_text_scale,
    stretch_contrast,
    table_scale_target,
)
from docvlm.lexicon import Lexicon, correct_line
from docvlm.model.codec import otsl_to_table, parse_layout
from docvlm.model.processor import MAX_ANCHORS, Sample, collate
from docvlm.model.vision import line_views, prepare_image
from docvlm.model.vlm import DocVLM, Generated
from docvlm.regions import (  # noqa: F401  (re-exported: the pipeline's page stages)
    _box_pt,
    _place_cells,
    _split_lines,
    anchor_text,
    segment_layout,
    structure,
    usable_text_layer,
)
from schemas import Box, Line, Region, RegionLabel

log = logging.getLogger(__name__)

NO_TEXT = {RegionLabel.FIGURE, RegionLabel.CHECKBOX}

def consensus(readings: list) -> object:
    """One line's readings (``Generated`` with ``score``) combined: the reading closest to the
    others (least summed edit distance, the reading head's path probability breaking ties)
    is the pivot, every reading is aligned to it character by character, and each character
    (and each gap between characters) takes the majority's choice, as ROVER does with
    recognisers' outputs (Fiscus 1997). The pivot's confidences are kept."""
    if len(readings) < 3:
        return max(readings, key=lambda g: g.score or 0.0)
    pivot = max(readings, key=lambda g: (g.score or 0.0) - 0.05 * sum(
        Levenshtein.distance(g.text, o.text) for o in readings))
    p = pivot.text
    chars = [Counter() for _ in p]
    gaps = [Counter() for _ in range(len(p) + 1)]
    for g in readings:
        mine, extra = list(p), [""] * (len(p) + 1)
        for op, i, j in Levenshtein.editops(p, g.text):
            if op == "replace":
                mine[i] = g.text[j]
            elif op == "delete":
                mine[i] = ""
            else:
                extra[i] += g.text[j]
        for c, m in zip(chars, mine):
            c[m] += 1
        for c, e in zip(gaps, extra):
            c[e] += 1
    # ties keep the pivot's choice (its character; nothing inserted)
    out = [max(g, key=lambda e: (g[e], e == "")) for g in gaps]
    text = out[0] + "".join(max(c, key=lambda m, k=k: (c[m], m == p[k])) + out[k + 1]
                            for k, c in enumerate(chars))
    if text == p:
        return pivot
    return Generated(list(text.encode()), text, pivot.token_confidence, plain=True,
                     score=pivot.score)


# an amount whose thousands separators were read as points: '5.053.20' (no number is
# written so; '5.053,20' is, and is left alone)
AMOUNT_POINTS = re.compile(r"(?<![\d.,])(\d{1,3})((?:\.\d{3})+)\.(\d{2})(?![\d.,])")


# a date whose separators differ, one of them a point: '15/11.1997' ('15.11.1997' and
# '15/11/1997' are left alone, and so is '2.5/10': a two-digit year needs a two-digit day
# and month)
DATE_LIKE = re.compile(r"(?<![\d./-])(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4}|\d{2})(?![\d./-])")


def _date(m: re.Match) -> str:
    d, s1, mo, s2, y = m.groups()
    if s1 == s2 or "." not in (s1, s2) or (len(y) == 2 and (len(d) < 2 or len(mo) < 2)):
        return m[0]
    sep = s2 if s1 == "." else s1
    return f"{d}{sep}{mo}{sep}{y}"


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
MONTH_WORDS = frozenset(_MONTHS) | {m[:3] for m in _MONTHS} | {"sept"}
# digits a reading head gives for the letters they look like
_LOOKS_LIKE = {"0": "o", "1": "li", "5": "s", "9": "g"}
# a word of letters with a digit or two in it, beside a number: a month name misread
MIXED_WORD = re.compile(r"\b(?=[A-Za-z0-9]{3,9}\b)(?=[^\W\d_]*\d)(?=\d*[A-Za-z]\d*[A-Za-z])"
                        r"[A-Za-z0-9]{3,9}\b")


def _month(text: str, m: re.Match) -> str:
    """The month name a word of letters and lookalike digits stands for beside a number
    ('6 Apri1 1996', '0ct 12'), else the word as it is."""
    word = m[0]
    before, after = text[: m.start()], text[m.end() :]
    if not (re.search(r"\d[,.]? ?$", before) or re.match(r"[,.]? ?\d", after)):
        return word
    options = [""]
    for c in word.lower():
        options = [o + x for o in options for x in _LOOKS_LIKE.get(c, c)]
    name = next((o for o in options if o in MONTH_WORDS), None)
    if name is None:
        return word
    letters = [c for c in word if c.isalpha()]
    if all(c.isupper() for c in letters):
        return name.upper()
    out = "".join(w if w.isalpha() else n for w, n in zip(word, name))
    return out[0].upper() + out[1:] if word[0].isdigit() else out


def repair_numbers(g):
    """A reading with '5.053.20' written '5,053.20' (the comma and the point differ by a
    few pixels at the foot of the line; the grouping says which one each is), a date
    read with a point for one of its slashes or dashes written with the other, and a month
    name beside a number with a digit for a letter it looks like ('Apri1' -> 'April')."""
    text = AMOUNT_POINTS.sub(lambda m: m[1] + m[2].replace(".", ",") + "." + m[3], g.text)
    text = DATE_LIKE.sub(_date, text)
    text = MIXED_WORD.sub(lambda m: _month(text, m), text)
    if text == g.text:
        return g
    return Generated(list(text.encode()), text, g.token_confidence, plain=True, score=g.score)


@dataclass
class LineCrop:
    """A text line cut from a page, alone on paper, and where it lies (page fractions)."""

    image: np.ndarray
    frac: tuple[float, float, float, float]

_loaded: dict[tuple[str, bool], DocVLM] = {}


def int8_for(precision: str) -> bool:
    """Whether a ``--precision`` (auto | int8 | fp32) runs the linear layers in int8: all
    but fp32 (auto means int8 on a CPU; :meth:`DocVLM.quantize_int8` is a no-op elsewhere)."""
    return precision != "fp32"


def load_model(path: str | Path, int8: bool = False) -> DocVLM:
    """Load once per process (workers and pools call this repeatedly). ``int8``: the linear
    layers quantized to int8 on a CPU (:meth:`DocVLM.quantize_int8`; a no-op elsewhere)."""
    key = (str(Path(path).resolve()), int8)
    if key not in _loaded:
        model = DocVLM.load(path)
        if int8:
            model.quantize_int8()
        _loaded[key] = model
    return _loaded[key]


class PageReader:
    """Runs the model's tasks on one rendered page (gray, with its size in points)."""

    def __init__(self, model: DocVLM, batch_size: int = 8,
                 scales: tuple[float, ...] = READ_SCALES,
                 widths: tuple[float, ...] = READ_WIDTHS, lexicon: bool = True) -> None:
        self.model, self.bs, self.scales = model, batch_size, tuple(scales) or (1.0,)
        self.views = [(s, w) for s in self.scales for w in tuple(widths) or (1.0,)]
        # unknown words read again against an English lexicon (docvlm.lexicon)
        self.lexicon = Lexicon.english() if lexicon else None

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
            if r.label in NO_TEXT and not r.lines:  # a checkbox's label line is read
                continue
            x0, y0 = max(0, int(r.box.x0 * sx) - 4), max(0, int(r.box.y0 * sy) - 4)
            x1, y1 = min(w, int(r.box.x1 * sx) + 4), min(h, int(r.box.y1 * sy) + 4)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            crop = image[y0:y1, x0:x1]
            frac = (x0 / w, y0 / h, x1 / w, y1 / h)
            if r.label == RegionLabel.TABLE and r.table is not None and r.table.cells:
                r.lines = []  # the lines read in its cells, with their boxes
                # measured over the whole table: a cell holding one digit has too few
                # glyphs to measure, and its line was lost
                glyph = segment.text_mask(crop)[1]
                for cell in r.table.cells:  # a ruled grid: read each cell's lines
                    cb = cell.box
                    cx0, cy0 = int(cb.x0 * sx) + 2, int(cb.y0 * sy) + 2
                    cx1, cy1 = int(cb.x1 * sx) - 1, int(cb.y1 * sy) - 1
                    if cx1 - cx0 < 4 or cy1 - cy0 < 4:
                        continue
                    for b in self._find_lines(image[cy0:cy1, cx0:cx1], cx0, cy0, sx, sy,
                                              cb.page, glyph):
                        samples.append(self._line_crop(image, b, sx, sy))
                        targets.append((r, (cell, Line(text="", box=b,
                                                       confidence=r.confidence))))
                continue
            if r.label == RegionLabel.TABLE:
                r.lines = []  # read whole by the model: its cells are its text
                crop = normalize_text_scale(crop, table_scale_target(self.model.cfg.tiling.line_px))
                samples.append(Sample(prepare_image(crop, self.model.cfg, "native", frac),
                                      "<task_table>"))
            else:
                line_boxes = [ln.box for ln in r.lines] or self._find_lines(
                    image[y0:y1, x0:x1], x0, y0, sx, sy, r.box.page)
                if line_boxes:  # read line by line: each line gets its own box
                    r.lines = []
                    for b in line_boxes:
                        samples.append(self._line_crop(image, b, sx, sy))
                        targets.append((r, Line(text="", box=b, confidence=r.confidence)))
                    continue
                samples.append(self._read_sample(crop, frac, line=False))
            targets.append((r, None))
        problems = []
        by_line: dict[str, Region] = {}
        by_cell: dict[str, Region] = {}
        for (r, line), g in zip(targets, self._read(samples, targets)):
            if isinstance(line, tuple):  # a table cell's line
                cell, line = line
                line.text = self._plain(g)
                line.confidence = round(min(line.confidence, g.confidence), 4)
                cell.text = " ".join(t for t in (cell.text, line.text) if t)
                r.lines.append(line)
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

    def _read(self, items: list, targets: list) -> list:
        """Read every item (a :class:`LineCrop` or a region's :class:`Sample`): line crops go
        to the reading head when the model says it reads lines with it (``cfg.read_with ==
        "ctc"``), everything else to the decoder."""
        ctc = self.model.cfg.read_with == "ctc" and self.model.ctc is not None
        lines = [i for i, it in enumerate(items) if isinstance(it, LineCrop)] if ctc else []
        out: list = [None] * len(items)
        for i, g in zip(lines, self.read_lines([items[i].image for i in lines],
                                               [items[i].frac for i in lines])):
            out[i] = g
        samples = [self._read_sample(it.image, it.frac) if isinstance(it, LineCrop) else it
                   for it in items]
        for line_mode in (True, False):
            rest = [i for i in range(len(items)) if out[i] is None
                    and (targets[i][1] is not None) == line_mode]
            for i, g in zip(rest, self._generate([samples[i] for i in rest], 256,
                                                 lines=line_mode)):
                out[i] = g
        return out

    def read_lines(self, crops: list[np.ndarray],
                   fracs: list[tuple[float, float, float, float]] | None = None) -> list:
        """The reading head's text of each line crop, read in ``self.views`` (every scale
        at every width): the first two views, and where those disagree the rest too,
        keeping the :func:`consensus` reading."""
        fracs = fracs or [(0.0, 0.0, 1.0, 1.0)] * len(crops)
        readings: list[list] = [[] for _ in crops]

        keep = self.lexicon is not None

        def run(idx: list[int], scale: float, widen: float, n: int) -> None:
            for i, g in zip(idx, self._ctc_read([crops[i] for i in idx],
                                                [fracs[i] for i in idx], scale, widen,
                                                keep and n < 2)):
                readings[i].append(g)

        # alike widths batched together: the encoder pads a batch to its longest line
        todo = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(
            1, crops[i].shape[0]))
        for n, (scale, widen) in enumerate(self.views):
            if n == 2:  # the first two readings agree: settled
                todo = [i for i in todo if readings[i][0].text != readings[i][1].text]
            run(todo, scale, widen, n)
        out = []
        for r in readings:
            g = consensus(r)
            if keep:  # words checked against the lexicon with the first two views' frames
                text = correct_line(g.text, [o.log_probs for o in r[:2]], self.lexicon)
                if text != g.text:
                    g = Generated(list(text.encode()), text, g.token_confidence, plain=True,
                                  score=g.score)
            out.append(repair_numbers(g))
        return out

    def _ctc_read(self, crops: list[np.ndarray], fracs: list[tuple[float, float, float, float]],
                  scale: float = 1.0, widen: float = 1.0, keep_log_probs: bool = False
                  ) -> list:
        """The reading head's greedy reading of each line crop at one glyph scale (and
        width, :func:`~docvlm.model.vision.line_views`), 32 at a time."""
        out = []
        for k in range(0, len(crops), 32):
            views = [line_views(c, self.model.cfg, f, jitter=scale, widen=widen)[0]
                     for c, f in zip(crops[k : k + 32], fracs[k : k + 32])]
            out += self.model.ctc_read(views, keep_log_probs)
        return out

    def line_scores(self, crops: list[np.ndarray]) -> list[float]:
        """How confidently the reading head reads each line crop (mean log-probability of
        its best path, read once): what tells an upright page from an upside-down one
        (``preprocess_scan(line_scores=...)``). Raises ValueError for a model without the
        head."""
        if self.model.ctc is None:
            raise ValueError("this model has no reading head (ctc_head is off)")
        return [g.score for g in self._ctc_read(crops, [(0.0, 0.0, 1.0, 1.0)] * len(crops))]

    def read_images(self, images: list[np.ndarray], joiner: str = " ") -> list[str]:
        """Text of each crop, read line by line (the lines found by segmentation, or the
        whole crop as one line when segmentation finds one or none; rules and the ink of
        neighbouring lines erased as in :meth:`_line_crop`), lines joined by
        ``joiner``. For ground-truth crops (evaluation, benchmarks)."""
        samples, owners = [], []
        for k, img in enumerate(images):
            # faint ink darkened first, as the reader darkens it: a faded thermal receipt's
            # line (40 grey levels below its paper) otherwise falls apart into specks and
            # word pieces, each read as a line (SROIE line crops, stage-6 weights:
            # case-insensitive CER 0.186 -> 0.159). Crops only: on a sparse page the
            # darkest percent is not ink, and the page's grain would be stretched too.
            gray = img if img.ndim != 2 or not img.size else stretch_contrast(img)
            rects = segment.text_lines(gray) if img.size else []
            h, w = img.shape[:2]
            if not rects:
                crops = [img]
            elif len(rects) == 1:  # the whole crop, rules and stray ink erased
                crops = [segment.clean_line_crop(img, (0, 0, w, h), rects[0])]
            else:
                crops = [segment.clean_line_crop(img, segment.pad_rect(r, img.shape), r)
                         for r in rects]
            for c in crops:
                if c.size:
                    samples.append(LineCrop(c, (0.0, 0.0, 1.0, 1.0)))
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

    @staticmethod
    def _line_crop(image: np.ndarray, b: Box, sx: float, sy: float) -> LineCrop:
        """The text line at ``b`` (points, its typographic box), cut around its ink and
        padded like training lines, alone on paper as training lines are (rules through it
        and the neighbouring lines' ink erased)."""
        h, w = image.shape[:2]
        ink = segment.ink_rect((int(b.x0 * sx), int(b.y0 * sy), int(b.x1 * sx) + 1,
                                int(b.y1 * sy) + 1))
        x0, y0, x1, y1 = segment.pad_rect(ink, image.shape)
        crop = segment.clean_line_crop(image, (x0, y0, x1, y1), ink)
        return LineCrop(crop, (x0 / w, y0 / h, x1 / w, y1 / h))

    def _read_sample(self, crop: np.ndarray, frac: tuple[float, float, float, float],
                     line: bool = True) -> Sample:
        """A crop to read: one text line (scaled and banded exactly as in training), or a
        whole region when no lines were found in it."""
        if line:
            return Sample(line_views(crop, self.model.cfg, frac), "<task_read>")
        crop = normalize_text_scale(crop, self.model.cfg.tiling.line_px)
        return Sample(prepare_image(crop, self.model.cfg, "native", frac), "<task_read>")

    @staticmethod
    def _find_lines(crop: np.ndarray, x0: int, y0: int, sx: float, sy: float, page: int,
                    glyph: float | None = None) -> list[Box]:
        return [_box_pt(segment.typographic((x0 + a, y0 + b, x0 + c, y0 + d)), sx, sy, page)
                for a, b, c, d in segment.text_lines(crop, glyph=glyph)]


