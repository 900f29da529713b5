"""Receipt field extraction on the SROIE receipts in ../shared/eval/sroie (measurement only;
skipped with a message when that folder is absent): docvlm next to Tesseract and RapidOCR
with the same rules.

    python benchmarks/bench_sroie_fields.py [--model DIR] [-n 50] [--json out.json]

- docvlm: ``docvlm.extract(image, mode="vision")`` (segmentation, line-by-line reading by
  the model), then ``docvlm.fields.fields_from_document`` with
  ``schemas/examples/receipt.json`` (company, date, address, total);
- Tesseract 5 (``--psm 4``, ``OMP_THREAD_LIMIT=1``): its TSV lines become a Document and go
  through the very same field rules, so the difference is the reading;
- RapidOCR 1.4.4: its text boxes grouped into lines (``rapidocr_document``), then the same
  rules.

Both predictions and the truth pass through the same typing (dates to ISO, totals to
numbers) before comparison. Prints Donut's field F1 (TP / (TP + (FP + FN) / 2) over the set),
the same F1 casefolded ("F1 Aa": SROIE writes its truth in capitals whatever the print),
per-field accuracy (exact) and seconds per receipt.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docvlm.eval.metrics import field_f1  # noqa: E402
from docvlm.eval.run import DEFAULT_DATA  # noqa: E402
from docvlm.fields import coerce, field_specs, fields_from_document  # noqa: E402
from schemas import (  # noqa: E402
    Box,
    Document,
    Line,
    Page,
    PageKind,
    Region,
    RegionLabel,
    Source,
    SourceFile,
)

SCHEMA = json.loads((ROOT / "schemas" / "examples" / "receipt.json").read_text())
SPECS = {s.name: s for s in field_specs(SCHEMA)}


def typed(name: str, value) -> str | None:
    """The comparison form of a value: typed like the schema says, then as a string."""
    if value is None:
        return None
    v, why = coerce(value, SPECS[name])
    if why is not None:
        return None
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def tesseract_document(image: Path) -> Document | None:
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run([exe, str(image), "-", "--psm", "4", "-l", "eng", "tsv"],
                         capture_output=True, text=True, env=env).stdout
    lines: dict[tuple, list] = {}
    for row in out.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip():
            continue
        key = tuple(int(x) for x in f[2:5])  # block, paragraph, line
        x, y, w, h = (int(v) for v in f[6:10])
        lines.setdefault(key, []).append((x, y, x + w, y + h, f[11]))
    return lines_document(image.name, [words for _key, words in sorted(lines.items())])


def rapidocr_document(engine, image: Path) -> Document:
    """RapidOCR's text boxes grouped into lines as the rules read them: boxes whose vertical
    centre lies inside a line's first box join it (RapidOCR reports a receipt's item and
    its price as two boxes), lines top to bottom, boxes left to right."""
    res, _ = engine(str(image))
    boxes = []
    for quad, text, _score in res or []:
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        boxes.append((min(xs), min(ys), max(xs), max(ys), text))
    rows: list[list] = []
    for b in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        cy = (b[1] + b[3]) / 2
        row = next((r for r in rows if r[0][1] <= cy <= r[0][3]), None)
        if row is None:
            rows.append([b])
        else:
            row.append(b)
    return lines_document(image.name, [sorted(r) for r in rows])


def lines_document(name: str, lines: list[list[tuple]]) -> Document:
    """A one-page Document of text lines, each a list of (x0, y0, x1, y1, text) words in
    image pixels, one region per line, in the order given."""
    regions = []
    for k, words in enumerate(lines):
        box = Box(page=1, x0=min(w[0] for w in words), y0=min(w[1] for w in words),
                  x1=max(w[2] for w in words), y1=max(w[3] for w in words))
        text = " ".join(w[4] for w in words)
        regions.append(Region(id=f"t{k}", label=RegionLabel.TEXT, box=box, text=text,
                              source=Source.VISION, order=k,
                              lines=[Line(text=text, box=box)]))
    page = Page(number=1, width=1000, height=1000, pixel_width=1000, pixel_height=1000,
                dpi=72, kind=PageKind.IMAGE, mode="vision", regions=regions)
    return Document(source=SourceFile(name=name), page_count=1, pages=[page])


def score(preds: list[dict], truths: list[dict]) -> dict:
    pairs_p = [[(k, v) for k, v in p.items() if v is not None] for p in preds]
    pairs_t = [[(k, v) for k, v in t.items() if v is not None] for t in truths]
    res = field_f1(pairs_p, pairs_t)
    # SROIE's truth is written in capitals whatever the print ("Gerbang Alaf Restaurants
    # Sdn Bhd" on the receipt): the same F1 with both sides casefolded
    fold = [[(k, v.casefold()) for k, v in pairs] for pairs in pairs_p]
    res["f1_casefold"] = field_f1(fold, [[(k, v.casefold()) for k, v in pairs]
                                         for pairs in pairs_t])["f1"]
    res["per_field"] = {}  # accuracy over the receipts whose truth has the field
    for k in SPECS:
        pairs = [(p.get(k), t[k]) for p, t in zip(preds, truths) if t.get(k) is not None]
        res["per_field"][k] = sum(a == b for a, b in pairs) / max(1, len(pairs))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    root = args.data / "sroie"
    if not root.exists():
        print(f"skipped: {root} is absent (the real evaluation sets are not on this machine)")
        return 0
    from docvlm.pipeline import ExtractOptions, extract

    images = sorted((root / "images").glob("*.jpg"))[: args.n]
    truths = []
    for im in images:
        lab = json.loads((root / "labels" / f"{im.stem}.json").read_text())
        truths.append({k: typed(k, lab.get(k)) for k in SPECS})
    results = {}
    opts = ExtractOptions(mode="vision", model=args.model)
    engines = {"docvlm": lambda im: extract(im, opts), "tesseract+rules": tesseract_document}
    try:
        from rapidocr_onnxruntime import RapidOCR

        rapid = RapidOCR()
        engines["rapidocr+rules"] = lambda im: rapidocr_document(rapid, im)
    except ImportError:
        print("rapidocr+rules: skipped (rapidocr-onnxruntime is not installed)")
    for name, run in engines.items():
        preds, t0 = [], time.perf_counter()
        for im in images:
            doc = run(im)
            if doc is None:
                break
            vals = fields_from_document(doc, SCHEMA)["values"]
            preds.append({k: typed(k, vals.get(k)) for k in SPECS})
        if not preds:
            print(f"{name}: skipped (not installed)")
            continue
        dt = time.perf_counter() - t0
        results[name] = {**score(preds, truths[: len(preds)]), "receipts": len(preds),
                         "s_per_receipt": dt / len(preds)}  # scores only: no receipt text
    print(f"SROIE key fields, {len(images)} receipts (company, date, address, total)")
    print(f"{'engine':<18}{'F1':>7}{'F1 Aa':>7}{'company':>9}{'date':>7}{'address':>9}"
          f"{'total':>7}{'s/receipt':>11}")
    for name, r in results.items():
        pf = r["per_field"]
        print(f"{name:<18}{r['f1']:>7.3f}{r['f1_casefold']:>7.3f}{pf['company']:>9.2f}"
              f"{pf['date']:>7.2f}"
              f"{pf['address']:>9.2f}{pf['total']:>7.2f}{r['s_per_receipt']:>11.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
