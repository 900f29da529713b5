"""Text metrics: character and word error rate after Unicode NFKC and whitespace
normalisation (the convention of ../shared/eval/README.md)."""

from __future__ import annotations

import unicodedata


def normalize(s: str, *, casefold: bool = False) -> str:
    s = " ".join(unicodedata.normalize("NFKC", s).split())
    return s.casefold() if casefold else s


def edit_distance(a, b) -> int:
    """Levenshtein distance between two sequences (O(len(a) * len(b)), two rows)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(pred: str, ref: str, *, casefold: bool = False) -> float:
    """Character error rate: edits / reference length (may exceed 1)."""
    p, r = normalize(pred, casefold=casefold), normalize(ref, casefold=casefold)
    return edit_distance(p, r) / max(1, len(r))


def wer(pred: str, ref: str, *, casefold: bool = False) -> float:
    p, r = normalize(pred, casefold=casefold).split(), normalize(ref, casefold=casefold).split()
    return edit_distance(p, r) / max(1, len(r))


def corpus_cer(preds: list[str], refs: list[str], *, casefold: bool = False) -> float:
    """Total edits over total reference characters (what papers report as CER)."""
    edits = sum(edit_distance(normalize(p, casefold=casefold), normalize(r, casefold=casefold))
                for p, r in zip(preds, refs))
    return edits / max(1, sum(len(normalize(r, casefold=casefold)) for r in refs))
