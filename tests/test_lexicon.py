"""Words read against the English lexicon (docvlm.lexicon): candidates, and the choice the
reading head's own frame probabilities make between a reading and a candidate."""

from __future__ import annotations

import math
import random

import pytest
import torch

from docvlm.lexicon import MARGIN, Lexicon, correct_line, line_nll


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon.english()
    assert lex is not None, "wordfreq is a dependency (pyproject.toml): it must be installed"
    return lex


def frames(text: str, alt: dict[int, tuple[str, float]] | None = None) -> torch.Tensor:
    """Log-probabilities of a head that read ``text``: each character on one frame with
    probability 0.9, a blank frame after it; ``alt`` {character index: (other character,
    its probability)} gives a second choice on that character's frame."""
    alt = alt or {}
    rows = []
    for k, b in enumerate(text.encode()):
        p = torch.full((257,), 1e-4)
        p[b + 1] = 0.9
        if k in alt:
            c, q = alt[k]
            p[b + 1] = 0.9 - q
            p[ord(c) + 1] = q
        rows += [p / p.sum()]
        blank = torch.full((257,), 1e-4)
        blank[0] = 1.0
        rows += [blank / blank.sum()]
    return torch.stack(rows).log()


def test_candidates_are_common_words_one_edit_away_in_the_readings_case(lexicon):
    assert lexicon.candidates("Anount") == ["Amount"]
    assert "GOODS" in lexicon.candidates("GODDS")  # upper case kept
    assert "claim" in lexicon.candidates("clain")
    assert lexicon.candidates("whichwill") == ["which will"]  # a space dropped
    assert lexicon.candidates("amount") == []  # a word: nothing to propose
    assert lexicon.candidates("Kowalski") == []  # a name the lexicon knows
    assert lexicon.candidates("SDN") == []  # too short to choose for
    # two-letter pieces are only the very common words: no "GOD DS", "cl ain"
    assert not any(" " in c for c in lexicon.candidates("GODDS") + lexicon.candidates(
        "clain"))


def test_line_nll_prefers_the_text_the_frames_hold():
    lp = frames("Anount", {1: ("m", 0.4)})
    assert line_nll("Anount", [lp]) < line_nll("Amount", [lp]) < line_nll("Axount", [lp])
    assert line_nll("Amount" * 3, [lp]) == math.inf  # more characters than frames


def test_a_word_is_corrected_only_where_the_frames_nearly_allow_it(lexicon):
    doubt = frames("Total Anount: 5", {7: ("m", 0.3)})  # 'm' a close second on the frame
    assert correct_line("Total Anount: 5", [doubt], lexicon) == "Total Amount: 5"
    sure = frames("Total Anount: 5")  # 'm' at 1e-4: the head is sure it saw 'n'
    assert correct_line("Total Anount: 5", [sure], lexicon) == "Total Anount: 5"
    # several views: their likelihoods add up
    assert correct_line("Total Anount: 5", [doubt, sure], lexicon) == "Total Anount: 5"


def test_known_words_codes_and_numbers_are_left_as_read(lexicon):
    text = "INVOICE SH01 I00100000013 AA00022 x 12.50 Kowalski"
    lp = frames(text)
    assert correct_line(text, [lp], lexicon, margin=1e6) == text
    assert correct_line("whatever", [], lexicon) == "whatever"  # no frames: unchanged
    assert correct_line("Anount", [frames("Anount")], None) == "Anount"  # no lexicon


def test_the_margin_is_in_nats_over_the_views(lexicon):
    lp = frames("Anount", {1: ("m", 0.05)})
    gap = line_nll("Amount", [lp]) - line_nll("Anount", [lp])
    assert gap > 0
    assert correct_line("Anount", [lp], lexicon, margin=gap + 0.01) == "Amount"
    assert correct_line("Anount", [lp], lexicon, margin=gap - 0.01) == "Anount"
    assert MARGIN > 0


def test_the_reader_keeps_words_printed_as_they_are():
    """On the shipped model's own frames: a misspelling or a name printed clearly is read
    as printed with the lexicon on (the frames are sure of it), as with it off."""
    from docvlm.passes import PageReader, load_model
    from docvlm.synth.lines import render_line

    model = load_model("docvlm/weights/small", int8=True)
    texts = ["TNANK YOU, COME AGAIN", "Total anount due", "Mr Kowalsky paid 12.50"]
    crops = [render_line(random.Random(s), t, "heldout", degrade_p=0).image
             for s, t in enumerate(texts)]
    reader = PageReader(model)
    assert reader.lexicon is not None and PageReader(model, lexicon=False).lexicon is None
    assert [g.text for g in reader.read_lines(crops)] == texts
