"""Scan preprocessing with OpenCV: illumination, orientation, deskew, contrast, denoise.

Each step reports what it found and whether it changed the image; born-digital pages skip
all of it (their geometry must stay aligned with the text layer). No OCR engine is used:

- illumination: light that falls off across the sheet (a lamp to one side) is divided
  out first, since every later step thresholds the page (:func:`flatten_illumination`);
- orientation (0/90/180/270): a letter's nearest neighbour is the next letter of its word,
  beside it (the docstrum's nearest-neighbour directions, O'Gorman 1993), which separates
  0/180 from 90/270 (on pages with too few letters, text lines make the projection profile
  across them spiky and the one along them flat); Latin script has more ink above
  its x-height band (ascenders, capitals) than below it (descenders), which separates 0 from
  180. Pages where that asymmetry is weak (all caps, digits) are left as they are. With a
  reader (``preprocess_scan(line_scores=...)``, the pipeline passes the model's reading
  head), 0 and 180 are told by reading instead: four of the page's lines (twelve when
  those disagree) are read as they stand and turned half round, and each line votes for
  the way it reads with more confidence. A till receipt in capitals and digits has no
  ascender asymmetry to measure (the geometric test turned 12 of the first 50 SROIE
  receipts, upright, upside down); upside-down text is no text the reader knows.
- skew (within +-10 degrees): the angle that makes the row profile of ink pixels sharpest
  (Postl's projection-profile method), searched coarse then fine on ink coordinates; undone
  when it is 0.2 degrees or more and moves a line's ends 1.5 pixels or more apart;
- upscale: on small images (a page image at screen resolution, a table cut from a journal
  page), text smaller than SMALL_GLYPH pixels is enlarged, cubic, to about UPSCALE_TO
  pixels before denoising (whose median would erase it) and segmentation (whose cell and
  line margins of a few pixels would cut it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from schemas import PreprocessStep

log = logging.getLogger(__name__)


@dataclass
class PreprocessResult:
    image: np.ndarray
    rotation: int = 0  # clockwise degrees applied to make the page upright
    skew: float = 0.0  # degrees counter-clockwise found (and undone when applied)
    scale: float = 1.0  # the image was enlarged by this (small text)
    steps: list[PreprocessStep] = field(default_factory=list)


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _ink_mask(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Binary ink mask (bool) of a downscaled copy, and the scale used."""
    h, w = gray.shape
    s = min(1.0, max_side / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * s)), max(1, int(h * s))),
                       interpolation=cv2.INTER_AREA) if s < 1 else gray
    _, bw = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if bw.mean() > 127:  # Otsu on a blank page picks noise; ink is the minority class
        bw = 255 - bw
    return bw > 0, s


def _profile_score(coords: np.ndarray, n_bins: int) -> float:
    hist = np.bincount(np.clip(coords, 0, n_bins - 1).astype(np.int64), minlength=n_bins)
    return float(np.dot(hist, hist))


def estimate_skew(gray: np.ndarray, max_angle: float = 10.0) -> float:
    """Counter-clockwise angle (degrees) of the text lines; undo with :func:`rotate_small`."""
    ink, _ = _ink_mask(_gray(gray), 1600)
    ys, xs = np.nonzero(ink)
    if len(ys) < 50:
        return 0.0
    if len(ys) > 200_000:
        idx = np.random.default_rng(0).choice(len(ys), 200_000, replace=False)
        ys, xs = ys[idx], xs[idx]
    h, w = ink.shape
    cx, cy = w / 2.0, h / 2.0
    xs_c, ys_c = xs - cx, ys - cy
    left = xs < cx

    def score(a: float, halves: bool = False) -> float:
        t = np.deg2rad(a)
        # y coordinate after rotating the content clockwise by a (image y points down)
        y = np.round(xs_c * np.sin(t) + ys_c * np.cos(t) + cy + h).astype(np.int64)
        if halves:  # each half of the page on its own
            return _profile_score(y[left], 3 * h) + _profile_score(y[~left], 3 * h)
        return _profile_score(y, 3 * h)

    # Coarse: the left and right halves scored apart. On a two-column page whose columns'
    # rows are out of step, the whole-page profile can be sharpest at a false angle that
    # lines one column's rows up with the other's (0.8 degrees on a straight synthetic
    # report); within a half, only the true angle sharpens the rows. Fine: the whole page,
    # within half a degree of that, for the longer lever arm.
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    best = max(coarse, key=lambda a: score(a, halves=True))
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    return float(round(max(fine, key=lambda a: score(a) + score(a, halves=True)), 2))


def rotate_small(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate clockwise by ``angle`` degrees about the centre, same canvas, white fill."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -angle, 1.0)
    fill = (255, 255, 255) if image.ndim == 3 else 255
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def rotate_quarter(image: np.ndarray, clockwise: int) -> np.ndarray:
    """Rotate by a multiple of 90 degrees clockwise (exact, no resampling)."""
    k = (clockwise // 90) % 4
    return np.ascontiguousarray(np.rot90(image, -k)) if k else image


def _lines_asymmetry(ink: np.ndarray, strip: int = 48) -> tuple[float, int]:
    """(ink above the x-height band - ink below) / (both), over text lines of a mask whose
    lines are horizontal; positive means upright. Also the number of line pieces used.

    Measured in narrow vertical strips: a residual skew of 0.1 degree shifts a line by
    ~2 px across a page, as much as the ascender zone is tall, but not within a strip."""
    above = below = 0.0
    n = 0
    for x in range(0, ink.shape[1], strip):
        rows = ink[:, x : x + strip].sum(axis=1).astype(np.float64)
        on = rows > 0
        r = 0
        while r < len(on):
            if not on[r]:
                r += 1
                continue
            start = r
            while r < len(on) and on[r]:
                r += 1
            prof = rows[start:r]
            if len(prof) < 6 or prof.sum() < 2 * strip:
                continue
            core = np.nonzero(prof >= 0.3 * prof.max())[0]
            above += prof[: core[0]].sum()
            below += prof[core[-1] + 1 :].sum()
            n += 1
    total = above + below
    return ((above - below) / total if total > 0 else 0.0), n


def _spikiness(p: np.ndarray) -> float:
    p = p.astype(np.float64)
    return float(p.std() / (p.mean() + 1e-9))


def _neighbour_directions(ink: np.ndarray, max_glyphs: int = 3000) -> tuple[int, int]:
    """How many character-sized components have their nearest neighbour beside them, and
    how many above or below (within 26.6 degrees of the axis): the nearest-neighbour
    directions of the docstrum (O'Gorman 1993). Letters sit closer to the next letter of
    their word than to the line above, whatever the font; monospaced receipts, whose
    letters line up in columns too, included."""
    _, _, st, cen = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    size = np.maximum(st[1:, cv2.CC_STAT_HEIGHT], st[1:, cv2.CC_STAT_WIDTH])
    ok = (size >= 4) & (size < 60)
    if ok.sum() < 20:
        return 0, 0
    g = float(np.median(size[ok]))
    c = cen[1:][ok & (size >= 0.5 * g) & (size <= 2 * g)]
    if len(c) > max_glyphs:
        c = c[np.random.default_rng(0).choice(len(c), max_glyphs, replace=False)]
    beside = above = 0
    for s in range(0, len(c), 500):
        d = c[s : s + 500, None, :] - c[None, :, :]
        dist = (d**2).sum(-1)
        dist[np.arange(len(dist)), np.arange(s, s + len(dist))] = np.inf
        v = np.abs(d[np.arange(len(dist)), dist.argmin(1)])
        beside += int((v[:, 0] > 2 * v[:, 1]).sum())
        above += int((v[:, 1] > 2 * v[:, 0]).sum())
    return beside, above


def lines_are_horizontal(gray: np.ndarray) -> bool:
    """True when the text lines run left-right (page at 0 or 180), False for 90/270: the
    letters' nearest neighbours lie beside them, unless clearly more lie above or below
    (a quarter-turned page). With too few letters to tell, the profile across the lines
    spikier than the one along them."""
    ink, _ = _ink_mask(_gray(gray), 1600)
    beside, above = _neighbour_directions(ink)
    if beside + above >= 20:
        return above <= 1.25 * beside
    ys, xs = np.nonzero(ink)
    if len(ys) < 200:
        return True
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return _spikiness(crop.sum(axis=1)) >= _spikiness(crop.sum(axis=0))


def upside_down(gray: np.ndarray) -> tuple[bool, float]:
    """For a page with horizontal, deskewed lines: is it upside down, and how confidently."""
    g = _gray(gray)
    # A threshold halfway between ink and paper keeps stroke cores only: Otsu on antialiased
    # (or resampled) text lets halos bleed into the ascender and descender zones.
    ink_level, paper = np.percentile(g, [1, 50])
    asym, n_lines = _lines_asymmetry(g < (ink_level + paper) / 2)
    conf = min(1.0, abs(asym) * 4) * min(1.0, n_lines / 20)
    return asym < 0, conf


LineScores = Callable[[list[np.ndarray]], list[float]]
ORIENTATION_LINES = 12  # lines read both ways to tell 0 from 180
ORIENTATION_VOTE = 0.6  # share of the voting lines that must read better one way


def upside_down_by_reading(gray: np.ndarray, line_scores: LineScores,
                           max_lines: int = ORIENTATION_LINES) -> tuple[bool, float, str] | None:
    """For a page with horizontal, deskewed lines: is it upside down, told by reading.

    Text lines of the page's usual height, longest first (at most ``max_lines``, each cut
    to its first 12 line heights), are scored by ``line_scores`` (higher: read with more
    confidence; the pipeline gives the reading head's mean log-probability of its best
    path) as they stand and turned 180 degrees; each line votes for the way it scores
    higher. Four lines are read first, the rest only when those four do not all agree.
    Returns (flipped, share of the votes, detail), or None when fewer than three lines
    voted or the vote is closer than ``ORIENTATION_VOTE``: the caller falls back on
    :func:`upside_down`."""
    from docvlm import segment

    g = _gray(gray)
    rects = [r for r in segment.text_lines(g) if r[2] - r[0] >= 3 * (r[3] - r[1])]
    if len(rects) < 3:
        return None
    h_med = float(np.median([r[3] - r[1] for r in rects]))
    rects = [r for r in rects if 0.6 * h_med <= r[3] - r[1] <= 1.6 * h_med]
    rects = sorted(rects, key=lambda r: r[2] - r[0], reverse=True)[:max_lines]
    crops = []
    for x0, y0, x1, y1 in rects:
        r = (x0, y0, min(x1, x0 + 12 * (y1 - y0)), y1)
        crops.append(segment.clean_line_crop(g, segment.pad_rect(r, g.shape), r))
    up: list[float] = []
    down: list[float] = []
    for part in (crops[:4], crops[4:]):
        if not part:
            break
        scores = line_scores(part + [np.ascontiguousarray(c[::-1, ::-1]) for c in part])
        up += scores[: len(part)]
        down += scores[len(part) :]
        if all(u > d for u, d in zip(up, down)) or all(d > u for u, d in zip(up, down)):
            break  # unanimous: settled
    n_up = sum(u > d for u, d in zip(up, down))
    n_down = sum(d > u for u, d in zip(up, down))
    share = max(n_up, n_down) / max(1, n_up + n_down)
    detail = f"read: {n_up} of {len(up)} lines read better upright, {n_down} turned"
    if n_up + n_down < 3 or share < ORIENTATION_VOTE:
        return None
    return n_down > n_up, share, detail


def detect_orientation(gray: np.ndarray) -> tuple[int, float]:
    """Clockwise rotation (0/90/180/270) that makes the page upright, and a confidence.
    (Assumes little skew; :func:`preprocess_scan` deskews between the two decisions.)"""
    base = 0 if lines_are_horizontal(gray) else 90
    flipped, conf = upside_down(rotate_quarter(gray, base))
    return (base + (180 if flipped else 0)) % 360, conf


MAX_CONTRAST_GAIN = 6.0  # at most: more lifts a faint page's paper grain into ink


def _off_page(gray: np.ndarray) -> np.ndarray | None:
    """Dark ink joined to the image's edge (a scanner's black frame, the table under a
    photographed receipt) as a boolean mask, or None when there is none."""
    t = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[0]
    dark = (gray <= min(t, 128)).astype(np.uint8)
    _, labels = cv2.connectedComponents(dark, connectivity=8)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    return np.isin(labels, edge) if len(edge) else None


# Paper lit unevenly (a lamp to one side, a photographed page's fall-off): the paper's
# level is fitted as a smooth surface and divided out before anything thresholds the page.
# Held-out pages darkened towards one corner to 40-60 % of their light (synthetic
# ``uneven_light``, strength 0.6): Otsu took the dark part for ink, deskew turned the page
# 10.5 degrees by its edge, and half of such pages lost every line.
LIGHT_CELLS = 16  # the page's paper level is measured in this many cells along its long side
LIGHT_STEP = 0.85  # neighbouring cells of one lit sheet differ less than this ratio
LIGHT_MIN_FALL = 0.15  # fitted paper level falling less than this (of its top): left alone
LIGHT_MIN_PAPER = 0.5  # share of the page that must be that one sheet of paper


def _lit_sheet(level: np.ndarray) -> np.ndarray:
    """Cells (boolean grid) of the sheet of paper the brightest cell lies on: reached from it
    through neighbours whose paper levels differ by less than ``LIGHT_STEP`` (light falls
    off gradually; a dark box, a photo or the table around a receipt begins at an edge)."""
    seen = np.zeros(level.shape, bool)
    start = np.unravel_index(int(np.argmax(level)), level.shape)
    seen[start] = True
    todo = [start]
    while todo:
        i, j = todo.pop()
        for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
            if 0 <= a < level.shape[0] and 0 <= b < level.shape[1] and not seen[a, b]:
                lo, hi = sorted((level[a, b], level[i, j]))
                if lo >= LIGHT_STEP * hi:
                    seen[a, b] = True
                    todo.append((a, b))
    return seen


def _quadratic_terms(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def flatten_illumination(image: np.ndarray) -> tuple[np.ndarray, bool, str]:
    """Divide out uneven light. The paper's level is measured cell by cell (the 90th
    percentile: print covers far less of a cell), the cells of one sheet of paper are
    found (:func:`_lit_sheet`), a quadratic surface is fitted to their levels, and the page
    is scaled so that surface becomes its top level (at most 4x). Pages whose fitted paper
    falls by less than ``LIGHT_MIN_FALL``, or where one sheet is less than
    ``LIGHT_MIN_PAPER`` of the image (a dark page, a photo), are returned unchanged."""
    gray = _gray(image)
    h, w = gray.shape[:2]
    c = max(1, -(-max(h, w) // LIGHT_CELLS))  # cell side in pixels
    gh, gw = -(-h // c), -(-w // c)
    if min(gh, gw) < 3:
        return image, False, "too narrow to measure the light"
    pad = np.pad(gray, ((0, gh * c - h), (0, gw * c - w)), mode="edge")
    step = max(1, c // 24)  # a sample of each cell's pixels is plenty for a percentile
    cells = pad.reshape(gh, c, gw, c)[:, ::step, :, ::step]
    level = np.percentile(cells, 90, axis=(1, 3)).astype(np.float64)
    sheet = _lit_sheet(level)
    share = float(sheet.mean())
    yy, xx = np.mgrid[0:gh, 0:gw]
    cx, cy = (xx + 0.5) * c / w - 0.5, (yy + 0.5) * c / h - 0.5
    terms = _quadratic_terms(cx[sheet], cy[sheet])
    coef, *_ = np.linalg.lstsq(terms, level[sheet], rcond=None)
    fit = terms @ coef
    top = float(fit.max())
    fall = (top - float(fit.min())) / max(top, 1.0)
    if share < LIGHT_MIN_PAPER or top < 64 or fall < LIGHT_MIN_FALL:
        return image, False, f"paper falls {fall:.0%} over {share:.0%} of the image"
    sh, sw = max(2, h // 8), max(2, w // 8)  # smooth: computed small, then enlarged
    ys, xs = np.mgrid[0:sh, 0:sw]
    surface = _quadratic_terms((xs + 0.5) / sw - 0.5, (ys + 0.5) / sh - 0.5) @ coef
    surface = np.clip(surface, 0.25 * top, top).astype(np.float32)
    gain = top / cv2.resize(surface, (w, h), interpolation=cv2.INTER_LINEAR)
    if image.ndim == 3:
        gain = gain[..., None]
    out = np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return out, True, f"paper fell {fall:.0%} across the page; levelled to {top:.0f}"


def normalize_contrast(gray: np.ndarray) -> tuple[np.ndarray, bool, str]:
    """Stretch the 0.5th..99.5th percentile to the full range when the page is washed out,
    at most ``MAX_CONTRAST_GAIN`` times (the paper stays white); the percentiles of the page
    itself, without dark areas joined to the image's edge (a scan's thin black frame made a
    faint receipt, ink 30 levels below its paper, look like a page of full contrast: no
    line was found on it). The gain was chosen on synthetic faint receipts (ink 25-32
    levels below the paper, grain sigma 3-4): 2.5x and 4x left lines unfound, 8x and more
    turned the grain into lines."""
    off = _off_page(gray)
    page = gray if off is None or off.mean() > 0.5 else gray[~off]
    lo, hi = np.percentile(page, [0.5, 99.5])
    if hi - lo >= 200 or hi - lo < 10:
        return gray, False, f"range {lo:.0f}..{hi:.0f}"
    gain = min(255.0 / (hi - lo), MAX_CONTRAST_GAIN)
    lut = np.clip(255 - (hi - np.arange(256)) * gain, 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut), True, (f"stretched {lo:.0f}..{hi:.0f} to "
                                      f"{max(0, 255 - (hi - lo) * gain):.0f}..255")


def denoise(gray: np.ndarray, threshold: float = 6.0) -> tuple[np.ndarray, bool, str]:
    """3x3 median filter when the background is noisy (salt-and-pepper, scanner grain)."""
    med = cv2.medianBlur(gray, 3)
    # thin straight rules (form lines, table grids) are not noise, and a median would erase
    # them: find them (long runs of dark pixels) and leave them out of both
    dark = (gray < 128).astype(np.uint8)
    rules = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, 25), np.uint8)) | \
        cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((25, 1), np.uint8))
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8)).astype(bool)
    # background = far from any real stroke (the median drops isolated specks, the erosion
    # keeps a margin around strokes), so text edges do not count as noise
    bg = (cv2.erode(med, np.ones((5, 5), np.uint8)) > 200) & ~rules
    noise = float(np.abs(gray.astype(np.int16) - med)[bg].std()) if bg.any() else 0.0
    if noise <= threshold:
        return gray, False, f"noise {noise:.1f}"
    return np.where(rules, gray, med), True, f"noise {noise:.1f}, median 3x3"


SMALL_GLYPH = 9.0  # median glyph height (px) under which a page is enlarged
UPSCALE_TO = 14.0  # median glyph height (px) it is enlarged to (at most MAX_UPSCALE times)
MAX_UPSCALE = 3.0
MAX_UPSCALED_PIXELS = 12_000_000  # an enlarged page stays under this many pixels
MAX_SIDE_TO_UPSCALE = 1600  # px: larger images are pages rendered at a real DPI (their small
# "glyphs" are a photo's texture or a faint receipt's specks more often than small text)


def upscale_small_text(gray: np.ndarray) -> tuple[np.ndarray, float, str]:
    """The page enlarged (cubic) when its median glyph is under SMALL_GLYPH pixels and it is
    a small image (a screenshot, a crop: MAX_SIDE_TO_UPSCALE px at most); returns the image,
    the factor and what was measured."""
    from docvlm import segment

    if max(gray.shape[:2]) > MAX_SIDE_TO_UPSCALE:
        return gray, 1.0, f"{max(gray.shape[:2])} px: too large a page to enlarge"
    _, _, stats = segment._components(segment.ink_mask(gray))
    g = segment.glyph_height(stats)
    if g is None or g >= SMALL_GLYPH:
        return gray, 1.0, f"glyph {g:.0f} px" if g else "no text"
    f = min(MAX_UPSCALE, UPSCALE_TO / g,
            (MAX_UPSCALED_PIXELS / max(1, gray.shape[0] * gray.shape[1])) ** 0.5)
    if f < 1.2:
        return gray, 1.0, f"glyph {g:.0f} px, too large a page to enlarge"
    out = cv2.resize(gray, (round(gray.shape[1] * f), round(gray.shape[0] * f)),
                     interpolation=cv2.INTER_CUBIC)
    return out, f, f"glyph {g:.0f} px, enlarged x{f:.2f}"


def preprocess_scan(
    image: np.ndarray,
    *,
    orientation: bool = True,
    deskew: bool = True,
    contrast: bool = True,
    clean: bool = True,
    upscale: bool = True,
    light: bool = True,
    min_orientation_confidence: float = 0.3,
    line_scores: LineScores | None = None,
) -> PreprocessResult:
    """Run the enabled steps on a scanned page (gray or RGB) and report each one.
    ``line_scores``: a reader's confidence in each of a list of line crops; given, it tells
    0 from 180 (:func:`upside_down_by_reading`), the ascender asymmetry where it cannot."""
    res = PreprocessResult(image=image)
    if light:  # first: orientation, skew and contrast all threshold the page
        image, done, detail = flatten_illumination(image)
        res.image = image
        res.steps.append(PreprocessStep(name="illumination", applied=done, detail=detail))
    # Order: make lines horizontal (0 vs 90), deskew, then decide up vs down on straight
    # lines, where the ascender/descender asymmetry is measurable.
    quarter = 0 if not orientation or lines_are_horizontal(image) else 90
    work = rotate_quarter(image, quarter)
    angle = estimate_skew(work) if deskew else 0.0
    drift = abs(np.tan(np.radians(angle))) * work.shape[1]  # px across the page
    if deskew and abs(angle) >= 0.2 and drift >= 1.5:
        work = rotate_small(work, angle)
        res.skew = angle
    if orientation:
        # Judged on the page stretched as it will be read: on a faint receipt (ink 55 levels
        # below the paper) the lines found unstretched were too few and too broken to vote.
        probe = normalize_contrast(_gray(work))[0]
        read = upside_down_by_reading(probe, line_scores) if line_scores else None
        if read is not None:
            flipped, conf, detail = read
        else:
            flipped, conf = upside_down(probe)
            flipped = flipped and conf >= min_orientation_confidence  # unsure: keep as is
            detail = f"up/down confidence {conf:.2f}"
        res.rotation = (quarter + (180 if flipped else 0)) % 360
        res.image = rotate_quarter(work, 180) if flipped else work
        res.steps.append(PreprocessStep(
            name="orientation", applied=res.rotation != 0, angle=float(res.rotation),
            detail=detail))
    else:
        res.image = work
    if deskew:
        res.steps.append(PreprocessStep(name="deskew", applied=bool(res.skew), angle=angle))
    if res.image.ndim == 2:
        if upscale:  # first: a 3x3 median would take strokes of a 5-pixel glyph for noise
            res.image, res.scale, detail = upscale_small_text(res.image)
            res.steps.append(PreprocessStep(name="upscale", applied=res.scale != 1.0,
                                            detail=detail))
        if contrast:
            res.image, done, detail = normalize_contrast(res.image)
            res.steps.append(PreprocessStep(name="contrast", applied=done, detail=detail))
        if clean:
            res.image, done, detail = denoise(res.image)
            res.steps.append(PreprocessStep(name="denoise", applied=done, detail=detail))
    return res
