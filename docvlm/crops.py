"""Text-scale normalisation of crops: the model reads best at the line height it was trained
on (LINE_PX), whatever the DPI of the scan. The line height of a crop is estimated from the
median height of its ink components (characters), calibrated on rendered text."""

from __future__ import annotations

import cv2
import numpy as np

LINE_PX = 64  # line height the reading tasks are trained at
TIGHT_TO_GLYPH = 2.22  # tight line box (ascender to descender) / median glyph height (measured
# on 389 regions of 40 synthetic pages: 10-90 % range 1.7-2.5)
TABLE_LINE_PX = 36  # tight line height of table crops at most (tables hold many rows)
COMPONENT_TO_LINE = 2.83  # training line-crop height / median glyph height (measured on
# 300 rendered training lines: median 2.83, 10-90 % range 2.2-3.7)


def _component_heights(bw: np.ndarray, max_h: int) -> tuple[float | None, int]:
    """Median height of the character-like components of a binary image, and how many
    components it has."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    h, w = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    ok = (h >= 3) & (w <= 4 * h) & (h <= max_h)
    return (float(np.median(h[ok])) if ok.any() else None), n - 1


def median_glyph_height(gray: np.ndarray) -> float | None:
    """Median height of character-like ink components, or None when there is no text.

    Print whose strokes break into pieces (thermal heads with dead rows, dot matrix) would
    give the pieces' height: the pieces of one glyph are joined across gaps up to half of
    that height, and the joined height is taken when the joins were many (a quarter of
    the components or more) and grew the median by a quarter or more. Whole strokes only
    join an i's dot to its stem, which moves neither figure that far (on 300 held-out
    lines the estimate changed for none; on 300 training lines for one, a dot-matrix
    line)."""
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if bw.mean() > 127:
        return None
    g, n = _component_heights(bw, gray.shape[0])
    for _ in range(3):  # dots of 1-2 px (no glyph measured yet) join in steps
        k = max(2, round((g or 4) / 2)) + 1
        joined, m = _component_heights(
            cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((k, 1), np.uint8)), gray.shape[0])
        if joined is None or (g is not None and not (joined > 1.25 * g and m < 0.75 * n)):
            break
        g, n = joined, m
    return g


# Ink fainter than MIN_CONTRAST against its paper (grey levels) is stretched to
# MIN_CONTRAST_TO; below NO_INK_CONTRAST it is paper grain, not ink (blank paper with noise
# of sigma 14 measures 28 here; the faint receipt lines of SROIE 30-50)
MIN_CONTRAST = 120
MIN_CONTRAST_TO = 160
NO_INK_CONTRAST = 24


def stretch_contrast(gray: np.ndarray) -> np.ndarray:
    """Faint ink (a faded thermal receipt, grey print on grey paper) darkened so it stands
    MIN_CONTRAST_TO grey levels below its paper; paper stays as it is, and crops with
    enough contrast are returned unchanged. Ink is the darkest percent of the crop after a
    3x3 box blur (lone dark specks of noise do not count); a crop whose darkest grey is
    within NO_INK_CONTRAST of its paper holds no ink to stretch."""
    paper = float(np.percentile(gray, 90))
    ink = float(np.percentile(cv2.blur(gray, (3, 3)), 1))
    if not NO_INK_CONTRAST <= paper - ink < MIN_CONTRAST:
        return gray
    f = MIN_CONTRAST_TO / (paper - ink)
    return np.clip(paper - (paper - gray.astype(np.float32)) * f, 0, 255).astype(np.uint8)


def estimate_line_height(gray: np.ndarray) -> float | None:
    g = median_glyph_height(gray)
    return None if g is None else g * COMPONENT_TO_LINE


def glyph_target(line_px: float = LINE_PX) -> float:
    """Median glyph height (px) of a line crop trained at ``line_px``."""
    return line_px / COMPONENT_TO_LINE


def tight_line_target(line_px: float = LINE_PX) -> float:
    """Tight line-box height (px) that gives the glyphs of a ``line_px`` line crop."""
    return glyph_target(line_px) * TIGHT_TO_GLYPH


def table_line_px(line_px: float = LINE_PX) -> float:
    """Tight row height of table crops for a model reading ``line_px`` lines: the text's
    own scale, capped at TABLE_LINE_PX."""
    return min(TABLE_LINE_PX, tight_line_target(line_px))


def table_scale_target(line_px: float = LINE_PX) -> float:
    """``normalize_text_scale`` target for table crops (rows at ``table_line_px``, tight)."""
    return table_line_px(line_px) / TIGHT_TO_GLYPH * COMPONENT_TO_LINE


def normalize_text_scale(gray: np.ndarray, target: float = LINE_PX,
                         line_height: float | None = None, max_factor: float = 6.0
                         ) -> np.ndarray:
    """Resize ``gray`` so its text lines are about ``target`` pixels tall."""
    lh = line_height or estimate_line_height(gray)
    if not lh:
        return gray
    f = min(max_factor, max(1 / max_factor, target / lh))
    h, w = gray.shape[:2]
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=interp)


# Scales a line crop is read at by the reading head (``fit_line`` jitter: relative to the
# trained glyph height): the first two first, the rest only where those two disagree; the
# readings are combined character by character (``passes.consensus``). On 200 lines in the
# training split's fonts (dev seeds, not the held-out ones), stage-3 weights: CTC CER 0.069 ->
# 0.037 clean and 0.097 -> 0.056 degraded, for about 3x the reading time.
READ_SCALES = (1.0, 1.1, 0.9, 1.25, 0.8)
# Widths each of those scales is read at as well (``model_line`` widen, on top of the
# model's own ``tiling.line_widen``): the line as the model was trained on it, and drawn
# a quarter wider. Real print is often more condensed than the training fonts, and
# the reading head drops letters from narrow text; the wider view's readings join the others
# in the consensus. Chosen on synthetic lines (200 each; stage-10 weights, int8): held-out
# clean 0.0008 -> 0.0011, degraded 0.0063 -> 0.0061, training-split receipt lines (dev
# seeds) 0.132 -> 0.128, for 1.9x the reading time. Real sets: docs/MODEL.md.
READ_WIDTHS = (1.0, 1.25)


def model_line(gray: np.ndarray, tiling, *, glyph: float | None = None, jitter: float = 1.0,
               widen: float = 1.0) -> np.ndarray:
    """One text line as a model with ``tiling`` (its :class:`TilingConfig`) reads it:
    :func:`fit_line` at its ``line_px``, drawn ``tiling.line_widen`` times wider (and
    ``widen`` on top of that)."""
    return fit_line(gray, tiling.line_px, glyph=glyph, jitter=jitter,
                    widen=widen * tiling.line_widen)


CURVE_MIN = 0.3  # a line whose ink centre drifts less (glyph heights) is left as it is


def straighten_line(gray: np.ndarray, glyph: float | None = None) -> np.ndarray:
    """A curved or slanted line (a photographed page that bends, a skewed scan) with its
    ink shifted up or down column by column so the line runs level, as training lines do.

    The ink's centre row is measured in windows two glyphs wide (ink-weighted mean row),
    and a line (a parabola with eight windows or more) is fitted to those centres, each
    weighted by its ink. Lines whose fitted centre moves less than ``CURVE_MIN`` glyph
    heights end to end, or that the fit does not explain (residuals more than a third of
    the drift: mixed sizes, a line of dots), come back unchanged."""
    g = glyph or median_glyph_height(gray)
    h, w = gray.shape[:2]
    if not g or w < 8 * g or gray.ndim != 2:
        return gray
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    step = max(4, int(2 * g))
    rows = np.arange(h, dtype=np.float64)[:, None]
    xs, ys, ws = [], [], []
    for x in range(0, w - step // 2, step):
        win = ink[:, x : x + step].astype(np.float64)
        n = win.sum()
        if n >= g:  # a few pixels of ink are noise, not a glyph
            xs.append(x + win.shape[1] / 2)
            ys.append(float((win * rows).sum() / n))
            ws.append(n)
    if len(xs) < 4:
        return gray
    xs_a, ys_a, ws_a = np.array(xs), np.array(ys), np.sqrt(np.array(ws))
    coef = np.polyfit(xs_a, ys_a, 2 if len(xs) >= 8 else 1, w=ws_a)
    fit = np.polyval(coef, np.arange(w, dtype=np.float64))
    drift = float(fit.max() - fit.min())
    at = np.polyval(coef, xs_a)
    resid = float(np.sqrt(np.average((at - ys_a) ** 2, weights=ws_a)))
    if drift < CURVE_MIN * g or resid > drift / 3:
        return gray
    shift = (fit - np.average(at, weights=ws_a)).astype(np.float32)
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    map_y = np.arange(h, dtype=np.float32)[:, None] + shift[None, :]
    paper = int(np.percentile(gray, 90))
    return cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=paper)


def fit_line(gray: np.ndarray, line_px: int, *, glyph: float | None = None,
             jitter: float = 1.0, widen: float = 1.0, unit_w: int = 32,
             max_factor: float = 6.0) -> np.ndarray:
    """One text line as the model reads it, in training and at inference alike: scaled so
    its median glyph is ``glyph_target(line_px)`` tall (``glyph``: the measured median
    glyph height in ``gray``, estimated when not given), then cut or padded with paper to a
    band exactly ``line_px`` tall centred on its ink, and padded on the right to a multiple
    of ``unit_w`` (so the view needs no further resizing); ``widen``: the width scaled that
    much more than the height. Faint ink is darkened first (:func:`stretch_contrast`)."""
    gray = stretch_contrast(gray)
    g = glyph or median_glyph_height(gray)
    level = straighten_line(gray, g)
    if level is not gray:  # measured again on the levelled line (most lines are not moved)
        gray, g = level, glyph or median_glyph_height(level)
    h, w = gray.shape[:2]
    f = (glyph_target(line_px) * jitter / g) if g else line_px / max(1, h)
    f = min(max_factor, max(1 / max_factor, f))
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    img = cv2.resize(gray, (max(1, round(w * f * widen)), max(1, round(h * f))),
                     interpolation=interp)
    paper = int(np.percentile(img, 90))
    rows = np.nonzero((img < paper - 40).any(axis=1))[0]
    centre = (rows[0] + rows[-1] + 1) / 2 if len(rows) else img.shape[0] / 2
    top = int(round(centre - line_px / 2))
    out = np.full((line_px, max(unit_w, -(-img.shape[1] // unit_w) * unit_w)), paper, np.uint8)
    src0, src1 = max(0, top), min(img.shape[0], top + line_px)
    if src1 > src0:
        out[src0 - top : src1 - top, : img.shape[1]] = img[src0:src1]
    return out
