"""Single rendered text lines (the ``reading`` stage's data): exact text, varied fonts, sizes
and resolutions, optionally degraded like a scan. Rendering a page the size of one line with
PyMuPDF costs about a millisecond.

The training split draws more variety than the held-out split, which stays as it was so its
figures compare across versions: the system font families (condensed, narrow, book faces,
italics), upper-case and receipt-like text, letter spacing, low-resolution scans, and print
styles outline fonts do not give: stretched or squeezed type, heavier or lighter strokes (ink bleed,
worn ribbons), dot-matrix dots, outline fonts redrawn in square pixel steps, real bitmap
fonts printed dot by dot (:mod:`docvlm.synth.pixel`) and hard black-and-white
thresholds (fax, thermal); boxes cut as real annotations and segmenters cut them (tight
enough to clip the glyphs, or holding a neighbouring line's descenders or ascenders); blur
that scales with the text (soft focus on small print). A quarter of the training lines are
receipt lines: till-receipt text, often monospaced, squeezed more often (condensed
fonts), with strokes broken by a print head's dead rows and columns, ink that fades in and
out along the line, or faint grey ink on grey paper."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import cv2
import numpy as np
import pymupdf

from docvlm.crops import median_glyph_height
from docvlm.synth import fonts
from docvlm.synth.degrade import degrade
from docvlm.synth.pixel import render_pixel_line
from docvlm.synth.text import (
    CITIES,
    ITEMS,
    amount,
    code,
    date,
    line_of_text,
    postcode,
    street,
    word,
)

MAX_CHARS = 64
PIXEL_P, PIXEL_RECEIPT_P = 0.04, 0.3  # lines in a bitmap font (docvlm.synth.pixel)
EDGE_P = 0.12  # training lines cut from a page as a box does: tight, or with the
# neighbouring lines' ink at the top or bottom edge


@dataclass
class LineCrop:
    image: np.ndarray  # (H, W) uint8 gray
    text: str
    family: str
    dpi: float
    degradations: list[str] = field(default_factory=list)
    glyph_px: float | None = None  # median glyph height measured on the clean render, before
    # print styles and degradations


def line_text(r: random.Random, max_chars: int = MAX_CHARS) -> str:
    t = line_of_text(r)
    if len(t) > max_chars:
        t = t[:max_chars].rsplit(" ", 1)[0] or t[:max_chars]
    return t.strip() or "0"


RECEIPT_WORDS = (
    "TOTAL SUBTOTAL SUB-TOTAL TAX VAT GST SST CASH CHANGE ROUNDING QTY AMOUNT DISCOUNT "
    "INVOICE RECEIPT TEL FAX CASHIER TABLE ITEM PRICE NET DUE PAID CARD VISA TIP SERVICE "
    "CHARGE DATE TIME NO REF MEMBER POINTS BALANCE TENDER EXCL INCL"
).split()


RECEIPT_UNITS = ["RM", "$", "USD", "EUR", "MYR", "SGD", "GBP", "%", "S", "PCS"]
RECEIPT_FOOTERS = (
    "THANK YOU|PLEASE COME AGAIN|THANK YOU. PLEASE COME AGAIN|GOODS SOLD ARE NOT RETURNABLE|"
    "KEEP THIS RECEIPT|EXCHANGE WITHIN 7 DAYS|PRICES INCLUSIVE OF TAX|HAVE A NICE DAY|"
    "SERVED BY|CUSTOMER COPY|TAX INVOICE|CASH BILL|OFFICIAL RECEIPT|SIMPLIFIED TAX INVOICE"
).split("|")


def _clock(r: random.Random) -> str:
    h, m, sec = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
    if r.random() < 0.4:
        return f"{(h % 12) or 12}:{m:02d}:{sec:02d} {'AM' if h < 12 else 'PM'}"
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if r.random() < 0.5 else "")


DATE_LABELS = ["DATE", "DATE:", "DT", "DD:", "BIZDATE:", "PRINTED:", "Date:", "TRANS DATE:", ""]


def till_date(r: random.Random) -> str:
    """A date as tills print it: day/month/year with slashes most often (the held-out
    pages' ``date`` mix has them in one line in six), a two- or four-digit year, dashes or
    dots otherwise, now and then month first."""
    y, m, d = r.randint(2000, 2029), r.randint(1, 12), r.randint(1, 31)
    yy = f"{y}" if r.random() < 0.7 else f"{y % 100:02d}"
    sep = r.choice("////-.")
    return f"{d:02d}{sep}{m:02d}{sep}{yy}" if r.random() < 0.85 else \
        f"{m:02d}{sep}{d:02d}{sep}{yy}"


def receipt_line(r: random.Random) -> str:
    """A line as till receipts print them: item, quantity, prices, totals, codes, dates and
    times, registration numbers, shop addresses, footers."""
    k = r.randrange(13)
    if k >= 11:  # two in thirteen (stage 18 on)
        return marked_line(r)
    if k == 0:
        return f"{r.choice(ITEMS)} {r.randint(1, 12)} {amount(r, 0.5, 80)} {amount(r, 0.5, 400)}"
    if k == 1:
        return f"{r.choice(RECEIPT_WORDS)} {r.choice(['', 'RM', '$', 'EUR ', 'USD '])}" \
               f"{amount(r, 0.1, 900)}".replace("  ", " ")
    if k == 2:
        return " ".join(r.choice(RECEIPT_WORDS + [word(r)]) for _ in range(r.randint(2, 5)))
    if k == 3:
        return f"{r.choice(RECEIPT_WORDS)} : {r.randint(0, 99999):0{r.randint(3, 8)}d}"
    if k == 4:  # article number and description; quantity, unit price to 3 places, total
        if r.random() < 0.5:
            return f"{r.randint(10 ** 12, 10 ** 13 - 1)} {r.choice(ITEMS)}"
        q = r.randint(1, 9)
        return f"{q} {r.choice(['PC', 'PCS', 'UNIT', 'X', '*'])} {r.choice(['*', 'X', '@', ''])} " \
               f"{r.uniform(0.1, 99):.{r.choice([2, 3])}f} {amount(r, 0, 5)} {amount(r, 0.1, 500)}"
    if k == 5:  # a date and a time, a till and a slip number
        day = till_date(r) if r.random() < 0.7 else date(r)
        return f"{r.choice(DATE_LABELS)} {day} {_clock(r) if r.random() < 0.7 else ''} " \
               f"{r.choice(['', code(r), f'#{r.randint(1, 99999)}'])}".replace("  ", " ").strip()
    if k == 6:  # registration and tax numbers
        return r.choice([f"GST ID NO: {r.randint(0, 10 ** 12 - 1):012d}",
                         f"CO. REG NO. ({r.randint(1000, 999999)}-{r.choice('ADHKMPTUVWX')})",
                         f"({r.choice(['GST', 'SST', 'VAT', 'TAX'])} REG NO: {code(r)})",
                         f"{r.choice(RECEIPT_WORDS)} NO.[{r.randint(0, 10 ** 8 - 1):08d}]",
                         f"INVOICE NO: {r.randint(1, 99999)}/{r.randint(1, 999)}/{code(r)}"])
    if k == 7:  # a shop's address in capitals, with unit, lot or level numbers
        unit = r.choice(["NO.", "LOT", "UNIT", "LEVEL", "BLOCK", "G.", "NO ", "SHOP "])
        a, b = street(r).upper(), f"{postcode(r)} {r.choice(CITIES).upper()}"
        road = f"JALAN {r.choice(['SS', 'PJU', 'USJ', 'BU', 'TU', 'PJS', 'SS2'])} " \
               f"{r.randint(1, 30)}/{r.randint(1, 60)}"  # numbered roads: 'JALAN SS 21/39'
        return r.choice([f"{unit}{r.randint(1, 999)}, {a},", f"{unit} {r.randint(1, 99)}-"
                         f"{r.choice('ABCDG')}, {a}", f"{b}, {r.choice(CITIES).upper()}.", b,
                         f"{unit}{r.randint(1, 99)}, {road},{b}"])
    if k == 8:  # a label with its unit in brackets, a count
        lab = r.choice(["QTY", "ITEM", "TAX", "AMOUNT", "PRICE", "TOTAL", "DISC", "CHANGE"])
        return r.choice([f"{lab}({r.choice(RECEIPT_UNITS)})", f"{lab}(S) : {r.randint(1, 40)}",
                         f"{r.choice('SZTER')} = {r.choice([0, 5, 6, 7, 8, 10, 20])}%",
                         f"{lab} {r.choice(RECEIPT_UNITS)} {amount(r, 0.1, 99)}"])
    if k == 9:  # a labelled date alone, with the register's or the slip's number
        time = f" {r.choice(['TIME:', ''])} {_clock(r)}" if r.random() < 0.3 else ""
        return f"{r.choice(DATE_LABELS)} {till_date(r)}{time}".replace("  ", " ").strip()
    if r.random() < 0.5:
        return r.choice(RECEIPT_FOOTERS)
    return f"{r.randint(1, 9)} x {r.choice(ITEMS)} @ {amount(r, 0.5, 60)}"


def stock_code(r: random.Random) -> str:
    """An article, slip or till code where letters meet digits and zeros: a prefix of one
    to three letters before a zero-padded number ("AA00022", "T0058", "R000375723"), a
    number with its unit run on ("100PC", "200MM", "3KG"), a counter or shift ("SH01",
    "B003"). Letters and digits alike in shape (O/0, I/1, S/5, B/8) sit side by side, so
    only the glyphs' own shapes tell them apart."""
    k = r.randrange(4)
    if k == 0:
        pre = "".join(r.choice("ABCDEGHIKLMNOPRSTUVWZ") for _ in range(r.randint(1, 3)))
        n = r.randint(4, 12)
        return pre + f"{r.randint(0, 10 ** r.randint(1, n - 1))}".zfill(n)
    if k == 1:
        unit = r.choice(["PC", "PCS", "MM", "CM", "KG", "G", "ML", "L", "M", "W", "V", "X"])
        return f"{r.choice([1, 2, 5, 10, 20, 50, 100, 150, 200, 250, 300, 500, 1000])}{unit}"
    if k == 2:
        return f"{r.choice(['SH', 'B', 'T', 'R', 'C', 'POS', 'M', 'S'])}{r.randint(0, 99):02d}"
    return f"{r.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}{r.randint(0, 10 ** 5 - 1):05d}" \
        f"{r.choice(['', '-', '/'])}{r.choice('ABCDEFGHOSX0123456789')}"


def marked_line(r: random.Random) -> str:
    """Receipt lines whose marks a reader drops or confuses: an at-sign run onto a rate or
    a price ("GST@6%", "2 @7.90"), an ampersand between words or numbers ("LOT 18 & 19"),
    spaces on both sides of a colon, comma or dash ("TEL : 03 - 9201 7701", "BATU 11 , SG
    BULOH"), stars and exclamation marks around a footer, item codes of letters and
    zero-padded digits."""
    k = r.randrange(6)
    if k == 0:
        rate = r.choice([0, 5, 6, 7, 8, 10, 15, 20])
        return r.choice([f"GST@{rate}%", f"GST @{rate}%", f"SR = GST @{rate}%",
                         f"TOTAL INCL. GST@{rate}%", f"{r.choice(RECEIPT_WORDS)} @{rate}%",
                         f"{r.randint(1, 12)} @{amount(r, 0.5, 90)}",
                         f"@{r.randint(1, 12)} X RM {amount(r, 0.5, 90)}",
                         f"{r.choice(ITEMS).upper()} @ {amount(r, 0.5, 90)}"])
    if k == 1:
        a, b = r.randint(1, 99), r.randint(1, 99)
        return r.choice([f"NO. {a} & {b}, {street(r).upper()},", f"LOT {a}-A & {a}-B,",
                         f"{word(r).upper()} & {word(r).upper()}",
                         f"THANK YOU & {r.choice(['COME AGAIN', 'PLEASE COME AGAIN'])}",
                         f"{r.choice(ITEMS).upper()} & {r.choice(ITEMS).upper()}"])
    if k == 2:
        sep = r.choice([" : ", " :", ": ", " , ", " - ", "- ", " -"])
        return r.choice([f"{r.choice(RECEIPT_WORDS)}{sep}{r.randint(0, 99999)}",
                         f"TEL{sep}0{r.randint(1, 99)}{r.choice([' - ', '-', '- '])}"
                         f"{r.randint(1000000, 99999999)}",
                         f"{r.choice(CITIES).upper()}{sep}{postcode(r)} "
                         f"{r.choice(CITIES).upper()} {r.choice(['.', ',', ''])}".strip(),
                         f"{r.choice(RECEIPT_WORDS)}{sep.rstrip()}"])
    if k == 3:
        stars = r.choice(["*", "**", "***", "!", "!!", "#", "-", "="])
        foot = r.choice(RECEIPT_FOOTERS)
        return r.choice([f"{stars} {foot} {stars[::-1]}", f"{foot}!", f"{foot}.",
                         f"{stars * r.randint(3, 12)}"])
    if k == 4:
        return f"{stock_code(r)} {r.choice(ITEMS).upper()}" + \
            (f" {stock_code(r)}" if r.random() < 0.3 else "")
    return " ".join(stock_code(r) if r.random() < 0.6 else r.choice(RECEIPT_WORDS)
                    for _ in range(r.randint(1, 4)))


CHARSET = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
           "0123456789.,:;-/()&@#%$*+='\"!?")


BULLETS = ["\u2022", "\u2022", "-", "\u2013", "*", "\u00b7"]  # in every training font
LETTERS = "abcdefgh"


SHORT = ("X", "x", "SR", "ZR", "S", "Z", "T", "RM", "@", "*", "#", "%", "-", "=", "/")


def short_text(r: random.Random) -> str:
    """A line of one to four characters, as receipts and table cells print them alone:
    a digit or count, a tax code, a quantity mark."""
    k = r.randrange(4)
    if k == 0:
        return str(r.randint(0, 9 if r.random() < 0.6 else 99))
    if k == 1:
        return r.choice(SHORT)
    if k == 2:
        return f"{r.randint(1, 12)} {r.choice(['X', 'x', 'PC', 'EA', 'KG'])}"
    return "".join(r.choice(CHARSET) for _ in range(r.randint(1, 3)))


def training_text(r: random.Random, max_chars: int = MAX_CHARS, *,
                  receipt: bool = False) -> str:
    """Training lines: the document line mix, receipt lines, random characters (no word to
    guess from), lines of a few characters, in upper case a quarter of the time (receipts and
    headings print so), and now and then a list item's bullet or number first. ``receipt``:
    mostly till-receipt lines, mostly upper case."""
    x = r.random()
    if x < 0.04:
        t = short_text(r)
    elif x < 0.09:
        n = r.randint(3, 24)
        t = "".join(r.choice(CHARSET + " ") for _ in range(n)).strip() or "0"
    elif x < (0.7 if receipt else 0.2):
        t = receipt_line(r)[:max_chars].strip() or "0"
    else:
        t = line_text(r, max_chars)
    y = r.random()
    t = t.upper() if y < (0.7 if receipt else 0.25) else t.lower() if y < 0.28 else t
    if not receipt and r.random() < 0.06:  # a list item: bullet or number first
        t = f"{r.choice(BULLETS + [f'{r.randint(1, 12)}.', f'{r.choice(LETTERS)})'])} {t}"
    return t[:max_chars]


def _print_style(img: np.ndarray, r: random.Random, receipt: bool = False, *,
                 pixel: bool = False) -> tuple[np.ndarray, list[str]]:
    """Print styles no font gives (training split only): stretched or squeezed type,
    heavier or lighter strokes, dot-matrix dots, a hard black-and-white threshold; on
    receipts also strokes broken by a print head's dead rows and columns, and faint ink.
    ``pixel``: the line is in a bitmap font (:mod:`docvlm.synth.pixel`), whose strokes are
    a dot wide and drawn dot by dot already: no thinning, broken strokes or redrawn dots."""
    steps = []
    g = median_glyph_height(img) or 10.0
    if r.random() < (0.4 if receipt else 0.25):  # receipts: condensed fonts squeezed more
        f = r.uniform(0.6, 1.3) if receipt else r.uniform(0.7, 1.3)
        img = cv2.resize(img, (max(1, round(img.shape[1] * f)), img.shape[0]),
                         interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
        steps.append("stretch")
    x = r.random()
    if x < 0.15:  # ink bleed, bold print: the dark strokes grow
        k = 2 if g < 16 else 3
        img = cv2.erode(img, np.ones((k, k), np.uint8))
        steps.append("heavy")
    elif x < 0.25 and g >= 12 and not pixel:  # worn ribbon, light print: the strokes thin
        img = cv2.dilate(img, np.ones((2, 2), np.uint8))
        steps.append("thin")
    if receipt and not pixel and r.random() < 0.35:
        img = broken_strokes(img, r, g)
        steps.append("broken")
    if not pixel and r.random() < (0.12 if receipt else 0.06):  # (a bitmap font's dots
        img = dot_matrix(img, r, g)  # are drawn already)
        steps.append("dots")
    elif not pixel and r.random() < (0.15 if receipt else 0.05):
        img = bitmap_font(img, r, g)
        steps.append("bitmap")
    elif r.random() < 0.1:
        t = r.uniform(110, 190)
        img = np.where(img < t, 0, 255).astype(np.uint8)
        steps.append("threshold")
    if receipt and r.random() < 0.15:  # (not made faint as well: too little left to read)
        img = patchy_ink(img, r)
        steps.append("patchy")
    elif receipt and r.random() < 0.3:  # faint thermal print on grey paper: 25-90 levels
        paper = r.uniform(200, 250)
        ink = paper - r.uniform(25, 90)
        img = (ink + img.astype(np.float32) * ((paper - ink) / 255)).astype(np.uint8)
        steps.append("faint")
    return img, steps


def patchy_ink(img: np.ndarray, r: random.Random) -> np.ndarray:
    """Ink that comes and goes along the line, as a thermal head pressed unevenly or a
    ribbon worn in places leaves it: the ink's strength follows a smooth random profile
    across the line (a few bumps per line), down to a quarter in the faintest stretches,
    where letters are partly gone."""
    h, w = img.shape
    knots = max(2, round(w / max(1, h) / r.uniform(1.5, 4)))
    rng = np.random.default_rng(r.getrandbits(32))
    profile = np.interp(np.linspace(0, knots, w), np.arange(knots + 1),
                        rng.uniform(r.uniform(0.25, 0.6), 1.0, knots + 1))
    ink = (255 - img.astype(np.float32)) * np.clip(profile, 0, 1)[None, :]
    return (255 - ink).astype(np.uint8)


def broken_strokes(img: np.ndarray, r: random.Random, glyph: float) -> np.ndarray:
    """Strokes broken as a worn thermal or dot print head leaves them: blank rows at a
    pitch of a quarter to two fifths of the glyph height and, half the time, blank columns too
    (the glyphs become blocks of ink with gaps)."""
    out = img.copy()
    for axis in (0, 1) if r.random() < 0.5 else (0,):
        pitch = max(3, round(glyph / r.uniform(2.5, 4.0)))
        gap = max(1, round(pitch * r.uniform(0.15, 0.35)))
        lift = r.uniform(0.0, 0.5)  # what is left of the ink in a gap
        start = r.randrange(pitch)
        n = out.shape[axis]
        for a in range(start, n, pitch):
            sl = (slice(a, a + gap), slice(None)) if axis == 0 else (slice(None), slice(a, a + gap))
            out[sl] = 255 - (255 - out[sl].astype(np.float32)) * lift
    return out


def bitmap_font(img: np.ndarray, r: random.Random, glyph: float) -> np.ndarray:
    """Redraw the line as a bitmap font prints it (till printers, old terminals, faxed
    screen text): the glyphs drawn on a coarse grid of 8 to 12 pixels per glyph height, black
    or white, and enlarged by whole pixels, so every stroke is a staircase of square steps."""
    cell = glyph / r.uniform(8, 12)
    if cell < 1.5:  # already as coarse as a bitmap font
        return img
    h, w = img.shape
    hs, ws = max(1, round(h / cell)), max(1, round(w / cell))
    small = cv2.resize(img, (ws, hs), interpolation=cv2.INTER_AREA)
    small = np.where(small < r.uniform(140, 190), 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def dot_matrix(img: np.ndarray, r: random.Random, glyph: float) -> np.ndarray:
    """Redraw the ink as a dot-matrix printer would: round dots on a grid of about seven
    dots per glyph height, each dot where its cell holds enough ink."""
    p = max(2, round(glyph / r.uniform(5, 8)))
    h, w = img.shape
    ink = (255 - img.astype(np.float32)) / 255
    hs, ws = max(1, h // p), max(1, w // p)
    on = cv2.resize(ink[: hs * p, : ws * p], (ws, hs), interpolation=cv2.INTER_AREA) > 0.3
    yy, xx = np.mgrid[0:p, 0:p] + 0.5 - p / 2
    disk = (yy ** 2 + xx ** 2 <= (0.4 * p) ** 2).astype(np.float32)
    dots = np.kron(on.astype(np.float32), disk)
    out = np.full((h, w), 255, np.uint8)
    out[: hs * p, : ws * p] = (255 * (1 - dots)).astype(np.uint8)
    return out


def _render_outline(r: random.Random, text: str, f: pymupdf.Font, size: float, dpi: float,
                    varied: bool) -> tuple[np.ndarray, bool]:
    """``text`` in the outline font ``f`` with PyMuPDF: the gray image, and whether its box
    was cut as annotations cut boxes (tight, or with a neighbouring line's ink)."""
    track = size * r.uniform(-0.04, 0.3) if varied and r.random() < 0.2 else 0.0
    width = f.text_length(text, fontsize=size) + track * max(0, len(text) - 1)
    asc, desc = f.ascender, f.descender
    pad_x, pad_top, pad_bot = r.uniform(1, 6), r.uniform(0.5, 4), r.uniform(0.5, 4)
    edges = r.random() < EDGE_P if varied else False
    if edges and r.random() < 0.4:  # a tight box: the tops or tails of the glyphs cut off
        pad_top, pad_bot = r.uniform(-0.12, 0.2) * size, r.uniform(-0.12, 0.2) * size
    h = (asc - desc) * size + pad_top + pad_bot
    doc = pymupdf.open()
    page = doc.new_page(width=max(1.0, width + 2 * pad_x), height=h)
    tw = pymupdf.TextWriter(page.rect)
    if track:  # letter spacing: one character at a time
        x = pad_x
        for ch in text:
            tw.append((x, pad_top + asc * size), ch, font=f, fontsize=size)
            x += f.text_length(ch, fontsize=size) + track
    else:
        tw.append((pad_x, pad_top + asc * size), text, font=f, fontsize=size)
    if edges:  # the neighbouring lines' descenders or ascenders inside the box
        for side in (-1, 1) if r.random() < 0.3 else (r.choice((-1, 1)),):
            base = pad_top + asc * size + side * size * r.uniform(1.0, 1.4)
            tw.append((pad_x + r.uniform(-0.3, 0.3) * width, base),
                      line_text(r, 40), font=f, fontsize=size)
    tw.write_text(page, color=(0, 0, 0) if r.random() < 0.8 else (r.uniform(0, 0.4),) * 3)
    z = dpi / 72
    pix = page.get_pixmap(matrix=pymupdf.Matrix(z, z), colorspace=pymupdf.csGRAY, alpha=False)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.stride)[:, : pix.w].copy()
    doc.close()
    return img, edges


def render_line(r: random.Random, text: str, split: str = "train", *,
                degrade_p: float = 0.5, receipt: bool = False) -> LineCrop:
    """``text`` rendered as one line. The training split adds the variety in the module
    docstring; the held-out split draws exactly what it always drew. ``receipt`` (training
    only): a monospaced face half the time, and the receipt print styles."""
    varied = split == "train"
    receipt = receipt and varied
    fam = fonts.pick(r, split, mono=True if receipt and r.random() < 0.5 else None,
                     system=varied)
    code = fam.bold if r.random() < 0.2 else fam.regular
    if varied and fam.italic and r.random() < 0.1:
        code = fam.italic
    f = fonts.font(code)
    size = r.uniform(7.0, 14.0)
    dpi = r.uniform(140, 300)
    if varied and r.random() < 0.15:
        dpi = r.uniform(90, 140)  # coarse scans and faxes
    pixel = None
    if varied and r.random() < (PIXEL_RECEIPT_P if receipt else PIXEL_P):
        pixel = render_pixel_line(r, text, 1.15 * size * dpi / 72)
    if pixel is not None:
        img, name = pixel
        fam_name, edges = name, False
    else:
        img, edges = _render_outline(r, text, f, size, dpi, varied)
        fam_name = fam.name
    steps: list[str] = ["edges"] if edges else []
    glyph = median_glyph_height(img)
    if varied:
        img, style = _print_style(img, r, receipt, pixel=pixel is not None)
        steps += ["pixel"] * (pixel is not None) + style
    if r.random() < degrade_p:
        img, more = degrade(img, r, strength=r.uniform(0.5, 1.0), rotate_max=0.6,
                            glyph=glyph if varied else None)
        steps += more
    return LineCrop(img, text, fam_name, dpi, steps, glyph)
