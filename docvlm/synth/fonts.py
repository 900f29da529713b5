"""Fonts for synthetic documents: PDF base-14 and the pymupdf-fonts package (installed with
docvlm, never downloaded at run time). Two families are held out of training."""

from __future__ import annotations

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


def families(split: str) -> list[Family]:
    if split == "train":
        return [f for f in FAMILIES if f.name not in HELD_OUT_FAMILIES]
    if split == "heldout":
        return [f for f in FAMILIES if f.name in HELD_OUT_FAMILIES]
    raise ValueError(f"unknown split {split!r}")


@lru_cache(maxsize=64)
def font(code: str) -> pymupdf.Font:
    return pymupdf.Font(code)


def pick(r: random.Random, split: str, mono: bool | None = None) -> Family:
    fams = [f for f in families(split) if mono is None or f.mono == mono]
    return r.choice(fams or families(split))
