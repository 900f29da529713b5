"""Whole receipts read end to end: docvlm, Tesseract 5 and RapidOCR on the SROIE receipt
images in ../shared/eval/sroie (measurement only; skipped with a message when that folder is
absent).

    python benchmarks/bench_sroie_pages.py [--model DIR] [-n 50]

The crop benchmark (``bench_ocr_baselines.py``) reads the annotated line boxes; this one
gives each engine the whole receipt, so finding the lines counts too. Per engine:

- line recall: annotated lines matched one-to-one by a reported line box at IoU >= 0.5
  (``docvlm.eval.metrics.box_pr``);
- line CER (case-insensitive): each word of a reported line goes to the annotated line
  whose box holds its centre (placed along the line by its character offsets, so a line
  reported across a row of several annotated boxes, item and price, is split among them);
  an annotated line's reading is its words left to right (none: all its characters count
  as deleted); corpus CER over annotated lines;
- unread: the share of annotated lines no reported word falls on;
- extra: characters of reported words that fall on no annotated line, per annotated
  character (logos, stamps and noise read as text);
- seconds per receipt.

Engines: docvlm ``extract(mode="vision")`` (layout, crops, the model reading line by line);
Tesseract (``--psm 4``, one thread, its TSV lines); RapidOCR 1.4.4 (detection, recognition).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sroie_fields import tesseract_document  # noqa: E402

from docvlm.eval.metrics import box_pr, edit_distance, normalize  # noqa: E402
from docvlm.eval.run import DEFAULT_DATA, sroie_pages  # noqa: E402


def document_lines(doc, shape: tuple[int, ...] | None = None) -> list[tuple[tuple, str]]:
    """A Document's lines as (box in the input image's pixels, text): turned back from the
    upright, deskewed page they are reported on (``Page.source_box``) to the receipt as it
    came in, whose pixel ``shape`` is given (None: the page's own pixel frame, as in the
    Document built from Tesseract's TSV)."""
    out = []
    for page in doc.pages:
        if shape is None:
            sx, sy = page.pixel_width / page.width, page.pixel_height / page.height
        else:  # the input page in points: a quarter turn swapped its sides
            w, h = ((page.width, page.height) if page.rotation in (0, 180)
                    else (page.height, page.width))
            sx, sy = shape[1] / w, shape[0] / h
        for r in page.regions:
            for ln in r.lines:
                if ln.text.strip():
                    b = page.source_box(ln.box)
                    out.append(((b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy), ln.text))
    return out


def tesseract_lines(path: Path, img) -> list[tuple[tuple, str]] | None:
    doc = tesseract_document(path)
    return None if doc is None else document_lines(doc)


def rapidocr_lines(engine, img) -> list[tuple[tuple, str]]:
    res, _ = engine(img)
    out = []
    for quad, text, _score in res or []:
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        out.append(((min(xs), min(ys), max(xs), max(ys)), text))
    return out


def _home(x: float, y: float, truth: list[tuple[tuple, str]]) -> int:
    """The annotated line whose box holds the point (the nearest centre among several), or
    -1."""
    best, k_best = None, -1
    for k, (b, _) in enumerate(truth):
        if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
            d = abs((b[1] + b[3]) / 2 - y)
            if best is None or d < best:
                best, k_best = d, k
    return k_best


def score_page(pred: list[tuple[tuple, str]], truth: list[tuple[tuple, str]]) -> dict:
    m = box_pr([("l", b) for b, _ in pred], [("l", b) for b, _ in truth], 0.5)
    got: list[list[tuple[float, str]]] = [[] for _ in truth]
    extra = 0
    for box, text in pred:  # each word goes where its centre lies (character offsets)
        cy = (box[1] + box[3]) / 2
        for w in re.finditer(r"\S+", text):
            cx = box[0] + (w.start() + w.end()) / 2 / len(text) * (box[2] - box[0])
            k = _home(cx, cy, truth)
            if k >= 0:
                got[k].append((cx, w.group()))
            else:
                extra += len(w.group())
    edits = chars = unread = 0
    for (_, ref), parts in zip(truth, got):
        unread += not parts
        hyp = " ".join(t for _, t in sorted(parts))
        ref_n = normalize(ref, casefold=True)
        edits += edit_distance(normalize(hyp, casefold=True), ref_n)
        chars += len(ref_n)
    return {"matched": m["matched"], "truth": len(truth), "edits": edits, "chars": chars,
            "extra": extra, "unread": unread}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("-n", type=int, default=50)
    args = ap.parse_args()
    if not (args.data / "sroie").is_dir():
        print(f"skipped: {args.data / 'sroie'} is absent (the real evaluation sets are not "
              "on this machine)")
        return 0
    from docvlm.pipeline import ExtractOptions, extract

    opts = ExtractOptions(mode="vision", model=args.model)
    engines = {"docvlm": lambda path, img: document_lines(extract(path, opts), img.shape)}
    engines["tesseract (psm 4, 1 thread)"] = tesseract_lines
    try:
        from rapidocr_onnxruntime import RapidOCR

        rapid = RapidOCR()
        engines["rapidocr 1.4.4"] = lambda path, img: rapidocr_lines(rapid, img)
    except ImportError:
        print("rapidocr: skipped (rapidocr-onnxruntime is not installed)")
    keys = ("matched", "truth", "edits", "chars", "extra", "unread")
    stats = {e: {**dict.fromkeys(keys, 0), "seconds": 0.0, "pages": 0} for e in engines}
    n = 0
    for path, img, truth in sroie_pages(args.data):
        if n >= args.n:
            break
        n += 1
        for name, fn in list(engines.items()):
            t0 = time.perf_counter()
            pred = fn(path, img)
            dt = time.perf_counter() - t0
            if pred is None:  # the engine is not installed
                print(f"{name}: skipped (not installed)")
                del engines[name]
                continue
            s = stats[name]
            for k, v in score_page(pred, truth).items():
                s[k] += v
            s["seconds"] += dt
            s["pages"] += 1
    print(f"SROIE whole receipts: {n} receipts, {max(s['truth'] for s in stats.values())} "
          "annotated lines")
    print(f"  {'engine':30s} {'recall@0.5':>10s} {'line CER':>9s} {'extra':>6s} "
          f"{'unread':>7s} {'s/receipt':>10s}")
    for name, s in stats.items():
        if not s["pages"]:
            continue
        c, t = max(1, s["chars"]), max(1, s["truth"])
        print(f"  {name:30s} {s['matched'] / t:10.4f} "
              f"{s['edits'] / c:9.4f} {s['extra'] / c:6.3f} {s['unread'] / t:7.3f} "
              f"{s['seconds'] / s['pages']:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
