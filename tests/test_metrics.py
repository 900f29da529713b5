import pytest

from docvlm.eval.metrics import box_pr, cer, corpus_cer, field_f1, teds, wer
from schemas import Table, TableCell


def test_cer_wer_normalise_unicode_and_space():
    assert cer("ﬁne  day", "fine day") == 0.0  # NFKC ligature, whitespace
    assert cer("abd", "abc") == pytest.approx(1 / 3)
    assert cer("", "abc") == 1.0 and cer("abcdef", "abc") == 1.0
    assert wer("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert cer("ABC", "abc", casefold=True) == 0.0
    assert corpus_cer(["ab", "x"], ["abc", "y"]) == pytest.approx(2 / 4)


def test_teds_identity_structure_and_text():
    t = Table(n_rows=2, n_cols=2, cells=[
        TableCell(row=0, col=0, col_span=2, text="Head", column_header=True),
        TableCell(row=1, col=0, text="1.50"), TableCell(row=1, col=1, text="x")])
    html = t.to_html()
    gt = ('<table><thead><tr><td colspan="2">Head</td></tr></thead>'
          "<tbody><tr><td>1.50</td><td>x</td></tr></tbody></table>")
    assert teds(html, gt) == pytest.approx(1.0)  # th counts as td, thead/tbody ignored
    wrong_text = gt.replace("1.50", "1.58")
    assert 0.9 < teds(html, wrong_text) < 1.0
    assert teds(html, wrong_text, structure_only=True) == pytest.approx(1.0)
    no_span = ("<table><tr><td>Head</td><td></td></tr><tr><td>1.50</td><td>x</td></tr>"
               "</table>")
    assert teds(html, no_span, structure_only=True) < 1.0
    assert teds("<p>no table</p>", gt) < 0.2


def test_field_f1_follows_donut():
    truth = [[("total", "9.00"), ("date", "01/02/20")], [("total", "5.00")]]
    pred = [[("total", "9.00"), ("date", "01/02/21")], [("total", "5.00"), ("x", "y")]]
    r = field_f1(pred, truth)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 2, 1)
    assert r["f1"] == pytest.approx(2 / (2 + 1.5))


def test_box_precision_recall_at_iou_half():
    truth = [("text", (0, 0, 10, 10)), ("table", (20, 20, 40, 40))]
    pred = [("text", (1, 1, 10, 10)), ("text", (20, 20, 40, 40)), ("title", (50, 50, 60, 60))]
    r = box_pr(pred, truth)
    assert r["matched"] == 1 and r["precision"] == pytest.approx(1 / 3) and r["recall"] == 0.5
    assert r["pairs"] == [(0, 0)]
    free = box_pr(pred, truth, labels=False)
    assert free["matched"] == 2 and sorted(free["pairs"]) == [(0, 0), (1, 1)]
