"""Lines printed in real bitmap fonts (training split only): the glyphs a till printer, a
terminal or a fax draws dot by dot, which no outline font gives. Thermal receipt printers
print fixed-cell fonts of 5x7 to 12x24 dots (Epson's ESC/POS Font A is 12x24, Font B 9x17:
Epson, *ESC/POS Command Reference*, "Character font"); their ``M`` looks like an ``H`` with a
notch, their ``0`` and ``O`` differ by a dot, their strokes are one or two dots wide.

The fonts are the X11 misc-fixed and Schumacher Clean bitmap fonts (Debian's ``xfonts-base``,
PCF, read with Pillow) and Terminus (``fonts-terminus-otb``, bitmap strikes of 12-32 px), which
``scripts/setup.sh`` installs. A font whose file is missing is left out; with none installed,
:func:`render_pixel_line` returns None and the caller draws an outline font instead.

A line is drawn at one pixel per dot, sometimes double width (receipt headings), emboldened
by one dot (a printer's emphasised mode) or with spacing between the cells, then enlarged
to the scan's resolution as square pixels, round dots (thermal or dot-matrix heads, from
thin dots with gaps to dots that run together) or a smooth resample."""

from __future__ import annotations

import gzip
import os
import random
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, PcfFontFile

MISC = "/usr/share/fonts/X11/misc/"
TERMINUS = "/usr/share/fonts/opentype/terminus/"

# X11 misc-fixed and Schumacher Clean faces that draw ASCII correctly (12x24 and 8x16 here
# are other encodings and draw other glyphs, 7x14B draws 0 and O alike: left out)
PCF_FONTS = ("5x7 5x8 6x9 6x10 6x12 6x13 6x13B 7x13 7x13B 7x14 8x13 8x13B 9x15 9x15B "
             "9x18 9x18B 10x20 clR5x10 clR6x12 clR7x14 clB8x14 clR8x16").split()
TERMINUS_FACES = ("terminus-normal.otb", "terminus-bold.otb")
TERMINUS_SIZES = (12, 14, 16, 18, 20, 22, 24, 28, 32)


PCF_INSTALLED = [n for n in PCF_FONTS if os.path.exists(f"{MISC}{n}.pcf.gz")]
TERMINUS_INSTALLED = [f"{f}:{s}" for f in TERMINUS_FACES if os.path.exists(TERMINUS + f)
                      for s in TERMINUS_SIZES]
PIXEL_FONTS = PCF_INSTALLED + TERMINUS_INSTALLED


def pick(r: random.Random) -> str | None:
    """A bitmap font: X11's faces 60 % of the time, Terminus's (one face in nine sizes)
    40 %; None when none is installed."""
    groups = [g for g in (PCF_INSTALLED, TERMINUS_INSTALLED) if g]
    if not groups:
        return None
    g = groups[0] if len(groups) == 1 or r.random() < 0.6 else groups[1]
    return r.choice(g)


@lru_cache(maxsize=64)
def load(name: str) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """A bitmap font by its name in :data:`PIXEL_FONTS`."""
    if ":" in name:
        face, size = name.split(":")
        return ImageFont.truetype(TERMINUS + face, int(size))
    with gzip.open(f"{MISC}{name}.pcf.gz") as fh:
        return PcfFontFile.PcfFontFile(fh).to_imagefont()


def dots(text: str, name: str, r: random.Random) -> np.ndarray | None:
    """``text`` drawn in the bitmap font ``name`` at one pixel per dot: a bool array, True
    where a dot prints; None when the font cannot draw a character of ``text`` (the
    misc-fixed fonts read here hold Latin-1 only)."""
    f = load(name)
    pcf = ":" not in name
    if pcf and any(ord(c) > 255 for c in text):
        return None

    def width(s: str) -> int:  # a PCF font's bitmap box, Terminus's advance
        return f.getbbox(s)[2] if pcf else round(f.getlength(s))

    h = f.getbbox(text)[3] if pcf else sum(f.getmetrics())
    w = width(text)
    spacing = r.choice((0, 0, 0, 1, 1, 2)) if r.random() < 0.2 else 0
    if spacing:  # cells apart: one character at a time
        adv = [width(c) for c in text]
        w = sum(adv) + spacing * max(0, len(text) - 1)
    im = Image.new("L", (max(1, w) + 2, h + 2), 255)
    d = ImageDraw.Draw(im)
    if spacing:
        x = 1
        for c, a in zip(text, adv):
            d.text((x, 1), c, font=f, fill=0)
            x += a + spacing
    else:
        d.text((1, 1), text, font=f, fill=0)
    on = np.asarray(im) < 128
    if len(text) <= 24 and r.random() < 0.06:  # double width, as receipts print headings
        on = np.repeat(on, 2, axis=1)
    if r.random() < 0.12:  # emphasised: every dot printed twice, one dot apart
        on = on | np.roll(on, 1, axis=1)
    return on


def enlarge(on: np.ndarray, scale: float, r: random.Random) -> np.ndarray:
    """The dots at ``scale`` pixels each, as a uint8 gray image: square pixels, round dots
    of 0.35-0.75 of the pitch in radius (thin dots with gaps to dots that run together), or a
    smooth resample."""
    h, w = on.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    x = r.random()
    if 0.35 <= x < 0.8:
        p = max(4, round(scale * 2))  # supersampled pitch
        rad = r.uniform(0.35, 0.75) * p
        k = int(np.ceil(rad * 2)) | 1
        yy, xx = np.mgrid[0:k, 0:k] - k // 2
        disk = (yy ** 2 + xx ** 2 <= rad ** 2).astype(np.uint8)
        ink = _centres(on, p, disk)
        sup = (255 * (1 - np.clip(ink, 0, 1))).astype(np.uint8)
        return cv2.resize(sup, size, interpolation=cv2.INTER_AREA)
    img = np.where(on, 0, 255).astype(np.uint8)
    return cv2.resize(img, size, interpolation=cv2.INTER_NEAREST if x < 0.35 else
                      cv2.INTER_LINEAR)


def _centres(on: np.ndarray, p: int, disk: np.ndarray) -> np.ndarray:
    """Round dots of ``disk``'s size stamped at the centre of every printed cell of pitch
    ``p`` (a dilation of the cells' centres: the dots overlap their neighbours)."""
    centres = np.zeros((on.shape[0] * p, on.shape[1] * p), np.uint8)
    centres[p // 2::p, p // 2::p] = on
    return cv2.dilate(centres, disk).astype(np.float32)


def render_pixel_line(r: random.Random, text: str, line_px: float) -> tuple[np.ndarray, str] | None:
    """``text`` printed in a random bitmap font and enlarged so that a font's cell is about
    ``line_px`` pixels tall, with a margin; the image and the font's name, or None when no
    bitmap font is installed or the chosen one cannot draw ``text``."""
    name = pick(r)
    if name is None:
        return None
    on = dots(text, name, r)
    if on is None or not on.any():
        return None
    img = enlarge(on, max(1.0, line_px / on.shape[0]), r)
    pad = [round(r.uniform(0, 0.25) * img.shape[0]) for _ in range(2)]
    padx = round(r.uniform(0.5, 4))
    img = cv2.copyMakeBorder(img, pad[0], pad[1], padx, padx, cv2.BORDER_CONSTANT, value=255)
    return img, f"pixel:{name}"
