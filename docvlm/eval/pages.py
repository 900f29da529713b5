"""The whole pipeline on held-out synthetic pages (unseen seeds, fonts and templates), the
way users run it: a page image (clean render, or degraded like a scan) goes through
``docvlm.extract(mode="vision")`` and what comes back is compared with the page's truth.

- region reading CER: for every true text region, the lines read whose centres fall in it
  (reading order) against its true text, clean and degraded separately (segmentation misses
  count as deletions);
- text lines found: precision/recall at IoU 0.5;
- layout regions: precision/recall at IoU 0.5, with labels and without; the boxes found
  with the wrong label (truth -> predicted) and the predicted regions matching no true box;
- tables: TEDS and TEDS-S of the table region found over each true table (0 when missed);
- key/value: Donut's field F1 of ``fields_from_document`` with a schema of the page's keys
  (strings; booleans for checkboxes), values typed like the schema says.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from PIL import Image

from docvlm.eval.metrics import box_pr, edit_distance, field_f1, normalize, teds
from docvlm.fields import FieldSpec, coerce, fields_from_document
from docvlm.pipeline import ExtractOptions, extract
from docvlm.synth.pages import HELDOUT_SEED_BASE, KINDS, make_page


def _inside(box, region, pad: float = 2.0) -> bool:
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return (region[0] - pad <= cx <= region[2] + pad and region[1] - pad <= cy
            <= region[3] + pad)


def _spec(key: str, value) -> FieldSpec:
    return FieldSpec(key.lower().replace(" ", "_"), key,
                     "boolean" if isinstance(value, bool) else "string")


def eval_pages(model, n: int, seed: int = 31, dpi: float = 200) -> dict:
    """``n`` pages per kind, each clean and degraded."""
    acc = {c: {"ed": 0, "ref": 0, "lines_tp": 0, "lines_pred": 0, "lines_true": 0,
               "reg_tp": 0, "reg_tp_nolabel": 0, "reg_pred": 0, "reg_true": 0,
               "teds": [], "teds_s": [], "kv_pred": [], "kv_true": [], "seconds": 0.0,
               "pages": 0, "label_errors": {}, "unmatched_regions": {}}
           for c in ("clean", "degraded")}
    opts = ExtractOptions(mode="vision", model=model, dpi=dpi)
    with tempfile.TemporaryDirectory() as tmp:
        for k, kind in enumerate(KINDS):
            for i in range(n):
                page = make_page(HELDOUT_SEED_BASE + seed * 1000 + 100 * k + i, kind,
                                 "heldout")
                for cond in ("clean", "degraded"):
                    img = page.render(dpi) if cond == "clean" else page.render_degraded(
                        dpi, random.Random(seed + 7 * i + k))[0]
                    f = Path(tmp) / f"{kind}{i}{cond}.png"
                    Image.fromarray(img).save(f, dpi=(dpi, dpi))
                    t0 = time.perf_counter()
                    doc = extract(f, opts)
                    a = acc[cond]
                    a["seconds"] += time.perf_counter() - t0
                    a["pages"] += 1
                    if not doc.pages:
                        continue
                    _score_page(page, doc.pages[0], doc, a)
    out = {}
    for cond, a in acc.items():
        kvp, kvt = a["kv_pred"], a["kv_true"]
        out[cond] = {
            "region_cer": a["ed"] / max(1, a["ref"]),
            "line_precision": a["lines_tp"] / max(1, a["lines_pred"]),
            "line_recall": a["lines_tp"] / max(1, a["lines_true"]),
            "layout_precision": a["reg_tp"] / max(1, a["reg_pred"]),
            "layout_recall": a["reg_tp"] / max(1, a["reg_true"]),
            "layout_precision_unlabelled": a["reg_tp_nolabel"] / max(1, a["reg_pred"]),
            "layout_recall_unlabelled": a["reg_tp_nolabel"] / max(1, a["reg_true"]),
            "table_teds": sum(a["teds"]) / max(1, len(a["teds"])),
            "table_teds_s": sum(a["teds_s"]) / max(1, len(a["teds_s"])),
            "tables": len(a["teds"]),
            "kv_f1": field_f1(kvp, kvt)["f1"] if kvt else None,
            "pages": a["pages"], "seconds_per_page": a["seconds"] / max(1, a["pages"]),
            # what labelled layout precision loses: boxes found with the wrong label (truth
            # -> predicted), and predicted regions that match no true box, by label
            "label_errors": dict(sorted(a["label_errors"].items(), key=lambda kv: -kv[1])),
            "unmatched_regions": dict(sorted(a["unmatched_regions"].items(),
                                             key=lambda kv: -kv[1])),
        }
    return out


def _score_page(page, p, doc, a: dict) -> None:
    pred_lines = [ln for r in p.regions if r.table is None for ln in r.lines]
    # region reading
    for g in page.regions:
        if g.table is not None or not g.lines:
            continue
        got = [ln for ln in pred_lines if _inside(ln.box, g.box)]
        got.sort(key=lambda ln: (round(ln.box.y0 / 3), ln.box.x0))
        hyp = normalize(" ".join(ln.text for ln in got))
        ref = normalize(" ".join(ln.text for ln in g.lines))
        a["ed"] += edit_distance(hyp, ref)
        a["ref"] += len(ref)
    # lines and regions found
    truth_lines = [("t", ln.box) for g in page.regions if g.table is None for ln in g.lines]
    pl = [("t", (ln.box.x0, ln.box.y0, ln.box.x1, ln.box.y1)) for ln in pred_lines]
    m = box_pr(pl, truth_lines, 0.5)
    a["lines_tp"] += m["matched"]
    a["lines_pred"] += len(pl)
    a["lines_true"] += len(truth_lines)
    pr = [(r.label.value, (r.box.x0, r.box.y0, r.box.x1, r.box.y1)) for r in p.regions]
    tr = [(g.label, g.box) for g in page.regions]
    a["reg_tp"] += box_pr(pr, tr, 0.5)["matched"]
    boxes = box_pr(pr, tr, 0.5, labels=False)
    a["reg_tp_nolabel"] += boxes["matched"]
    for i, j in boxes["pairs"]:  # the right box with the wrong label
        if pr[i][0] != tr[j][0]:
            key = f"{tr[j][0]} -> {pr[i][0]}"
            a["label_errors"][key] = a["label_errors"].get(key, 0) + 1
    for i in set(range(len(pr))) - {i for i, _ in boxes["pairs"]}:
        a["unmatched_regions"][pr[i][0]] = a["unmatched_regions"].get(pr[i][0], 0) + 1
    a["reg_pred"] += len(pr)
    a["reg_true"] += len(tr)
    # tables
    from docvlm.eval.metrics import iou

    for g in page.regions:
        if g.table is None:
            continue
        cands = [(iou((r.box.x0, r.box.y0, r.box.x1, r.box.y1), g.box), r) for r in p.regions
                 if r.table is not None]
        best = max(cands, key=lambda c: c[0], default=(0.0, None))
        if best[1] is None or best[0] < 0.5:
            a["teds"].append(0.0)
            a["teds_s"].append(0.0)
            continue
        html, truth = best[1].table.to_html(), g.table.to_html()
        a["teds"].append(teds(html, truth))
        a["teds_s"].append(teds(html, truth, structure_only=True))
    # key/value fields
    if page.kv:
        specs = {}
        for kv in page.kv:
            specs.setdefault(kv.key, _spec(kv.key, kv.value))
        schema = {"type": "object", "properties": {
            s.name: {"type": s.type, "title": s.title} for s in specs.values()}}
        values = fields_from_document(doc, schema)["values"]
        truth, pred = [], []
        for key, s in specs.items():
            tv = next(kv.value for kv in page.kv if kv.key == key)
            t, why = coerce(tv, s)
            if why is None and t is not None:
                truth.append((key, str(t)))
            if values.get(s.name) is not None:
                pred.append((key, str(values[s.name])))
        a["kv_true"].append(truth)
        a["kv_pred"].append(pred)
