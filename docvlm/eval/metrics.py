"""Text metrics: character and word error rate after Unicode NFKC and whitespace
normalisation (the convention of ../shared/eval/README.md)."""

from __future__ import annotations

import unicodedata

from rapidfuzz.distance import Levenshtein


def normalize(s: str, *, casefold: bool = False) -> str:
    s = " ".join(unicodedata.normalize("NFKC", s).split())
    return s.casefold() if casefold else s


def edit_distance(a, b) -> int:
    """Levenshtein distance between two sequences (strings, or lists of hashables)."""
    return Levenshtein.distance(a, b)


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


# ---------------------------------------------------------------- tables: TEDS
class _Node:
    __slots__ = ("children", "colspan", "content", "rowspan", "tag")

    def __init__(self, tag, colspan=1, rowspan=1, content=(), children=None):
        self.tag, self.colspan, self.rowspan = tag, colspan, rowspan
        self.content, self.children = list(content), children or []


def _html_tree(html: str, structure_only: bool) -> _Node:
    import lxml.html

    root = lxml.html.fromstring(f"<div>{html}</div>")
    tables = root.xpath("//table")
    table = _Node("table")
    if not tables:
        return table
    for tr in tables[0].xpath(".//tr"):
        row = _Node("tr")
        for td in tr.xpath("./td|./th"):
            text = "" if structure_only else normalize("".join(td.itertext()))
            row.children.append(_Node("td", int(td.get("colspan", 1) or 1),
                                      int(td.get("rowspan", 1) or 1), text))
        table.children.append(row)
    return table


def _count(n: _Node) -> int:
    return 1 + sum(_count(c) for c in n.children)


def teds(pred_html: str, true_html: str, *, structure_only: bool = False) -> float:
    """Tree-Edit-Distance-based Similarity (Zhong et al. 2020, PubTabNet): 1 - TED / max
    nodes, where renaming a cell costs 1 if its tag or spans differ, else the normalised
    edit distance of the texts. ``structure_only`` gives TEDS-S. ``th`` counts as ``td``."""
    from apted import APTED, Config

    class _Cfg(Config):
        def rename(self, a: _Node, b: _Node) -> float:
            if a.tag != b.tag or a.colspan != b.colspan or a.rowspan != b.rowspan:
                return 1.0
            if a.tag == "td" and (a.content or b.content):
                return edit_distance(a.content, b.content) / max(len(a.content),
                                                                 len(b.content))
            return 0.0

        def children(self, node: _Node):
            return node.children

    a, b = _html_tree(pred_html, structure_only), _html_tree(true_html, structure_only)
    n = max(_count(a), _count(b))
    return 1.0 - APTED(a, b, _Cfg()).compute_edit_distance() / n


# ---------------------------------------------------------------- fields: Donut's F1
def field_f1(preds: list[list[tuple[str, str]]], truths: list[list[tuple[str, str]]]
             ) -> dict[str, float]:
    """Field-level F1 as Donut defines it, over the whole set: a predicted (key, value) is a
    true positive when it equals an unused true pair after normalisation;
    F1 = TP / (TP + (FP + FN) / 2)."""
    tp = fp = fn = 0
    for pred, truth in zip(preds, truths):
        pool = [(normalize(k), normalize(v)) for k, v in truth]
        for k, v in pred:
            item = (normalize(k), normalize(v))
            if item in pool:
                pool.remove(item)
                tp += 1
            else:
                fp += 1
        fn += len(pool)
    f1 = tp / (tp + (fp + fn) / 2) if tp + fp + fn else 1.0
    return {"f1": f1, "tp": tp, "fp": fp, "fn": fn}


# ---------------------------------------------------------------- regions: IoU matching
def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_pr(preds: list[tuple[str, tuple]], truths: list[tuple[str, tuple]],
           threshold: float = 0.5, labels: bool = True) -> dict[str, float]:
    """Greedy one-to-one matching by IoU (labels must agree when ``labels``); precision,
    recall and mean IoU of matches at ``threshold``, and the matched ``pairs`` (prediction
    index, truth index)."""
    pairs = sorted(((iou(p[1], t[1]), i, j) for i, p in enumerate(preds)
                    for j, t in enumerate(truths) if not labels or p[0] == t[0]), reverse=True)
    used_p, used_t, ious, matched = set(), set(), [], []
    for v, i, j in pairs:
        if v < threshold:
            break
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        ious.append(v)
        matched.append((i, j))
    tp = len(ious)
    return {"precision": tp / len(preds) if preds else float(not truths),
            "recall": tp / len(truths) if truths else 1.0, "matched": tp,
            "mean_iou": sum(ious) / tp if tp else 0.0, "pairs": matched}
