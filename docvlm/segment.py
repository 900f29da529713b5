"""Classical text-line and block segmentation (OpenCV), for the parse pass and as the
layout pass of a model that was not trained on page layout.

The model reads best what it was trained on: single text lines at its line height
(``cfg.tiling.line_px``). So a text region is cut into lines here and each line is read on
its own, which also gives every :class:`schemas.Line` its real box. Method (the classic
run-length smearing idea, Wong, Casey and Wahl 1982, on connected components):

1. ink mask: adaptive threshold (uneven light, fading) combined with Otsu;
2. drop what is not text: specks, ruling lines (long and thin), large blobs (figures);
3. glyph height = median component height; components are smeared horizontally over gaps
   narrower than about one em, so letters and words join and columns stay apart;
4. a smeared band taller than two lines is split at the valleys of its row profile;
5. blocks: lines that follow each other closely and overlap horizontally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
DARK_AREA = 0.01  # solid dark areas this share of the page or more are no ink (ink_mask)
# ink on noisy paper (_noisy_paper_ink), in the noise's spreads below the paper; chosen on
# synthetic faded receipts on stained or grainy paper (tests/test_segment.py)
GATE_MAX = 2.0  # ink starts at most this far below
CORE_MIN = 2.5  # a stroke's core: halfway from at most this far to the ink's level
STRONG_INK = 8.0  # or this far, if less


@dataclass
class TextBlock:
    box: Rect
    lines: list[Rect] = field(default_factory=list)
    bold: bool = False  # set in heavier strokes than most lines given (a heading)


def ink_mask(gray: np.ndarray, noisy_paper: bool = True) -> np.ndarray:
    """Binary (uint8 0/1) ink mask of a gray page. ``noisy_paper``: on textured paper, ink
    is what stands out of the paper's own noise (:func:`_noisy_paper_ink`); off for small
    windows of a page, whose statistics say little about its paper."""
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    otsu_t = _otsu_without_dark_areas(gray)
    block = max(15, (min(gray.shape[:2]) // 40) | 1)
    adaptive = cv2.adaptiveThreshold(gray, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                     block, 12)
    # adaptive alone turns paper texture into ink; Otsu alone loses faded text in shadows:
    # keep adaptive ink that is also clearly darker than the paper
    paper = float(np.percentile(gray, 90))
    dark = gray < min(paper - 25, max(otsu_t, paper - 60))
    mask = (adaptive.astype(bool) & dark).astype(np.uint8)
    gate = _noisy_paper_ink(gray) if noisy_paper else None
    if gate is None:
        return mask
    weak, strong = gate
    mask &= weak
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    keep = np.zeros(n, bool)
    keep[labels[strong & (mask > 0)]] = True
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _noisy_paper_ink(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Ink told from the paper's texture by how far it lies below the paper's noise, or
    None on flat paper. A faded receipt on stained or mottled paper, contrast stretched,
    keeps its blotches a few pixels wide: thresholds set from the paper's level took them
    for ink, and the page became thousands of specks (the glyph height, a median over
    components, then fell to the specks' size and no line was found).

    The page less its local background (a median over a fortieth of its short side, on a
    quarter-size copy) is the paper's noise plus the ink; the noise's spread is the median
    absolute deviation (robust: ink is a few per cent of a page; zero on clean paper, which
    is left alone). Pixels more than 4 spreads below the paper are the ink's level and
    spread; ``weak`` (the gate) is where a pixel is as many spreads from either (at most
    ``GATE_MAX`` below the paper), and ``strong`` (hysteresis, as Canny's edges) halfway
    from that point (at most ``CORE_MIN`` spreads below the paper) to the ink's median, or
    ``STRONG_INK`` spreads below the paper if that is less (light grey print beside black
    on grainy paper): a component is ink only if it holds a strong pixel (a stroke has a
    dark core; a blotch barely crosses the gate).
    Synthetic faded receipts on blotched paper, and held-out degraded pages, measured in
    ``tests/test_segment.py``."""
    h, w = gray.shape[:2]
    if min(h, w) < 64:
        return None
    small = cv2.resize(gray, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    k = max(3, (min(small.shape) // 40) | 1)
    bg = cv2.resize(cv2.medianBlur(small, k), (w, h), interpolation=cv2.INTER_LINEAR)
    resid = gray.astype(np.int16) - bg.astype(np.int16)
    sample = resid[::2, ::2].astype(np.float32)  # the statistics on a quarter of the pixels
    paper = float(np.median(sample))
    spread = 1.4826 * float(np.median(np.abs(sample - paper)))
    if spread <= 0:
        return None
    ink = sample[sample < paper - 4 * spread]
    if ink.size == 0:
        return None
    ink_level = float(np.median(ink))
    ink_spread = 1.4826 * float(np.median(np.abs(ink - ink_level)))
    # as many spreads from either, but never more than GATE_MAX below the paper: faint ink
    # a few spreads deep has only its darkest pixels in the tail, whose spread is too small
    between = (paper - ink_level) / (spread + ink_spread)  # spreads below the paper
    gate = paper - spread * min(GATE_MAX, between)
    core = paper - spread * min(CORE_MIN, between)
    return resid < gate, resid < max((core + ink_level) / 2, paper - STRONG_INK * spread)


def _otsu_without_dark_areas(gray: np.ndarray) -> float:
    """Otsu's threshold of the page without its large dark areas (the table around a
    photographed receipt, a scanner's black margin, a dark photo): left in, they pull the
    threshold far below faint print, whose ink then counts as paper. Dark areas are what
    survives an opening a fiftieth of the page's short side wide (at least 9 px): strokes,
    rules and table grids are thinner, and stay."""
    t, dark = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    k = max(9, min(gray.shape[:2]) // 50)
    solid = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    if solid.sum() < DARK_AREA * gray.size:
        return t
    rest = gray[solid == 0]
    return cv2.threshold(rest.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]


def _components(mask: np.ndarray):
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return n, labels, stats[1:]


def glyph_height(stats: np.ndarray) -> float | None:
    """Median height of character-like components."""
    if len(stats) == 0:
        return None
    h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    ok = (h >= 4) & (w <= 3 * h) & (w >= 1)
    small = stats[:, cv2.CC_STAT_AREA] < 12
    if (ok & small).sum() > 0.5 * (ok & ~small).sum():
        ok &= ~small  # paper grain: a flood of specks (clean pages: under 0.15 per glyph)
    if ok.sum() < 3:
        return None
    return float(np.median(h[ok]))


def remove_rules(mask: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Split off straight ruling lines at least ``length`` pixels long (underlines of form
    fields, table borders, boxes): returns (mask without them, the rules)."""
    horiz = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (length, 1)))
    vert = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, length)))
    rules = cv2.dilate(horiz | vert, np.ones((3, 3), np.uint8))  # and their blurred edges
    return mask & (1 - rules), rules


def clean_line_crop(gray: np.ndarray, rect: Rect, ink: Rect) -> np.ndarray:
    """The crop ``rect`` of a gray page around one text line whose ink box is ``ink``, as a
    reading line looks in training (alone on paper): ruling lines through it (a field's
    underline, a box's sides, a table cell's borders) and ink of the lines above and below
    (descenders and ascenders reaching into the padding) painted as paper.

    Rules are found in a window one ink height larger on every side: horizontal ink runs at
    least 2.5 ink heights long, vertical runs taller than 1.3 ink heights (no glyph of the
    line is). A neighbour's ink is a component whose middle lies outside the ink box's
    rows; a box's side, one as tall as the line and thin that lies wholly left or right of
    its columns (a tight box's sides are hardly taller than the line: no rule by length;
    the broken pieces of a receipt's glyphs are shorter and stay)."""
    H, W = gray.shape[:2]
    x0, y0, x1, y1 = rect
    ink_h = max(1, ink[3] - ink[1])
    m = max(2, ink_h)
    wx0, wy0, wx1, wy1 = max(0, x0 - m), max(0, y0 - m), min(W, x1 + m), min(H, y1 + m)
    win = gray[wy0:wy1, wx0:wx1]
    crop = gray[y0:y1, x0:x1]
    if win.size == 0 or crop.size == 0:
        return crop
    mask = ink_mask(win, noisy_paper=False)
    horiz = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (max(8, int(2.5 * ink_h)), 1)))
    vert = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, max(8, int(1.3 * ink_h) + 1))))
    sl = (slice(y0 - wy0, y1 - wy0), slice(x0 - wx0, x1 - wx0))
    rules = cv2.dilate(horiz | vert, np.ones((3, 3), np.uint8))[sl].astype(bool)
    text = mask[sl] & ~rules
    _, labels, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8),
                                                           connectivity=8)
    mid = stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] / 2 + y0
    left, top = stats[:, cv2.CC_STAT_LEFT] + x0, stats[:, cv2.CC_STAT_TOP] + y0
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    side = (((right < ink[0]) | (left > ink[2])) & (bottom - top >= 0.8 * ink_h)
            & (right - left <= 0.3 * ink_h))
    stray = (mid < ink[1]) | (mid > ink[3]) | side
    stray[0] = False  # background
    erase = rules | stray[labels]
    if not erase.any():
        return crop
    # with their blurred edges (a JPEG's halo grows with the print: 1 px at 20-px lines,
    # 3-4 at 64 px, where it was left as outlines that the glyph measure took for letters),
    # never this line's ink
    k = max(3, 2 * round(ink_h / 16) + 1)
    erase = cv2.dilate(erase.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & (
        rules | (labels == 0) | stray[labels])
    out = crop.copy()
    out[erase] = np.uint8(np.percentile(win, 90))
    return out


def is_box(comp: np.ndarray) -> bool:
    """A square outline (a checkbox): every side of its bounding box is mostly ink."""
    h, w = comp.shape
    if h < 6 or w < 6 or not 0.8 <= w / h <= 1.25:  # square
        return False
    t = max(1, min(h, w) // 8)
    sides = (comp[:t].any(0).mean(), comp[-t:].any(0).mean(), comp[:, :t].any(1).mean(),
             comp[:, -t:].any(1).mean())
    inner = comp[t + 1 : h - t - 1, t + 1 : w - t - 1]
    fill = float(inner.mean()) if inner.size else 0.0
    # hollow, or holding a tick (then every side unbroken: a bold N's sides are not)
    return min(sides) > 0.85 and (fill < 0.5 or (fill < 0.8 and min(sides) > 0.92))


def box_is_checked(ink: np.ndarray, rect: Rect) -> bool:
    """Whether a checkbox holds a mark: ink inside it, clear of its outline. The outline's
    width is measured (from each side, the run of ink rows or columns at the middle of
    that side, past any stray ink outside it): a scan's blur thickens it well past a fixed
    share of the box."""
    x0, y0, x1, y1 = rect
    box = ink[y0:y1, x0:x1].astype(bool)
    h, w = box.shape
    if h < 6 or w < 6:
        return False

    def run(lines: np.ndarray) -> int:
        """Rows of a (rows, samples) view up to the end of the first run of ink rows."""
        full = np.append(lines.mean(axis=1) > 0.5, False)
        start = int(np.argmax(full))
        return start + int(np.argmin(full[start:]))

    mid_c, mid_r = slice(w // 4, w - w // 4), slice(h // 4, h - h // 4)
    # the second thinnest side: a mark touching one or two sides reads as a thick outline
    t = sorted([run(box[:, mid_c]), run(box[::-1, mid_c]), run(box[mid_r].T),
                run(box[mid_r, ::-1].T)])[1] + 1
    inside = box[t : h - t, t : w - t]
    return inside.size > 0 and float(inside.mean()) > 0.08


def text_mask(gray: np.ndarray, boxes_out: list[Rect] | None = None,
              ink: np.ndarray | None = None, glyph: float | None = None
              ) -> tuple[np.ndarray, float | None]:
    """Ink that looks like text (specks, rules, checkboxes and big blobs removed), and the
    glyph height. Checkbox outlines found are appended to ``boxes_out``; ``glyph``: the
    glyph height where the image has too few glyphs to measure one (a table cell's '4')."""
    mask = ink_mask(gray) if ink is None else ink
    _, _, stats = _components(mask)
    g = glyph_height(stats) or glyph
    # a worn print head's dead rows cut every glyph into flat slices a row or two apart:
    # each slice a component, the glyph height a slice's, and each row of slices a line.
    # Gaps of up to 2 px closed, a glyph height half again as tall says the print was
    # broken (clean print: the dots of i and j join their stems, the median stays)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 1), np.uint8))
    _, _, closed_stats = _components(closed)
    g_closed = glyph_height(closed_stats)
    if g_closed is not None and (g is None or g_closed >= 1.5 * g):
        mask, g = closed, g_closed
    if g is None:
        return np.zeros_like(mask), None
    mask, rules = remove_rules(mask, max(15, int(4 * g)))
    _, labels, stats = _components(mask)
    g = glyph_height(stats) or g
    h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (
        ~separator_rows(stats, g)  # a receipt's rows of dashes, equals signs or dots
        & (area >= max(3, g * g / 40))  # specks (dots of i and j survive: they are near g/4)
        & ~((w > 6 * g) & (h < 0.5 * g))  # horizontal rules and underlines
        & ~((h > 4 * g) & (w < 0.5 * g))  # vertical rules
        & (h < 5 * g)  # figures, logos, big boxes (a table border's box is huge)
    )
    # the short sides of a fill-in box outlive the rules they hung from; left, they join the
    # label and the value written in the box into one line
    near = cv2.dilate(rules, np.ones((5, 5), np.uint8))
    for i in np.nonzero(keep & (w <= 0.35 * g) & (h >= 1.2 * g))[0]:
        x, y, ww, hh = (int(v) for v in stats[i, :4])
        if near[y, x : x + ww].any() and near[y + hh - 1, x : x + ww].any():
            keep[i] = False
    found: list[Rect] = []
    for i in np.nonzero(keep & (h >= 0.8 * g) & (h <= 2.5 * g))[0]:
        x, y, ww, hh = (int(v) for v in stats[i, :4])
        if is_box(labels[y : y + hh, x : x + ww] == i + 1):
            keep[i] = False
            found.append((x, y, x + ww, y + hh))
    lut = np.concatenate([[0], keep.astype(np.uint8)])
    out = lut[labels].astype(np.uint8)
    for x0, y0, x1, y1 in found:
        out[y0:y1, x0:x1] = 0  # a tick or a cross inside a checkbox is not text
    if boxes_out is not None:
        boxes_out.extend(found)
    return out, g


def separator_rows(stats: np.ndarray, g: float) -> np.ndarray:
    """Which components (``_components`` stats) make up a printed separator: a row of at
    least six flat marks (dashes, the bars of equals signs, dots; under half a glyph tall)
    at most 1.2 glyph heights apart, five glyphs long or more, alone on its row (taller
    ink across under a quarter of its length, none within two glyphs of its ends: the dot
    leaders of "Total ...... 5" stay with their line). Tills print them between a
    receipt's parts, often a few pixels from the text, and a scan's blur joins them to the
    line above or below."""
    out = np.zeros(len(stats), bool)
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    cy = y + h / 2
    flat = np.nonzero((h <= 0.45 * g) & (w <= 3 * g))[0]
    if len(flat) < 6:
        return out
    tall = np.nonzero(h > 0.45 * g)[0]
    flat = flat[np.argsort(cy[flat], kind="stable")]
    rows, cur = [], [flat[0]]
    for i in flat[1:]:  # marks whose centres lie within a fifth of a glyph: one row
        if cy[i] - cy[cur[0]] <= 0.2 * g:
            cur.append(i)
        else:
            rows.append(cur)
            cur = [i]
    rows.append(cur)
    for row in rows:
        if len(row) < 6:
            continue
        row = sorted(row, key=lambda i: x[i])
        chain = [row[0]]
        for i in [*row[1:], None]:
            if i is not None and x[i] - (x[chain[-1]] + w[chain[-1]]) <= 1.2 * g:
                chain.append(i)
                continue
            x0, x1 = x[chain[0]], max(x[j] + w[j] for j in chain)
            if len(chain) >= 6 and x1 - x0 >= 5 * g:
                c = float(np.median(cy[chain]))
                row_ink = tall[(y[tall] < c) & (y[tall] + h[tall] > c)]
                on = row_ink[(x[row_ink] < x1) & (x[row_ink] + w[row_ink] > x0)]
                cover = np.minimum(x[on] + w[on], x1) - np.maximum(x[on], x0)
                beside = ((x[row_ink] < x1 + 2 * g) & (x[row_ink] + w[row_ink] > x0 - 2 * g)
                          & ((x[row_ink] + w[row_ink] <= x0) | (x[row_ink] >= x1)))
                if cover.sum() < 0.25 * (x1 - x0) and not beside.any():
                    out[chain] = True
            chain = [i]
    return out


def _split_at_blank_rows(mask: np.ndarray, rect: Rect, glyph: float) -> list[Rect]:
    """Split a band at rows without ink where the pieces on both sides are lines of text
    (at least 0.6 glyph heights tall): lines set with tight leading, a few rows apart, that
    the vertical smear (which joins the dots and accents to their letters) ran together; a
    dot or an accent above its line is too short to stand alone."""
    x0, y0, x1, y1 = rect
    if y1 - y0 < 1.2 * glyph:
        return [rect]
    inked = mask[y0:y1, x0:x1].any(axis=1)
    cuts, k = [], 0
    n = len(inked)
    while k < n:
        if inked[k]:
            k += 1
            continue
        end = k
        while end < n and not inked[end]:
            end += 1
        if k > 0 and end < n:  # blank rows inside the band
            cuts.append((k + end) // 2)
        k = end
    tops = [0]
    for c in cuts:
        upper = _tighten(mask, (x0, y0 + tops[-1], x1, y0 + c))
        lower = _tighten(mask, (x0, y0 + c, x1, y1))
        if upper and lower and min(upper[3] - upper[1], lower[3] - lower[1]) >= 0.6 * glyph:
            tops.append(c)
    if len(tops) == 1:
        return [rect]
    m = max(1, int(glyph * 0.35) // 2)  # the margin the smear gives an unsplit line
    out = []
    for a, b in zip(tops, [*tops[1:], n]):
        t = _tighten(mask, (x0, y0 + a, x1, y0 + b))
        if t:
            out.append((t[0], max(y0 + a, t[1] - m), t[2], min(y0 + b, t[3] + m)))
    return out


MIN_ROW_GLYPHS = 3  # glyph-sized components that make a row of text in a band


def _split_glyph_rows(mask: np.ndarray, rect: Rect, glyph: float) -> list[Rect]:
    """Split a band of lines set solid (a receipt's totals with no leading: descenders on the
    next line's capitals) or joined by handwriting over the print, where no row is blank
    and the ink profile has no gap: its glyph-sized components (0.6-1.6 glyphs tall; a
    heading's big letters and handwritten strokes are taller) gather in rows by their
    centres; between two rows of ``MIN_ROW_GLYPHS`` or more, the band is cut at the row of
    least ink."""
    x0, y0, x1, y1 = rect
    if y1 - y0 < 1.7 * glyph:
        return [rect]
    sub = mask[y0:y1, x0:x1]
    _, _, st, cen = cv2.connectedComponentsWithStats(sub, connectivity=8)
    h = st[1:, cv2.CC_STAT_HEIGHT]
    ok = np.nonzero((h >= 0.6 * glyph) & (h <= 1.6 * glyph))[0]
    if len(ok) < 2 * MIN_ROW_GLYPHS:
        return [rect]
    ys = np.sort(cen[1:][ok, 1])
    rows, start = [], 0
    for k in range(1, len(ys) + 1):
        if k == len(ys) or ys[k] - ys[k - 1] > 0.5 * glyph:
            if k - start >= MIN_ROW_GLYPHS:
                rows.append(float(np.median(ys[start:k])))
            start = k
    if len(rows) < 2:
        return [rect]
    prof = sub.sum(axis=1).astype(np.float32)
    cuts = []
    for a, b in pairwise(rows):
        if b - a < 0.9 * glyph:
            continue
        lo, hi = int(a + 0.3 * (b - a)), int(b - 0.3 * (b - a)) + 1
        cuts.append(lo + int(np.argmin(prof[lo:hi])))
    out = []
    for a, b in zip([0, *cuts], [*cuts, y1 - y0]):
        t = _tighten(mask, (x0, y0 + a, x1, y0 + b))
        if t is not None and t[3] - t[1] >= 0.5 * glyph:
            out.append(t)
    return out or [rect]


def _split_tall(mask: np.ndarray, rect: Rect, line_h: float) -> list[Rect]:
    """Split a band holding several lines at the emptiest rows between them."""
    x0, y0, x1, y1 = rect
    if y1 - y0 < 1.7 * line_h:
        return [rect]
    prof = mask[y0:y1, x0:x1].sum(axis=1).astype(np.float32)
    k = max(1, int(line_h * 0.25)) | 1
    prof = cv2.GaussianBlur(prof.reshape(-1, 1), (1, k), 0).ravel()
    n = max(2, round((y1 - y0) / line_h))
    cuts = []
    floor = 0.2 * float(np.median(prof[prof > 0])) if (prof > 0).any() else 0.0
    for i in range(1, n):
        c = int(i * (y1 - y0) / n)
        lo, hi = max(1, c - int(line_h * 0.4)), min(len(prof) - 1, c + int(line_h * 0.4))
        if hi > lo:
            m = lo + int(np.argmin(prof[lo:hi]))
            if prof[m] <= floor:  # a real gap between lines, not the waist of a big line
                cuts.append(m)
    out, prev = [], 0
    for c in [*cuts, y1 - y0]:
        if c - prev >= 3:
            out.append(_tighten(mask, (x0, y0 + prev, x1, y0 + c)))
        prev = c
    return [r for r in out if r is not None]


def _tighten(mask: np.ndarray, rect: Rect) -> Rect | None:
    x0, y0, x1, y1 = rect
    sub = mask[y0:y1, x0:x1]
    ys, xs = np.nonzero(sub)
    if len(ys) == 0:
        return None
    return (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1,
            y0 + int(ys.max()) + 1)


def text_lines(gray: np.ndarray, gap_em: float = 1.0, boxes_out: list[Rect] | None = None,
               ink: np.ndarray | None = None, glyph: float | None = None) -> list[Rect]:
    """Text-line boxes (pixels): top to bottom, lines side by side on the same row left to
    right. Checkbox outlines found on the way are appended to ``boxes_out``; ``ink``: the
    page's ``ink_mask`` when the caller has it already; ``glyph``: the glyph height to use
    where the image holds too few glyphs to measure it (:func:`text_mask`)."""
    mask, g = text_mask(gray, boxes_out, ink, glyph)
    if g is None:
        return []
    em = g * 1.6  # median glyph (mostly x-height and capitals) to the font size
    kw = max(3, int(round(gap_em * em)))
    smeared = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (kw, 1)))
    # join the dots and accents above letters to their line
    smeared = cv2.dilate(smeared, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(1, int(
        g * 0.35)))))
    # character-sized components: a "line" without one is scanner grain or specks
    _, clabels, cstats = _components(mask)
    tall = np.concatenate([[0], (cstats[:, cv2.CC_STAT_HEIGHT] >= 0.6 * g).astype(np.uint8)])
    glyphs = tall[clabels]
    _, _, stats = _components(smeared)
    pieces: list[Rect] = []
    for x, y, w, h, _ in stats:
        # (narrower than half a glyph: a speck or a scratch, unless a glyph tall: a lone
        # "1", a receipt's quantity)
        if h < 0.5 * g or (w < 0.5 * g and not (0.8 * g <= h <= 1.6 * g and w >= 0.12 * g)):
            continue
        pieces += _split_at_blank_rows(mask, (int(x), int(y), int(x + w), int(y + h)), g)
    # bands much taller than the page's usual line hold lines set solid or joined by
    # handwriting (the usual line, not the glyph: broken print's glyph is a piece's height)
    usual = float(np.median([p[3] - p[1] for p in pieces])) if pieces else 0.0
    rects: list[Rect] = []
    for piece in pieces:
        rows = (_split_glyph_rows(mask, piece, g) if piece[3] - piece[1] >= 1.6 * usual
                else [piece])
        for r in (r for p in rows for r in _split_tall(mask, p, 2.0 * g)):
            if r[3] - r[1] >= 0.5 * g and glyphs[r[1] : r[3], r[0] : r[2]].any():
                rects.append(r)
    return sort_lines(merge_row_pieces(rects))


def merge_row_pieces(rects: list[Rect], gap_lines: float = 1.2) -> list[Rect]:
    """Join pieces of one line split at wide word gaps (monospaced fonts, large headings):
    same row (vertical overlap), heights within 2x (a word without ascenders is short), gap
    under ``gap_lines`` heights of the taller piece (column gaps are wider)."""
    rects = sorted(rects)
    changed = True
    while changed:
        changed = False
        out: list[Rect] = []
        for r in rects:
            for i, o in enumerate(out):
                h = min(r[3] - r[1], o[3] - o[1])
                big = max(r[3] - r[1], o[3] - o[1])
                ov = min(r[3], o[3]) - max(r[1], o[1])
                gap = max(r[0], o[0]) - min(r[2], o[2])
                # a word of x-height letters only ('name:') is half as tall as its neighbour
                if ov >= 0.6 * h and big < 2.0 * max(1, h) and gap < gap_lines * big:
                    out[i] = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]),
                              max(r[3], o[3]))
                    changed = True
                    break
            else:
                out.append(r)
        rects = sorted(out)
    return rects


def sort_lines(rects: list[Rect]) -> list[Rect]:
    """Top to bottom; boxes whose vertical centres fall within half a line of each other are
    one row, left to right."""
    if not rects:
        return []
    rects = sorted(rects, key=lambda r: (r[1] + r[3]) / 2)
    rows: list[list[Rect]] = [[rects[0]]]
    for r in rects[1:]:
        last = rows[-1][-1]
        lh = min(r[3] - r[1], last[3] - last[1])
        if abs((r[1] + r[3]) / 2 - (last[1] + last[3]) / 2) < 0.5 * lh:
            rows[-1].append(r)
        else:
            rows.append([r])
    return [r for row in rows for r in sorted(row)]


BOLD = 1.25  # stroke width of bold type over the body's, at least (measured: about 1.4)


def line_weight(ink: np.ndarray, rect: Rect) -> float | None:
    """A text line's stroke width, from its ink: twice the ink area over the edge pixels.
    None for a line of under four components (too few to tell)."""
    x0, y0, x1, y1 = rect
    m = ink[y0:y1, x0:x1]
    n, _, _ = _components(m)
    if n < 5 or not m.any():
        return None
    edge = int((m & (1 - cv2.erode(m, np.ones((3, 3), np.uint8)))).sum())
    return 2.0 * float(m.sum()) / max(1, edge)


def _weights_differ(a: float | None, b: float | None) -> bool:
    """Two lines set in different weights: strokes over ``BOLD`` times apart (a bold heading
    over its text). Sizes are left to the line-height rule of :func:`text_blocks`."""
    return a is not None and b is not None and max(a, b) > BOLD * min(a, b)


def _split_at_gaps(b: TextBlock) -> list[TextBlock]:
    """A block cut where the space between two of its rows is well over its usual leading
    (a salutation over its letter, a paragraph over the next with no indent): a gap over
    twice the median of the others and over half a line height more."""
    rows: list[list[Rect]] = []
    for ln in b.lines:
        if rows and min(ln[3], rows[-1][-1][3]) - max(ln[1], rows[-1][-1][1]) > 0:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    if len(rows) < 3:
        return [b]
    tops = [min(r[1] for r in row) for row in rows]
    bots = [max(r[3] for r in row) for row in rows]
    gaps = [t - u for t, u in zip(tops[1:], bots[:-1])]
    h = float(np.median([r[3] - r[1] for r in b.lines]))
    out, cur = [], [rows[0]]
    for k, g in enumerate(gaps):
        others = gaps[:k] + gaps[k + 1:]
        med = float(np.median(others))
        if g > 2 * max(med, 0.0) and g > med + 0.5 * h:
            out.append(cur)
            cur = []
        cur.append(rows[k + 1])
    out.append(cur)
    if len(out) == 1:
        return [b]
    blocks = []
    for part in out:
        lines = [ln for row in part for ln in row]
        blocks.append(TextBlock((min(r[0] for r in lines), min(r[1] for r in lines),
                                 max(r[2] for r in lines), max(r[3] for r in lines)), lines))
    return blocks


def text_blocks(gray: np.ndarray | None, lines: list[Rect] | None = None,
                body: list[Rect] | None = None, ink: np.ndarray | None = None
                ) -> list[TextBlock]:
    """Group lines into blocks (paragraphs, list items, address blocks, table rows stay
    separate when far apart): a line joins the block above it when the vertical gap is under
    one line height and the two overlap horizontally, unless one is over 1.4 times the other's
    height, or (with the page image) the two are set in different weights (a heading over
    its text, see :func:`line_weight`). Blocks are then cut where a gap between rows is well
    over their usual leading (:func:`_split_at_gaps`), and marked ``bold`` when their strokes
    are over ``BOLD`` times the median line's (of ``body``, the page's lines, when given).
    ``ink``: the page's ``ink_mask`` when the caller has it already."""
    lines = text_lines(gray, ink=ink) if lines is None else lines
    if ink is None and gray is not None and lines:
        ink = ink_mask(gray)
    weights = {ln: line_weight(ink, ln) for ln in lines} if ink is not None else {}
    blocks: list[TextBlock] = []
    for ln in sorted(lines, key=lambda r: (r[1], r[0])):
        h = ln[3] - ln[1]
        best = None
        for b in blocks:
            last = b.lines[-1]
            gap = ln[1] - last[3]
            overlap = min(ln[2], b.box[2]) - max(ln[0], b.box[0])
            lh = last[3] - last[1]
            if max(h, lh) > 1.4 * min(h, lh):
                continue
            if _weights_differ(weights.get(ln), weights.get(last)):
                continue
            if -0.3 * h <= gap <= 1.0 * max(h, lh) and overlap > 0 and (
                    abs(ln[0] - b.box[0]) < 3 * h or overlap > 0.5 * (ln[2] - ln[0])):
                best = b
        if best is None:
            blocks.append(TextBlock(ln, [ln]))
        else:
            best.lines.append(ln)
            bx = best.box
            best.box = (min(bx[0], ln[0]), min(bx[1], ln[1]), max(bx[2], ln[2]),
                        max(bx[3], ln[3]))
    for b in blocks:
        b.lines = sort_lines(b.lines)
    blocks = [part for b in blocks for part in _split_at_gaps(b)]
    blocks.sort(key=lambda b: (b.box[1], b.box[0]))
    if body is not None and ink is not None:
        strokes = [w for w in (weights[ln] if ln in weights else line_weight(ink, ln)
                               for ln in body) if w is not None]
    else:
        strokes = [w for w in weights.values() if w is not None]
    weight = float(np.median(strokes)) if len(strokes) >= 3 else None
    for b in blocks:  # lines are in order already: sorted before the split, kept in it
        mine = [weights[ln] for ln in b.lines if weights.get(ln) is not None]
        b.bold = bool(weight and mine and float(np.median(mine)) > BOLD * weight)
    return blocks


def fill_in_fields(ink: np.ndarray, exclude: list[Rect] = ()) -> list[Rect]:
    """Places to fill in on a form (pixels): an underline (a lone horizontal rule; its rect
    reaches up one text line above it) or an outlined box (two horizontal rules of the same
    extent, one to four glyphs apart). Rules whose centre lies in an ``exclude`` rect (ruled
    tables) are not fields."""
    _, _, stats = _components(ink)
    g = glyph_height(stats)
    if g is None:
        return []
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (max(15, int(6 * g)), 1)))
    rules = []
    for x, y, w, h, _ in _components(horiz)[2]:
        cx, cy = x + w / 2, y + h / 2
        if h > 0.5 * g or any(e[0] <= cx <= e[2] and e[1] <= cy <= e[3] for e in exclude):
            continue
        rules.append((int(x), int(y), int(x + w), int(y + h)))
    rules.sort(key=lambda r: (r[1], r[0]))
    out: list[Rect] = []
    used: set[int] = set()
    for i, a in enumerate(rules):
        if i in used:
            continue
        pair = next((j for j in range(i + 1, len(rules)) if j not in used
                     and abs(rules[j][0] - a[0]) <= g and abs(rules[j][2] - a[2]) <= g
                     and 0.8 * g <= rules[j][1] - a[3] <= 4 * g
                     and _sides(ink, a, rules[j])), None)
        if pair is not None:  # an outlined box
            used.add(pair)
            out.append((a[0], a[1], a[2], rules[pair][3]))
        else:  # an underline: the text it carries sits just above it
            out.append((a[0], max(0, int(a[1] - 2.2 * g)), a[2], a[3]))
    return out


def _sides(ink: np.ndarray, top: Rect, bottom: Rect) -> bool:
    """Two rules joined by ink down both ends: the outline of a box (not the underlines of
    two fields one above the other)."""
    y0, y1 = top[3], bottom[1]
    if y1 <= y0:
        return False

    def side(x: int) -> bool:
        band = ink[y0:y1, max(0, x - 2) : x + 3]
        return band.size > 0 and band.any(axis=1).mean() > 0.8

    return side(min(top[0], bottom[0])) and side(max(top[2], bottom[2]) - 1)


TYPO_PAD = 0.15  # of the ink height, above and below


def typographic(rect: Rect) -> Rect:
    """A line's ink box grown to its typographic box (ascender to descender, as a PDF text
    layer gives it): the boxes docvlm reports for lines it found in pixels."""
    x0, y0, x1, y1 = rect
    p = round(TYPO_PAD * (y1 - y0))
    return (x0, max(0, y0 - p), x1, y1 + p)


def ink_rect(rect: Rect) -> Rect:
    """The inverse of :func:`typographic` (to within a pixel): the ink of a reported line box,
    which is what a line crop is cut around."""
    x0, y0, x1, y1 = rect
    p = round((y1 - y0) * TYPO_PAD / (1 + 2 * TYPO_PAD))
    return (x0, y0 + p, x1, max(y0 + p + 1, y1 - p))


def pad_rect(rect: Rect, shape: tuple[int, ...], pad_y: float = 0.25, pad_x: float = 0.4
             ) -> Rect:
    """A line box grown like the training crops (a little paper around the ink)."""
    x0, y0, x1, y1 = rect
    h = y1 - y0
    py, px = int(round(h * pad_y)), int(round(h * pad_x))
    return (max(0, x0 - px), max(0, y0 - py), min(shape[1], x1 + px), min(shape[0], y1 + py))


# ---------------------------------------------------------------- ruled tables
@dataclass
class GridCell:
    row: int
    col: int
    row_span: int
    col_span: int
    box: Rect


@dataclass
class RuledTable:
    box: Rect
    n_rows: int
    n_cols: int
    cells: list[GridCell]


def _positions(values: list[float], tol: float) -> list[float]:
    """Cluster 1-D positions closer than ``tol``; the cluster means, sorted."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [float(np.mean(c)) for c in out]


def ruled_tables(gray: np.ndarray, min_rows: int = 2, min_cols: int = 2,
                 ink: np.ndarray | None = None) -> list[RuledTable]:
    """Tables drawn with rules on all sides of their cells (grids of horizontal and vertical
    lines), with row and column spans where an inner rule is missing. Tables without
    vertical rules are left to the model. ``ink``: the page's ``ink_mask``, if computed."""
    mask = ink_mask(gray) if ink is None else ink
    h, w = mask.shape
    length = max(20, min(h, w) // 30)
    horiz = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (length, 1)))
    vert = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, length)))
    frame = cv2.dilate(horiz | vert, np.ones((5, 5), np.uint8))
    _, _, stats = _components(frame)
    tables = []
    for x, y, bw, bh, _ in stats:
        if bw < 4 * length or bh < length:
            continue
        t = _grid(horiz[y : y + bh, x : x + bw], vert[y : y + bh, x : x + bw], length)
        if t is None or t.n_rows < min_rows or t.n_cols < min_cols:
            continue
        dx, dy = int(x), int(y)
        for c in t.cells:
            c.box = (c.box[0] + dx, c.box[1] + dy, c.box[2] + dx, c.box[3] + dy)
        t.box = (t.box[0] + dx, t.box[1] + dy, t.box[2] + dx, t.box[3] + dy)
        tables.append(t)
    return tables


def aligned_tables(lines: list[Rect], min_rows: int = 2, min_cols: int = 3
                   ) -> list[RuledTable]:
    """Tables without rules: runs of consecutive rows of at least ``min_cols`` text pieces
    whose pieces fall into the same columns (the union of the pieces' x-ranges gives as many
    columns as the fullest row has pieces). Cells are column x row rectangles; an empty cell
    is kept so the grid stays whole."""
    if not lines:
        return []
    lh = float(np.median([r[3] - r[1] for r in lines]))
    rows: list[list[Rect]] = []
    for r in sorted(lines, key=lambda r: (r[1] + r[3]) / 2):
        c = (r[1] + r[3]) / 2
        if rows and abs(c - np.mean([(o[1] + o[3]) / 2 for o in rows[-1]])) < 0.5 * lh:
            rows[-1].append(r)
        else:
            rows.append([r])
    runs: list[list[list[Rect]]] = []
    for row in rows:
        c = np.mean([(o[1] + o[3]) / 2 for o in row])
        if len(row) >= min_cols and runs and runs[-1] and c - max(
                (o[1] + o[3]) / 2 for o in runs[-1][-1]) <= 2.5 * lh:
            runs[-1].append(row)
        elif len(row) >= min_cols:
            runs.append([row])
        else:
            runs.append([])
    tables = []
    for run in runs:
        if len(run) < min_rows:
            continue
        spans: list[list[int]] = []
        for x0, x1 in sorted((r[0], r[2]) for row in run for r in row):
            if spans and x0 <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], x1)
            else:
                spans.append([x0, x1])
        if len(spans) != max(len(row) for row in run):
            continue  # pieces that do not line up: not a grid
        top, bottom = min(r[1] for r in run[0]), max(r[3] for r in run[-1])
        inside = {r for row in run for r in row}
        if any(r not in inside and (0 <= top - r[3] <= 1.5 * lh or 0 <= r[1] - bottom
                                    <= 1.5 * lh)
               and any(a - 0.5 * lh <= r[0] and r[2] <= b + 0.5 * lh for a, b in spans)
               for r in lines):
            continue  # a column that goes on above or below: blocks side by side
        pad = int(0.3 * lh)  # cell edges halfway between columns and rows
        tops = [min(r[1] for r in row) for row in run]
        bottoms = [max(r[3] for r in row) for row in run]
        ys = [tops[0] - pad, *((b + t) // 2 for b, t in zip(bottoms, tops[1:], strict=False)),
              bottoms[-1] + pad]
        xs = [spans[0][0] - pad, *((a[1] + b[0]) // 2 for a, b in pairwise(spans)),
              spans[-1][1] + pad]
        cells = [GridCell(i, j, 1, 1, (xs[j], ys[i], xs[j + 1], ys[i + 1]))
                 for i in range(len(run)) for j in range(len(spans))]
        box = (xs[0], ys[0], xs[-1], ys[-1])
        tables.append(RuledTable(box, len(run), len(spans), cells))
    return tables


GUTTER = 0.5  # white between table columns, in line heights at least (word spaces: 0.2-0.35)


def _runs(profile: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D boolean profile."""
    d = np.diff(np.concatenate([[0], profile.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist(),
                    strict=True))


def _gutter_split(profile: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """Ink runs of a column profile joined across gaps narrower than ``min_gap``."""
    out: list[list[int]] = []
    for a, b in _runs(profile):
        if out and a - out[-1][1] < min_gap:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _group_bands(bands: list[tuple[int, int]], fixed: float | None = None,
                 breaks: list[int] = ()) -> list[tuple[int, int]]:
    """Text bands (y runs) joined into table rows: where the white gaps between bands fall
    into two sizes (the larger over twice the smaller), the lines of one cell are those
    across the small gaps; with gaps of one size every band is a row. ``fixed``: join across
    gaps under this instead; never across a gap holding one of the rules at ``breaks``."""
    if len(bands) < 2:
        return bands
    gaps = [b[0] - a[1] if not any(a[1] <= y <= b[0] for y in breaks) else np.inf
            for a, b in pairwise(bands)]
    open_gaps = [g for g in gaps if g < np.inf]  # the gaps no rule parts
    if not open_gaps:
        return bands
    if fixed is not None:
        cut = fixed
    elif max(open_gaps) > 2 * min(open_gaps) + 2:
        cut = (max(open_gaps) * min(open_gaps)) ** 0.5
    else:
        return bands
    rows = [list(bands[0])]
    for (a, b), gap in zip(bands[1:], gaps, strict=True):
        if gap < cut:
            rows[-1][1] = b
        else:
            rows.append([a, b])
    return [(a, b) for a, b in rows]


def open_tables(ink: np.ndarray, lines: list[Rect], exclude: list[Rect] = (),
                min_cols: int = 2, min_rows: int = 2) -> list[RuledTable]:
    """Tables set with horizontal rules only (a top, a header and a bottom rule, as journals
    and reports print them), their columns separated by white gutters; rows may hold cells
    of several lines, header cells may span columns.

    Rules of the same extent (ends within a line height) stacked with text between them
    frame a table, from the first rule to the last; the header may stand above the first
    rule instead (a row of two or more pieces right above it). Columns are the ink runs of
    the body (below the first rule with text on both sides) parted by gutters of GUTTER
    line heights or more; rows are the white-parted bands of text, a cell's lines kept together
    where gaps come in two sizes; header pieces span the columns they cover. ``lines``:
    text-line pieces not taken yet; ``exclude``: tables found already."""
    if len(lines) < 2 * min_rows:
        return []
    lh = float(np.median([r[3] - r[1] for r in lines]))
    length = max(20, int(6 * lh))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (length, 1)))
    _, _, hs = _components(horiz)
    rules = sorted(((int(x), int(y + h / 2), int(x + w)) for x, y, w, h, _ in hs
                    if h <= max(3, 0.5 * lh)), key=lambda r: r[1])
    text, _ = remove_rules(ink, length)
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, max(10, int(2.5 * lh)))))
    groups: list[list[tuple[int, int, int]]] = []
    for r in rules:
        g = next((g for g in groups if abs(g[-1][0] - r[0]) <= lh and abs(g[-1][2] - r[2]) <= lh
                  and not _one_column(text, g[-1][1], r[1], r[0], r[2], lh)), None)
        if g is None:
            groups.append([r])
        else:
            g.append(r)
    found: list[RuledTable] = []
    for g in groups:
        if len(g) < 2:
            continue
        x0, x1 = min(r[0] for r in g), max(r[2] for r in g)
        top, bottom = g[0][1], g[-1][1]

        def within(ln: Rect, a: float, b: float, x0: int = x0, x1: int = x1) -> bool:
            cy = (ln[1] + ln[3]) / 2
            return a < cy < b and x0 - lh <= ln[0] and ln[2] <= x1 + lh

        inside = [ln for ln in lines if within(ln, top, bottom)]
        # a header right above the first rule: rows of two or more pieces
        above = sorted((ln for ln in lines if within(ln, top - 4 * lh, top)
                        and ln not in inside), key=lambda r: -r[3])
        head_top = top
        for ln in above:
            if ln[1] >= head_top:
                continue
            row = [o for o in above if abs((o[1] + o[3]) / 2 - (ln[1] + ln[3]) / 2) < 0.5 * lh]
            low = max(o[3] for o in row)
            under = any(low <= r[1] <= head_top and r[0] < max(o[2] for o in row)
                        and r[2] > min(o[0] for o in row) for r in rules)
            if (len(row) < 2 and not under) or head_top - low > 1.2 * lh:
                break  # one piece is a header only over its partial rule
            head_top = min(head_top, min(o[1] for o in row))
        if head_top < top:
            inside += [ln for ln in above if ln[1] >= head_top]
        body_bottom = bottom
        if len(g) == 2 and head_top == top:  # a header between two rules, the body below
            # the second (its bottom rule cut off): rows of two or more pieces
            below = sorted((ln for ln in lines if within(ln, bottom, bottom + 60 * lh)),
                           key=lambda r: r[1])
            for ln in below:
                if ln[3] <= body_bottom:
                    continue
                row = [o for o in below
                       if abs((o[1] + o[3]) / 2 - (ln[1] + ln[3]) / 2) < 0.5 * lh]
                if len(row) < 2 or min(o[1] for o in row) - body_bottom > 1.2 * lh:
                    break
                body_bottom = max(o[3] for o in row)
            inside += [ln for ln in below if ln[3] <= body_bottom]
        box = (x0, max(0, int(head_top - 0.3 * lh)) if head_top < top else top, x1,
               min(ink.shape[0], int(body_bottom + 0.3 * lh)) if body_bottom > bottom
               else bottom)
        if len(inside) < min_rows or any(
                min(box[2], e[2]) > max(box[0], e[0]) and min(box[3], e[3]) > max(box[1], e[1])
                for e in [*exclude, *(t.box for t in found)]):
            continue
        if vert[box[1] : box[3], box[0] : box[2]].any():
            continue  # a vertical rule inside: a form's boxes or a framed note, not such a table
        partial = [(r[1] - box[1], r[0] - box[0], r[2] - box[0]) for r in rules
                   if box[1] < r[1] < box[3] and r[2] > box[0] and r[0] < box[2]]
        t = _open_grid(text, box, g, lh, min_cols, min_rows, partial)
        if t is not None:
            found.append(t)
    return found


def _one_column(text: np.ndarray, top: int, bottom: int, x0: int, x1: int, lh: float
                ) -> bool:
    """Whether the ink between two rules stands in one column (a paragraph, a caption: the
    rules belong to different tables): no white gutter of GUTTER line heights runs from
    top to bottom through it. No ink: not one column (double rules)."""
    profile = text[top + 1 : bottom, max(0, x0) : x1].any(axis=0)
    return bool(profile.any()) and len(_gutter_split(profile, GUTTER * lh)) == 1


def _open_grid(page_text: np.ndarray, box: Rect, rules: list[tuple[int, int, int]],
               lh: float, min_cols: int, min_rows: int, inner: list[tuple[int, int, int]] = ()
               ) -> RuledTable | None:
    """The cell grid of a table framed by ``rules`` (see :func:`open_tables`) on the page's
    ink without its rules (``page_text``); ``inner``:
    (y, x0, x1) of every rule inside the box, relative to it (cmidrules under spanning
    heads among them): rows part at them, and a header piece spans the columns of the rule
    right under it."""
    breaks = [y for y, _, _ in inner]
    x0, y0, x1, y1 = box
    text = page_text[y0:y1, x0:x1]
    bands = [(a, b) for a, b in _runs(text.any(axis=1)) if b - a >= 0.3 * lh]
    if len(bands) < min_rows:
        return None
    # the header ends at the first rule with text above and below it
    split = next((r[1] - y0 for r in rules if any(b <= r[1] - y0 for _, b in bands)
                  and any(a >= r[1] - y0 for a, _ in bands)), None)
    head = [b for b in bands if split is not None and b[1] <= split]
    body = [b for b in bands if b not in head]
    if not body:
        return None
    rows_mask = np.zeros(text.shape[0], bool)
    for a, b in body:
        rows_mask[a:b] = True
    head_rows = _group_bands(head, fixed=0.5 * lh, breaks=breaks)
    body_rows = _group_bands(body, breaks=breaks)
    cols = _gutter_split(text[rows_mask].any(axis=0), GUTTER * lh)
    if len(body_rows) >= 3:  # a column is ink in two rows at least: one long line's word
        # gaps are no gutters (its pieces join the nearer column)
        while len(cols) > 1:
            use = [sum(text[a:b, ca:cb].any() for a, b in body_rows) for ca, cb in cols]
            j = min(range(len(cols)), key=lambda k: use[k])
            if use[j] >= 2:
                break
            left = cols[j][0] - cols[j - 1][1] if j > 0 else 1 << 30
            right = cols[j + 1][0] - cols[j][1] if j + 1 < len(cols) else 1 << 30
            k = j - 1 if left <= right else j + 1
            lo, hi = min(j, k), max(j, k)
            cols[lo : hi + 1] = [(cols[lo][0], cols[hi][1])]
    if len(cols) < min_cols:
        return None
    filled = [sum(bool(text[a:b, ca:cb].any()) for ca, cb in cols) for a, b in body_rows]
    if sum(f >= 2 for f in filled) < 0.5 * len(filled):
        return None  # mostly rows of one piece: text beside a label, not a table
    rows = head_rows + body_rows
    if len(rows) < min_rows:
        return None
    xs = [0, *((a[1] + b[0]) // 2 for a, b in pairwise(cols)), x1 - x0]
    ys = [0, *((a[1] + b[0]) // 2 for a, b in pairwise(rows)), y1 - y0]
    stub_span = _stub_spans(text, rows, len(head_rows), cols)
    cells: list[GridCell] = []
    for i, (a, b) in enumerate(rows):
        spans = [(j, j) for j in range(len(cols))]
        if i < len(head_rows):  # a header piece spans the columns it covers
            spans = []
            for pa, pb in _gutter_split(text[a:b].any(axis=0), GUTTER * lh):
                nxt = rows[i + 1][0] if i + 1 < len(rows) else text.shape[0]
                for ry, ra, rb in inner:  # a partial rule right under the piece
                    if b <= ry <= nxt and ra < pb and rb > pa and rb - ra < 0.9 * (x1 - x0):
                        pa, pb = min(pa, ra), max(pb, rb)
                hit = [j for j, (ca, cb) in enumerate(cols) if min(pb, cb) > max(pa, ca)]
                if not hit:
                    continue
                lo, hi = min(hit), max(hit)
                if spans and lo <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(hi, spans[-1][1]))
                else:
                    spans.append((lo, hi))
            filled = {j for lo, hi in spans for j in range(lo, hi + 1)}
            spans = sorted(spans + [(j, j) for j in range(len(cols)) if j not in filled])
        for lo, hi in spans:
            n = stub_span[i] if lo == 0 else 1
            if n == 0:
                continue  # under a stub cell that spans this row
            cells.append(GridCell(i, lo, n, hi - lo + 1, (
                x0 + xs[lo], y0 + ys[i], x0 + xs[hi + 1], y0 + ys[i + n])))
    return RuledTable(box, len(rows), len(cols), cells)


def _stub_spans(text: np.ndarray, rows: list[tuple[int, int]], n_head: int,
                cols: list[tuple[int, int]]) -> list[int]:
    """How many rows the first column's cell of each row spans (0: none starts there, a
    cell above spans it). A table without vertical rules prints a row group's label once,
    in its first row, and leaves the first column of the group's other rows white ("T1"
    over the five adverse events of its phase, as PubTabNet's tables mark with rowspan): a
    body row whose first cell is white and whose other cells are not belongs to the label
    above it. Only where the first column holds labels (ink in two body rows or more), and
    header rows never."""
    def inked(r: tuple[int, int], c: tuple[int, int]) -> bool:
        return bool(text[r[0] : r[1], c[0] : c[1]].any())

    span = [1] * len(rows)
    body = range(n_head, len(rows))
    if len(cols) < 2 or sum(inked(rows[i], cols[0]) for i in body) < 2:
        return span
    anchor = None
    for i in body:
        if inked(rows[i], cols[0]):
            anchor = i
        elif anchor is not None and any(inked(rows[i], c) for c in cols[1:]):
            span[anchor] += 1
            span[i] = 0
        else:
            anchor = None  # an empty row ends the group
    return span


def _meets_rules(rules: list[tuple[int, int, int, int]], s: tuple[int, int, int, int],
                 tol: int, reach: int, across: bool = False, need: int = 2) -> bool:
    """A vertical rule's piece ``s`` (x, y, w, h) meets two horizontal rules at least, at its
    ends or across, as a grid's rules do (a rule's end ``reach`` px short allowed for, a
    corner worn off the scan; so is one broken end, as long as the piece crosses another
    rule). ``across``: ``s`` is a horizontal piece and ``rules`` the vertical ones; ``need``:
    how many rules it must meet.

    The upright strokes of large print (a receipt's 40-px capitals are longer than the rule
    length a 790-px-wide image allows) touch one dashed separator at most, and made a
    20-column 'table' of a receipt's amounts; the bars of letters (a T's at 200 dpi) cut a
    ruled table's rows in two."""
    if across:  # the same test with x and y swapped
        s = (s[1], s[0], s[3], s[2])
        rules = [(ry, rx, rh, rw) for rx, ry, rw, rh in rules]
    x, y, w, h = s
    met = {ry for rx, ry, rw, rh in rules
           if y - tol <= ry + rh and ry <= y + h - 1 + tol
           and rx - reach <= x + w and x <= rx + rw + reach}
    return len(_positions(list(met), tol)) >= need


def _grid(horiz: np.ndarray, vert: np.ndarray, length: int, tol: int = 4
          ) -> RuledTable | None:
    """The cell grid of one frame of rules (coordinates relative to the frame)."""
    _, _, hs = _components(horiz)
    _, _, vs = _components(vert)
    rows = [tuple(int(v) for v in s[:4]) for s in hs if s[2] >= length]
    cols = [tuple(int(v) for v in s[:4]) for s in vs if s[3] >= length // 2]
    cols = [c for c in cols if _meets_rules(rows, c, tol, length)]
    # a letter's bar barely outlasts the opening and touches no vertical rule; a rule's
    # piece is long or ends on one (a scan's broken rule keeps one end on a side)
    rows = [r for r in rows if r[2] >= 2 * length
            or _meets_rules(cols, r, tol, tol, across=True, need=1)]
    ys = _positions([y + h / 2 for _, y, _, h in rows], tol)
    xs = _positions([x + w / 2 for x, _, w, _ in cols], tol)
    if len(ys) < 2 or len(xs) < 2:
        return None
    nr, nc = len(ys) - 1, len(xs) - 1

    def covered(band: np.ndarray, axis: int) -> bool:
        return band.size > 0 and band.any(axis=axis).mean() > 0.6

    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(nr):
        y0, y1 = int(ys[r]) + tol, int(ys[r + 1]) - tol
        for c in range(nc):
            x0, x1 = int(xs[c]) + tol, int(xs[c + 1]) - tol
            if c + 1 < nc:  # no rule between this cell and the next: one spanning cell
                xi = int(round(xs[c + 1]))
                if not covered(vert[y0:y1, max(0, xi - tol) : xi + tol + 1], 1):
                    parent[find(r * nc + c)] = find(r * nc + c + 1)
            if r + 1 < nr:
                yi = int(round(ys[r + 1]))
                if not covered(horiz[max(0, yi - tol) : yi + tol + 1, x0:x1], 0):
                    parent[find(r * nc + c)] = find((r + 1) * nc + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(nr):
        for c in range(nc):
            groups.setdefault(find(r * nc + c), []).append((r, c))
    cells = []
    for slots in groups.values():
        r0, r1 = min(s[0] for s in slots), max(s[0] for s in slots)
        c0, c1 = min(s[1] for s in slots), max(s[1] for s in slots)
        if len(slots) != (r1 - r0 + 1) * (c1 - c0 + 1):
            return None  # not rectangles: not a clean grid
        cells.append(GridCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, (
            int(xs[c0]), int(ys[r0]), int(xs[c1 + 1]), int(ys[r1 + 1]))))
    cells.sort(key=lambda g: (g.row, g.col))
    return RuledTable((int(xs[0]), int(ys[0]), int(xs[-1]), int(ys[-1])), nr, nc, cells)
