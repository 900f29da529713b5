"""Fonts for synthetic documents: PDF base-14, the pymupdf-fonts package (installed with
docvlm, never downloaded at run time) and, for training only, the system's free font
packages that ``scripts/setup.sh`` installs (DejaVu, Liberation, GNU FreeFont, URW base35,
Roboto, Open Sans, Lato, Carlito, Caladea, Cantarell, Oxygen, Inconsolata, Hack, Noto Mono,
Anonymous Pro: condensed, narrow, monospaced and book faces, with italics). Two families
are held out of training; a system family whose files are missing is left out (its absence
changes which lines are drawn, never what is held out)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from functools import lru_cache

import pymupdf


@dataclass(frozen=True)
class Family:
    name: str
    regular: str
    bold: str
    mono: bool = False
    italic: str | None = None  # None: the family has no italic face here

    def available(self) -> bool:
        return all(os.path.exists(c) for c in (self.regular, self.bold, self.italic)
                   if c and "/" in c)


FAMILIES = [
    Family("helvetica", "helv", "hebo"),
    Family("times", "tiro", "tibo"),
    Family("courier", "cour", "cobo", mono=True),
    Family("fira-go", "figo", "figbo"),
    Family("fira-mono", "fimo", "fimbo", mono=True),
    Family("noto-sans", "notos", "notosbo"),
    Family("ubuntu-mono", "ubuntm", "ubuntmbo", mono=True),
    Family("cascadia", "cascadia", "cascadiab", mono=True),
    # held out: never used for training, only for the held-out split
    Family("ubuntu", "ubuntu", "ubuntubo"),
    Family("space-mono", "spacemo", "spacembo", mono=True),
]
HELD_OUT_FAMILIES = {"ubuntu", "space-mono"}


def _system(name: str, folder: str, regular: str, bold: str, italic: str | None = None,
            mono: bool = False) -> Family:
    d = f"/usr/share/fonts/{folder}/"
    return Family(name, d + regular, d + bold, mono, d + italic if italic else None)


# training only (Debian packages fonts-dejavu-core/-extra, fonts-liberation,
# fonts-freefont-ttf, fonts-urw-base35)
SYSTEM_FAMILIES = [
    _system("dejavu-sans", "truetype/dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
            "DejaVuSans-Oblique.ttf"),
    _system("dejavu-condensed", "truetype/dejavu", "DejaVuSansCondensed.ttf",
            "DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed-Oblique.ttf"),
    _system("dejavu-serif", "truetype/dejavu", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
            "DejaVuSerif-Italic.ttf"),
    _system("dejavu-mono", "truetype/dejavu", "DejaVuSansMono.ttf",
            "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", mono=True),
    _system("liberation-sans", "truetype/liberation", "LiberationSans-Regular.ttf",
            "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf"),
    _system("liberation-narrow", "truetype/liberation", "LiberationSansNarrow-Regular.ttf",
            "LiberationSansNarrow-Bold.ttf", "LiberationSansNarrow-Italic.ttf"),
    _system("liberation-serif", "truetype/liberation", "LiberationSerif-Regular.ttf",
            "LiberationSerif-Bold.ttf", "LiberationSerif-Italic.ttf"),
    _system("liberation-mono", "truetype/liberation", "LiberationMono-Regular.ttf",
            "LiberationMono-Bold.ttf", "LiberationMono-Italic.ttf", mono=True),
    _system("free-sans", "truetype/freefont", "FreeSans.ttf", "FreeSansBold.ttf",
            "FreeSansOblique.ttf"),
    _system("free-serif", "truetype/freefont", "FreeSerif.ttf", "FreeSerifBold.ttf",
            "FreeSerifItalic.ttf"),
    _system("free-mono", "truetype/freefont", "FreeMono.ttf", "FreeMonoBold.ttf",
            "FreeMonoOblique.ttf", mono=True),
    _system("nimbus-narrow", "opentype/urw-base35", "NimbusSansNarrow-Regular.otf",
            "NimbusSansNarrow-Bold.otf", "NimbusSansNarrow-Oblique.otf"),
    _system("nimbus-mono", "opentype/urw-base35", "NimbusMonoPS-Regular.otf",
            "NimbusMonoPS-Bold.otf", "NimbusMonoPS-Italic.otf", mono=True),
    _system("urw-gothic", "opentype/urw-base35", "URWGothic-Book.otf", "URWGothic-Demi.otf",
            "URWGothic-BookOblique.otf"),
    _system("urw-bookman", "opentype/urw-base35", "URWBookman-Light.otf",
            "URWBookman-Demi.otf", "URWBookman-LightItalic.otf"),
    _system("c059", "opentype/urw-base35", "C059-Roman.otf", "C059-Bold.otf",
            "C059-Italic.otf"),
    _system("p052", "opentype/urw-base35", "P052-Roman.otf", "P052-Bold.otf",
            "P052-Italic.otf"),
    # fonts-roboto, fonts-open-sans, fonts-lato, fonts-crosextra-carlito/-caladea,
    # fonts-cantarell, fonts-oxygen, fonts-inconsolata, fonts-hack, fonts-noto-mono,
    # fonts-anonymous-pro (faces with no bold here use the regular for bold)
    _system("roboto", "truetype/roboto/unhinted/RobotoTTF", "Roboto-Regular.ttf",
            "Roboto-Bold.ttf", "Roboto-Italic.ttf"),
    _system("roboto-condensed", "truetype/roboto/unhinted", "RobotoCondensed-Regular.ttf",
            "RobotoCondensed-Bold.ttf", "RobotoCondensed-Italic.ttf"),
    _system("open-sans", "truetype/open-sans", "OpenSans-Regular.ttf", "OpenSans-Bold.ttf",
            "OpenSans-Italic.ttf"),
    _system("lato", "truetype/lato", "Lato-Regular.ttf", "Lato-Bold.ttf", "Lato-Italic.ttf"),
    _system("carlito", "truetype/crosextra", "Carlito-Regular.ttf", "Carlito-Bold.ttf",
            "Carlito-Italic.ttf"),
    _system("caladea", "truetype/crosextra", "Caladea-Regular.ttf", "Caladea-Bold.ttf",
            "Caladea-Italic.ttf"),
    _system("cantarell", "opentype/cantarell", "Cantarell-Regular.otf", "Cantarell-Bold.otf"),
    _system("oxygen", "truetype/oxygen", "Oxygen-Sans.ttf", "Oxygen-Sans-Bold.ttf"),
    _system("oxygen-mono", "truetype/oxygen", "OxygenMono-Regular.ttf",
            "OxygenMono-Regular.ttf", mono=True),
    _system("inconsolata", "truetype/inconsolata", "Inconsolata.otf", "Inconsolata.otf",
            mono=True),
    _system("hack", "truetype/hack", "Hack-Regular.ttf", "Hack-Bold.ttf", "Hack-Italic.ttf",
            mono=True),
    _system("noto-sans-mono", "truetype/noto", "NotoSansMono-Regular.ttf",
            "NotoSansMono-Bold.ttf", mono=True),
    _system("anonymous-pro", "truetype/anonymous-pro", "Anonymous Pro.ttf",
            "Anonymous Pro B.ttf", "Anonymous Pro I.ttf", mono=True),
]


def families(split: str, system: bool = False) -> list[Family]:
    """The split's families; ``system`` adds the installed system families to training."""
    if split == "train":
        extra = [f for f in SYSTEM_FAMILIES if f.available()] if system else []
        return [f for f in FAMILIES if f.name not in HELD_OUT_FAMILIES] + extra
    if split == "heldout":
        return [f for f in FAMILIES if f.name in HELD_OUT_FAMILIES]
    raise ValueError(f"unknown split {split!r}")


@lru_cache(maxsize=64)
def font(code: str) -> pymupdf.Font:
    """A font by PyMuPDF name (base-14 or pymupdf-fonts) or by file path."""
    return pymupdf.Font(fontfile=code) if "/" in code else pymupdf.Font(code)


def pick(r: random.Random, split: str, mono: bool | None = None,
         system: bool = False) -> Family:
    fams = [f for f in families(split, system) if mono is None or f.mono == mono]
    return r.choice(fams or families(split, system))
