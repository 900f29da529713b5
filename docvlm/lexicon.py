"""Words read against a lexicon: a word the reading head read as no known word, but one
letter away from a common English word, is read as that word where the head's own frame
probabilities find it nearly as likely (lexicon-assisted CTC decoding, as in Graves et al.
2009 and Tesseract's dictionary; here a second look, not a constraint).

The head reads a line as the most probable frame path, character by character, with no
notion of words: "Anount", "GODDS", "clain", "whichwill". For each such word this module
proposes the common words one edit away (a letter replaced, dropped, added, or two swapped)
and the two-word splits of it, scores the line with each in its place by the CTC
likelihood of the very frames that were read (``F.ctc_loss``, summed over the line's
views), and takes the likeliest candidate when its likelihood is within ``margin`` nats of
the reading's. A word the head is sure of stays as it was read: names, codes and made-up
words print as clearly as dictionary words, and the frames say so.

The lexicon is English (``wordfreq``'s frequency lists, a well-kept package; Speer 2022):
candidates are words of Zipf frequency 3 or more (about once per million words or more);
a reading that is itself any listed word (the 200,000 most frequent) is left alone.
"""

from __future__ import annotations

import logging
import math
import re
import string
from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

MIN_ZIPF = 3.0  # candidates: common words only
KNOWN_WORDS = 200_000  # a reading among these many most frequent words is a word
MIN_LEN = 4  # shorter words have too many neighbours to choose from
SHORT_ZIPF = 5.0  # words of one or two letters: only the very common ones ("of", "to",
# "is"; not "ds", "cl": abbreviations that split "GODDS" and "clain")
MARGIN = 8.0  # nats (summed over the views) a candidate may fall short of the reading:
# chosen on synthetic dev lines (training split, dev seeds): 2, 5, 8, 12 compared
WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])")  # not in a code: "SH01"
LETTERS = string.ascii_lowercase


class Lexicon:
    """A set of known words and the frequencies of the common ones (lower case)."""

    def __init__(self, known: set[str], common: set[str],
                 zipf: Callable[[str], float]) -> None:
        self.known, self.common, self._zipf = known, common, zipf

    @staticmethod
    @cache
    def english() -> Lexicon | None:
        """wordfreq's English list; None (and a log line) where wordfreq is not installed."""
        try:
            import wordfreq
        except ImportError:
            log.warning("wordfreq is not installed: words are not read against a lexicon")
            return None
        words = wordfreq.top_n_list("en", KNOWN_WORDS)  # most frequent first
        lo, hi = 0, len(words)  # the first rank below MIN_ZIPF, by bisection
        while lo < hi:
            mid = (lo + hi) // 2
            if wordfreq.zipf_frequency(words[mid], "en") >= MIN_ZIPF:
                lo = mid + 1
            else:
                hi = mid
        common = {w for w in words[:lo] if w.isalpha() and (
            len(w) > 2 or wordfreq.zipf_frequency(w, "en") >= SHORT_ZIPF)}
        return Lexicon({w for w in words if w.isalpha()}, common,
                       lambda w: wordfreq.zipf_frequency(w, "en"))

    def candidates(self, word: str) -> list[str]:
        """Common words one edit from ``word`` and splits of it into two common words,
        in ``word``'s case (UPPER, Title or lower); empty for a known word."""
        w = word.lower()
        if len(w) < MIN_LEN or w in self.known:
            return []
        splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in LETTERS}
        edits |= {a + c + b for a, b in splits for c in LETTERS}
        out = [e for e in edits if e in self.common and len(e) >= MIN_LEN - 1]
        out += [f"{a} {b}" for a, b in splits[2:-1] if a in self.common and b in self.common
                and len(b) >= 2]  # "whichwill", "foryou"
        return [_cased(c, word) for c in sorted(out)]

    def frequency(self, text: str) -> float:
        """Zipf frequency of a candidate (of its rarer word, for a split)."""
        return min(self._zipf(p) for p in text.lower().split())


def _cased(cand: str, like: str) -> str:
    if like.isupper():
        return cand.upper()
    if like[:1].isupper():
        return cand[:1].upper() + cand[1:]
    return cand


def line_nll(text: str, log_probs: list[torch.Tensor]) -> float:
    """CTC negative log-likelihood of ``text`` (UTF-8 bytes, blank 0) summed over a line's
    views, each (frames, classes) log-probabilities."""
    target = torch.tensor(list(text.encode("utf-8")), dtype=torch.long) + 1
    total = 0.0
    for lp in log_probs:
        if len(target) > lp.shape[0]:
            return math.inf
        total += float(F.ctc_loss(lp.unsqueeze(1), target.unsqueeze(0),
                                  torch.tensor([lp.shape[0]]), torch.tensor([len(target)]),
                                  blank=0, reduction="sum", zero_infinity=False))
    return total


def correct_line(text: str, log_probs: list[torch.Tensor], lexicon: Lexicon | None,
                 margin: float = MARGIN) -> str:
    """``text`` with each unknown word replaced by its likeliest lexicon candidate, where
    that candidate's CTC likelihood (summed over ``log_probs``' views) is within
    ``margin`` nats of the line as read; words corrected right to left, each scored in the
    line as corrected so far. Ties go to the more frequent word."""
    if lexicon is None or not log_probs or not text:
        return text
    base = None
    for m in reversed(list(WORD.finditer(text))):  # right to left: offsets stay valid
        cands = lexicon.candidates(m.group())
        if not cands:
            continue
        if base is None:
            base = line_nll(text, log_probs)
        scored = []
        for c in cands:
            t = text[: m.start()] + c + text[m.end():]
            scored.append((line_nll(t, log_probs), -lexicon.frequency(c), t))
        nll, _, best = min(scored)
        if nll <= base + margin:
            text, base = best, nll
    return text
