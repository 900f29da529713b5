"""Synthetic document pages rendered with PyMuPDF, with exact truth.

Kinds: ``form``, ``invoice``, ``receipt``, ``table``, ``report``, ``letter``. Each kind has
template variants; the last variant of every kind, the held-out font families and the
held-out seeds form the ``heldout`` split that training never sees.

Truth per page: every line and word with its box (PDF points, top-left origin, computed from
the font metrics the text was set with), regions with labels and boxes in reading order,
table grids (cells with spans and boxes), and key/value pairs with both boxes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pymupdf

from docvlm.synth import fonts
from docvlm.synth import text as T
from docvlm.synth.degrade import degrade
from schemas import Box, Table, TableCell

KINDS = ("form", "invoice", "receipt", "table", "report", "letter")
N_VARIANTS = 3  # per kind; variant N_VARIANTS - 1 is held out
HELDOUT_SEED_BASE = 10**9  # seeds at or above this belong to the held-out split


# ---------------------------------------------------------------- truth records
@dataclass
class TWord:
    text: str
    box: tuple[float, float, float, float]


@dataclass
class TLine:
    text: str
    box: tuple[float, float, float, float]
    words: list[TWord]
    size: float  # font size in points (for text-scale normalisation of crops)


@dataclass
class TRegion:
    label: str
    lines: list[TLine] = field(default_factory=list)
    table: Table | None = None
    extra_box: tuple[float, float, float, float] | None = None  # drawn parts (rules, boxes)

    @property
    def box(self) -> tuple[float, float, float, float]:
        boxes = [ln.box for ln in self.lines] + ([self.extra_box] if self.extra_box else [])
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)


@dataclass
class KV:
    key: str
    value: str | bool | None
    key_box: tuple[float, float, float, float]
    value_box: tuple[float, float, float, float] | None


@dataclass
class SynthPage:
    kind: str
    variant: int
    split: str
    seed: int
    width: float
    height: float
    regions: list[TRegion]
    kv: list[KV]
    pdf: bytes
    family: str

    def render(self, dpi: float) -> np.ndarray:
        doc = pymupdf.open("pdf", self.pdf)
        z = dpi / 72
        pix = doc[0].get_pixmap(matrix=pymupdf.Matrix(z, z), colorspace=pymupdf.csGRAY,
                                alpha=False)
        img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.stride)[:, : pix.w]
        return img.copy()

    def render_clip(self, box: tuple[float, float, float, float], line_h_pt: float,
                    target_px: float, pad: float = 3.0
                    ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """Render ``box`` (points, padded) so text lines ``line_h_pt`` tall come out
        ``target_px`` pixels tall; also the clip's rectangle as fractions of the page."""
        doc = pymupdf.open("pdf", self.pdf)
        z = target_px / max(1.0, line_h_pt)
        x0, y0, x1, y1 = box
        clip = pymupdf.Rect(max(0, x0 - pad), max(0, y0 - pad), min(self.width, x1 + pad),
                            min(self.height, y1 + pad))
        pix = doc[0].get_pixmap(matrix=pymupdf.Matrix(z, z), clip=clip,
                                colorspace=pymupdf.csGRAY, alpha=False)
        img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.stride)[:, : pix.w]
        frac = (clip.x0 / self.width, clip.y0 / self.height, clip.x1 / self.width,
                clip.y1 / self.height)
        return img.copy(), frac

    def render_degraded(self, dpi: float, r: random.Random, strength: float = 1.0
                        ) -> tuple[np.ndarray, list[str]]:
        return degrade(self.render(dpi), r, strength=strength, rotate_max=0.0)


# ---------------------------------------------------------------- drawing helper
class Canvas:
    """Writes text with a :class:`pymupdf.TextWriter` and records exact line/word boxes."""

    def __init__(self, page: pymupdf.Page, family: fonts.Family) -> None:
        self.page = page
        self.family = family
        self.tw = pymupdf.TextWriter(page.rect)

    def font(self, bold: bool = False) -> pymupdf.Font:
        return fonts.font(self.family.bold if bold else self.family.regular)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        return self.font(bold).text_length(text, fontsize=size)

    def line(self, x: float, top: float, text: str, size: float, bold: bool = False,
             align: str = "left") -> TLine:
        """Set one line whose box top is ``top``; ``x`` is its left, centre or right edge."""
        f = self.font(bold)
        w = f.text_length(text, fontsize=size)
        x0 = x - w if align == "right" else x - w / 2 if align == "center" else x
        asc, desc = f.ascender * size, f.descender * size
        self.tw.append((x0, top + asc), text, font=f, fontsize=size)
        words, pos = [], 0
        for wd in text.split(" "):
            if wd:
                wx0 = x0 + f.text_length(text[:pos], fontsize=size)
                words.append(TWord(wd, (wx0, top, wx0 + f.text_length(wd, fontsize=size),
                                        top + asc - desc)))
            pos += len(wd) + 1
        return TLine(text, (x0, top, x0 + w, top + asc - desc), words, size)

    def para(self, x: float, top: float, width: float, text: str, size: float,
             leading: float = 1.3, bold: bool = False, max_lines: int = 99) -> list[TLine]:
        """Greedy word wrap into ``width``; returns the lines set."""
        lines_text = self.wrap(text, width, size, bold)[:max_lines]
        return [self.line(x, top + i * size * leading, t, size, bold)
                for i, t in enumerate(lines_text)]

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        out, cur = [], ""
        for wd in text.split():
            cand = f"{cur} {wd}".strip()
            if cur and self.width(cand, size, bold) > width:
                out.append(cur)
                cur = wd
            else:
                cur = cand
        if cur:
            out.append(cur)
        return out

    def rule(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.6) -> None:
        self.page.draw_line((x0, y0), (x1, y1), width=width)

    def separator(self, x0: float, x1: float, y: float, size: float, r: random.Random) -> None:
        """A till receipt's printed separator across ``x0..x1`` at ``y``, drawn (not text, so
        neither the text layer nor the truth holds it): a row of dashes, of equals signs or
        of dots, in the proportions of a ``size``-point monospaced face."""
        kind = r.choice(("dashes", "equals", "dots"))
        pitch = size * r.uniform(0.55, 0.65)  # one character cell
        if kind == "dots":
            d = size * r.uniform(0.1, 0.16)
            rows, width = [y], d
        else:
            d = pitch * r.uniform(0.55, 0.85)
            width = size * r.uniform(0.06, 0.1)
            rows = [y] if kind == "dashes" else [y - size * 0.12, y + size * 0.12]
        for yy in rows:
            self.page.draw_line((x0, yy), (x1, yy), width=width,
                                dashes=f"[{d:.2f} {pitch - d:.2f}] 0")

    def rect(self, r: tuple[float, float, float, float], width: float = 0.6,
             fill: float | None = None) -> None:
        self.page.draw_rect(pymupdf.Rect(r), width=width,
                            fill=(fill,) * 3 if fill is not None else None)

    def checkbox(self, x: float, top: float, size: float, checked: bool) -> tuple:
        s = size * 0.8
        box = (x, top + size * 0.1, x + s, top + size * 0.1 + s)
        self.rect(box, width=0.8)
        if checked:
            self.rule(box[0] + 1.5, box[1] + 1.5, box[2] - 1.5, box[3] - 1.5, 1.0)
            self.rule(box[0] + 1.5, box[3] - 1.5, box[2] - 1.5, box[1] + 1.5, 1.0)
        return box

    def finish(self) -> None:
        self.tw.write_text(self.page)


# ---------------------------------------------------------------- templates
def _letter(c: Canvas, r: random.Random, v: int, W: float, H: float) -> tuple[list, list]:
    m = r.uniform(50, 80)
    size = r.uniform(9.5, 12)
    regs: list[TRegion] = []
    company = T.company(r)
    head_x, align = ((m, "left"), (W / 2, "center"), (W - m, "right"))[v]
    regs.append(TRegion("title", [c.line(head_x, m, company, size * 1.7, True, align)]))
    addr = [c.line(head_x, m + size * 2.6 + i * size * 1.3, t, size * 0.85, align=align)
            for i, t in enumerate(T.address(r) + [T.phone(r)])]
    regs.append(TRegion("header", addr))
    y = m + size * 9
    regs.append(TRegion("text", [c.line(W - m, y, T.date(r), size, align="right")]))
    y += size * 2.5
    to = [c.line(m, y + i * size * 1.3, t, size)
          for i, t in enumerate([T.name(r), *T.address(r)])]
    regs.append(TRegion("text", to))
    y = to[-1].box[3] + size * 2
    regs.append(TRegion("text", [c.line(m, y, f"Dear {r.choice(T.FIRST)} "
                                              f"{r.choice(T.LAST)},", size)]))
    y += size * 2.2
    for _ in range(r.randint(2, 4)):
        lines = c.para(m, y, W - 2 * m, T.paragraph(r), size)
        if lines[-1].box[3] > H - m - size * 6:
            break
        regs.append(TRegion("text", lines))
        y = lines[-1].box[3] + size * 1.2
    if y < H - m - size * 5:
        regs.append(TRegion("text", [c.line(m, y, r.choice(["Yours sincerely,",
                                                              "Kind regards,",
                                                              "Best wishes,"]), size),
                                     c.line(m, y + size * 3, T.name(r), size)]))
    return regs, []


def _report(c: Canvas, r: random.Random, v: int, W: float, H: float) -> tuple[list, list]:
    m = r.uniform(50, 75)
    size = r.uniform(9, 11.5)
    cols = 2 if v == 1 or (v == 2 and r.random() < 0.5) else 1
    regs: list[TRegion] = []
    if r.random() < 0.6:
        regs.append(TRegion("header", [c.line(W - m, m * 0.45, T.company(r), size * 0.8,
                                              align="right")]))
    y = m
    regs.append(TRegion("title", c.para(m, y, W - 2 * m, T.title(r), size * 1.9, 1.2,
                                        True, 2)))
    y = regs[-1].box[3] + size * 1.5
    gap = 18
    cw = (W - 2 * m - gap * (cols - 1)) / cols
    col, x = 0, m
    top = y
    n = 0
    while n < 12:
        n += 1
        kind = r.choices(["section_header", "text", "list"], [0.25, 0.55, 0.2])[0]
        if kind == "section_header":
            texts = [f"{r.randint(1, 9)}. {T.title(r)}"[:40]]
            sz, bold, lead = size * 1.25, True, 1.3
        elif kind == "list":
            texts = []
            for i in range(r.randint(2, 4)):
                bullet = r.choice(["-", "•", f"{i + 1}."])
                texts += c.wrap(f"{bullet} {T.sentence(r, 3, 9)}", cw, size)
            sz, bold, lead = size, False, 1.3
        else:
            texts = c.wrap(T.paragraph(r), cw, size)
            sz, bold, lead = size, False, 1.3
        if y + len(texts) * sz * lead > H - m - size * 2:  # does not fit here
            if col + 1 < cols:
                col += 1
                x = m + col * (cw + gap)
                y = top
                continue
            break
        lines = [c.line(x, y + i * sz * lead, t, sz, bold) for i, t in enumerate(texts)]
        regs.append(TRegion(kind, lines))
        y = lines[-1].box[3] + size * (0.8 if kind == "section_header" else 1.2)
    regs.append(TRegion("footer", [c.line(W / 2, H - m * 0.6, str(r.randint(1, 40)),
                                          size * 0.8, align="center")]))
    return regs, []


def _kv_block(c: Canvas, r: random.Random, x: float, y: float, keys: list[str], size: float,
              key_w: float, boxed: bool, kvs: list[KV], regs: list[TRegion],
              field_w: float = 180) -> float:
    for k in keys:
        val = _value_for(r, k)
        kl = c.line(x, y, f"{k}:", size, bold=r.random() < 0.5)
        vbox = None
        lines = [kl]
        if val is not None:
            vl = c.line(x + key_w, y, val, size)
            lines.append(vl)
            vbox = vl.box
        if boxed:
            c.rect((x + key_w - 3, y - 2, x + key_w + field_w, y + size * 1.25))
        else:
            c.rule(x + key_w - 2, y + size * 1.2, x + key_w + field_w - 10, y + size * 1.2,
                   0.4)
        kvs.append(KV(k, val, kl.box, vbox))
        regs.append(TRegion("key_value", lines, extra_box=(x + key_w - 3, y - 2,
                                                           x + key_w + field_w,
                                                           y + size * 1.25)))
        y += size * 2.1
    return y


def _value_for(r: random.Random, key: str) -> str | None:
    k = key.lower()
    if r.random() < 0.08:
        return None  # left blank
    if "date" in k:
        return T.date(r)
    if "name" in k or "contact" in k:
        return T.name(r)
    if "company" in k or "employer" in k:
        return T.company(r)
    if "address" in k:
        return T.street(r)
    if "city" in k:
        return r.choice(T.CITIES)
    if "phone" in k:
        return T.phone(r)
    if "email" in k:
        return T.email(r)
    if "amount" in k or "total" in k or "salary" in k:
        return T.amount(r)
    return T.code(r)


FORM_KEYS = ["Full name", "Date of birth", "Address", "City", "Postcode", "Phone", "Email",
             "Company", "Employer", "Policy number", "Account number", "Start date",
             "Amount claimed", "Reference", "Contact name", "Annual salary", "ID number"]


def _form(c: Canvas, r: random.Random, v: int, W: float, H: float) -> tuple[list, list]:
    m = r.uniform(45, 70)
    size = r.uniform(9, 11)
    regs: list[TRegion] = []
    kvs: list[KV] = []
    name = r.choice(["Application", "Claim", "Registration", "Enrolment"])
    regs.append(TRegion("title", [c.line(m if v != 1 else W / 2, m, f"{name} Form",
                                         size * 1.8, True, "left" if v != 1 else "center")]))
    y = m + size * 4
    key_w = max(c.width(f"{k}:", size, True) for k in FORM_KEYS) + 12
    keys = r.sample(FORM_KEYS, r.randint(5, 9))
    if v == 2:  # two columns of fields
        half = len(keys) // 2
        # the left column's fields end before the right column's labels begin
        y1 = _kv_block(c, r, m, y, keys[:half], size, key_w, r.random() < 0.5, kvs, regs,
                       field_w=min(180.0, W / 2 - 10 - m - key_w))
        y2 = _kv_block(c, r, W / 2 + 5, y, keys[half:], size, key_w * 0.9, False, kvs, regs)
        y = max(y1, y2)
    else:
        y = _kv_block(c, r, m, y, keys, size, key_w, v == 1, kvs, regs)
    y += size
    regs.append(TRegion("section_header", [c.line(m, y, "Please tick all that apply",
                                                  size * 1.1, True)]))
    y += size * 2
    for opt in r.sample(["Paperless statements", "Existing customer", "Newsletter",
                         "Joint application", "Direct debit", "Over 18"], 3):
        checked = r.random() < 0.5
        bx = c.checkbox(m, y, size, checked)
        ln = c.line(m + size * 1.4, y, opt, size)
        kvs.append(KV(opt, checked, ln.box, bx))
        regs.append(TRegion("checkbox", [ln], extra_box=bx))
        y += size * 1.9
    y += size
    if y < H - m - size * 6:
        regs.append(TRegion("text", c.para(m, y, W - 2 * m, "I declare that the "
                                           "information given is correct. " + T.sentence(r),
                                           size * 0.85)))
        y = regs[-1].box[3] + size * 3
        sig = c.line(m, y, "Signature:", size)
        c.rule(m + 60, y + size * 1.2, m + 240, y + size * 1.2, 0.5)
        regs.append(TRegion("form_field", [sig], extra_box=(m, y, m + 240, y + size * 1.3)))
    return regs, kvs


def _table_grid(c: Canvas, r: random.Random, x: float, y: float, width: float, size: float,
                ruled: bool, page: int = 1) -> TRegion:
    n_cols = r.randint(3, 6)
    n_rows = r.randint(3, 9)
    header = [T.title(r).split()[0][:12] for _ in range(n_cols)]
    cells: list[TableCell] = []
    grid_text = [[""] * n_cols for _ in range(n_rows + 1)]
    grid_text[0] = header
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    if n_cols >= 4 and r.random() < 0.35:  # a header cell spanning two columns
        j = r.randrange(1, n_cols - 1)
        spans[(0, j)] = (1, 2)
    if n_rows >= 4 and r.random() < 0.35:  # a first-column cell spanning rows
        i = r.randrange(1, n_rows - 1)
        spans[(i, 0)] = (2, 1)
    for i in range(1, n_rows + 1):
        for j in range(n_cols):
            grid_text[i][j] = (T.word(r).capitalize() if j == 0 else
                               r.choice([T.amount(r, 0, 999), str(r.randint(0, 999)),
                                         T.word(r), ""]))
    col_w = width / n_cols
    row_h = size * 1.8
    covered = set()
    lines: list[TLine] = []
    for i in range(n_rows + 1):
        for j in range(n_cols):
            if (i, j) in covered:
                continue
            rs, cs = spans.get((i, j), (1, 1))
            rs = min(rs, n_rows + 1 - i)
            cs = min(cs, n_cols - j)
            for a in range(i, i + rs):
                for b in range(j, j + cs):
                    covered.add((a, b))
            cx0, cy0 = x + j * col_w, y + i * row_h
            box = (cx0, cy0, cx0 + cs * col_w, cy0 + rs * row_h)
            txt = grid_text[i][j]
            if txt:
                tl = c.line(cx0 + 4, cy0 + (rs * row_h - size * 1.15) / 2, txt, size,
                            bold=i == 0)
                lines.append(tl)
            if ruled:
                c.rect(box, width=0.5)
            cells.append(TableCell(row=i, col=j, row_span=rs, col_span=cs, text=txt,
                                   column_header=i == 0,
                                   box=Box(page=page, x0=box[0], y0=box[1], x1=box[2],
                                           y1=box[3])))
    if not ruled:
        c.rule(x, y + row_h, x + width, y + row_h, 0.8)
    table = Table(n_rows=n_rows + 1, n_cols=n_cols, cells=cells)
    return TRegion("table", lines, table=table,
                   extra_box=(x, y, x + width, y + (n_rows + 1) * row_h))


def _table_page(c: Canvas, r: random.Random, v: int, W: float, H: float
                ) -> tuple[list, list]:
    m = r.uniform(50, 70)
    size = r.uniform(8.5, 10.5)
    regs = [TRegion("title", [c.line(m, m, T.title(r), size * 1.6, True)])]
    y = m + size * 3.5
    if r.random() < 0.6:
        regs.append(TRegion("text", c.para(m, y, W - 2 * m, T.paragraph(r, 2), size)))
        y = regs[-1].box[3] + size * 1.5
    t = _table_grid(c, r, m, y, W - 2 * m, size, ruled=v != 1)
    regs.append(t)
    y = t.box[3] + size
    regs.append(TRegion("caption", [c.line(m, y, f"Table {r.randint(1, 9)}: "
                                                 f"{T.sentence(r, 3, 7)}"[:70], size * 0.9)]))
    return regs, []


def _invoice(c: Canvas, r: random.Random, v: int, W: float, H: float) -> tuple[list, list]:
    m = r.uniform(45, 65)
    size = r.uniform(8.5, 10.5)
    regs: list[TRegion] = []
    kvs: list[KV] = []
    title_x, align = (m, "left") if v != 1 else (W - m, "right")
    regs.append(TRegion("title", [c.line(title_x, m, "INVOICE", size * 2.4, True, align)]))
    seller = T.company(r)
    sl = [c.line(W - m if v != 1 else m, m + i * size * 1.3, t, size,
                 align="right" if v != 1 else "left")
          for i, t in enumerate([seller, *T.address(r)])]
    regs.append(TRegion("header", sl))
    y = m + size * 6
    meta_x = W - m - 200 if v != 2 else m
    for key, val in (("Invoice no", T.code(r)), ("Date", T.date(r)), ("Due date", T.date(r))):
        kl = c.line(meta_x, y, f"{key}:", size, True)
        vl = c.line(meta_x + 80, y, val, size)
        kvs.append(KV(key, val, kl.box, vl.box))
        regs.append(TRegion("key_value", [kl, vl]))
        y += size * 1.6
    by = m + size * 6 if v != 2 else y + size
    bx = m if v != 2 else W / 2
    bill = [c.line(bx, by, "Bill to:", size, True)] + [
        c.line(bx, by + (i + 1) * size * 1.3, t, size)
        for i, t in enumerate([T.company(r), *T.address(r)])]
    regs.append(TRegion("text", bill))
    y = max(y, bill[-1].box[3]) + size * 2.5
    n = r.randint(2, 7)
    items = [(r.choice(T.ITEMS), str(r.randint(1, 20)), T.amount(r, 1, 300)) for _ in range(n)]
    total = 0.0
    table_cells = [TableCell(row=0, col=j, text=h, column_header=True)
                   for j, h in enumerate(["Description", "Qty", "Price", "Amount"])]
    row_h = size * 1.8
    xs = [m, m + (W - 2 * m) * 0.5, m + (W - 2 * m) * 0.65, m + (W - 2 * m) * 0.82, W - m]
    lines = [c.line(xs[j] + 4, y + 3, h, size, True) for j, h in
             enumerate(["Description", "Qty", "Price", "Amount"])]
    for i, (desc, qty, price) in enumerate(items, 1):
        amt = float(price.replace(",", "")) * int(qty)
        total += amt
        vals = [desc, qty, price, f"{amt:,.2f}"]
        for j, val in enumerate(vals):
            lines.append(c.line(xs[j] + 4, y + i * row_h + 3, val, size))
            table_cells.append(TableCell(row=i, col=j, text=val))
    ruled = v != 1
    for i in range(n + 2):
        if ruled or i in (1, n + 1):
            c.rule(xs[0], y + i * row_h, xs[-1], y + i * row_h, 0.5)
    if ruled:
        for x in xs:
            c.rule(x, y, x, y + (n + 1) * row_h, 0.5)
    for cell in table_cells:
        cell.box = Box(page=1, x0=xs[cell.col], y0=y + cell.row * row_h, x1=xs[cell.col + 1],
                       y1=y + (cell.row + 1) * row_h)
    regs.append(TRegion("table", lines, table=Table(n_rows=n + 1, n_cols=4, cells=table_cells),
                        extra_box=(xs[0], y, xs[-1], y + (n + 1) * row_h)))
    y += (n + 1) * row_h + size * 1.5
    tax = total * 0.2
    for key, val in (("Subtotal", f"{total:,.2f}"), ("Tax", f"{tax:,.2f}"),
                     ("Total", f"{total + tax:,.2f}")):
        kl = c.line(xs[2], y, key, size, key == "Total")
        vl = c.line(W - m, y, val, size, key == "Total", align="right")
        kvs.append(KV(key, val, kl.box, vl.box))
        regs.append(TRegion("key_value", [kl, vl]))
        y += size * 1.6
    if y < H - m - size * 4:
        regs.append(TRegion("footer", c.para(m, H - m - size * 3, W - 2 * m,
                                             f"Payment within 30 days to {T.code(r)}. "
                                             "Thank you for your business.", size * 0.85)))
    return regs, kvs


def _receipt(c: Canvas, r: random.Random, v: int, W: float, H: float) -> tuple[list, list]:
    m = 10
    size = r.uniform(7.5, 9)
    regs: list[TRegion] = []
    kvs: list[KV] = []
    store = T.company(r).upper() if r.random() < 0.6 else T.company(r)
    regs.append(TRegion("title", [c.line(W / 2, m, store[:30], size * 1.3, True, "center")]))
    y = m + size * 2.2
    addr = []
    for t in [*T.address(r), f"Tel {T.phone(r)}"]:
        addr.append(c.line(W / 2, y, t[:36], size * 0.9, align="center"))
        y += size * 1.25
    regs.append(TRegion("header", addr))
    y += size * 0.8
    if r.random() < 0.5:  # printed separators (dashes, equals signs, dots) between parts
        c.separator(m, W - m, y - size * r.uniform(0.1, 0.4), size, r)
        y += size * 0.6
    date = T.date(r)
    dl = c.line(m, y, f"Date: {date}  {r.randint(7, 22):02d}:{r.randint(0, 59):02d}", size)
    kvs.append(KV("Date", date, dl.box, dl.box))
    regs.append(TRegion("key_value", [dl]))
    y += size * 1.8
    total = 0.0
    lines = []
    for _ in range(r.randint(2, 8)):
        item = r.choice(T.ITEMS)[:18]
        price = float(T.amount(r, 0.5, 60).replace(",", ""))
        total += price
        lines.append(c.line(m, y, item, size))
        lines.append(c.line(W - m, y, f"{price:.2f}", size, align="right"))
        y += size * 1.35
    regs.append(TRegion("list", lines))
    if v != 1 and r.random() < 0.5:
        c.rule(m, y, W - m, y, 0.5)
    elif v != 1:
        c.separator(m, W - m, y + size * r.uniform(0.1, 0.3), size, r)  # tight or not
        y += size * 0.5
    y += size * 0.8
    tl = c.line(m, y, "TOTAL", size * 1.1, True)
    tv = c.line(W - m, y, f"{total:.2f}", size * 1.1, True, "right")
    kvs.append(KV("Total", f"{total:.2f}", tl.box, tv.box))
    regs.append(TRegion("key_value", [tl, tv]))
    y += size * 2.5
    if r.random() < 0.5:
        c.separator(m, W - m, y - size * 0.6, size, r)
    regs.append(TRegion("footer", [c.line(W / 2, y, r.choice(["THANK YOU", "Thank you!",
                                                               "Please come again"]),
                                          size, align="center")]))
    return regs, kvs


TEMPLATES = {"form": _form, "invoice": _invoice, "receipt": _receipt, "table": _table_page,
             "report": _report, "letter": _letter}


def page_size(kind: str, r: random.Random) -> tuple[float, float]:
    if kind == "receipt":
        return r.choice([164.0, 204.0, 226.0]), r.uniform(330, 520)  # 58/72/80 mm rolls
    return r.choice([(595.0, 842.0), (612.0, 792.0)])


def make_page(seed: int, kind: str | None = None, split: str | None = None,
              variant: int | None = None) -> SynthPage:
    """Deterministic page for ``seed``. ``split`` defaults to heldout for seeds at or above
    ``HELDOUT_SEED_BASE``; held-out pages use the held-out variant and font families.
    ``variant`` forces a template variant (tests of a layout; never training data)."""
    split = split or ("heldout" if seed >= HELDOUT_SEED_BASE else "train")
    r = random.Random(seed * 7919 + 17)
    kind = kind or r.choice(KINDS)
    v = N_VARIANTS - 1 if split == "heldout" else r.randrange(N_VARIANTS - 1)
    variant = v if variant is None else variant
    family = fonts.pick(r, split, mono=True if kind == "receipt" else None)
    W, H = page_size(kind, r)
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    c = Canvas(page, family)
    regions, kv = TEMPLATES[kind](c, r, variant, W, H)
    c.finish()
    doc.set_metadata({"producer": "docvlm synth", "creator": "docvlm synth"})
    pdf = doc.tobytes(garbage=3, deflate=True, no_new_id=True)
    doc.close()
    regions = [g for g in regions if g.lines or g.table is not None]
    return SynthPage(kind, variant, split, seed, W, H, regions, kv, pdf, family.name)
