"""FUNSD entity box recall at IoU 0.5: docvlm's layout, Tesseract 5 and RapidOCR on the same
form images (measurement only; skipped when ../shared/eval is absent).

    python benchmarks/bench_funsd_boxes.py [-n 50]

Every ground-truth entity with text (questions, answers, headers, other) counts. An engine's
boxes are whatever it reports at the line and block level, the same rule for all three:

- docvlm: the regions and their lines from the pipeline's layout pass
  (``docvlm.regions.segment_layout``: what ``docvlm extract`` reports for a scan with the
  shipped model, which takes its layout from segmentation; no reading needed);
- Tesseract (``--psm 3``, TSV): its blocks, paragraphs and lines;
- RapidOCR (``rapidocr-onnxruntime`` 1.4.4): its detection boxes (lines), axis-aligned.

Matching is one-to-one, greedy by IoU (``docvlm.eval.metrics.box_pr``). Also printed: boxes
per page (an engine reporting many overlapping boxes would find more by chance) and seconds
per page.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import cv2

from docvlm.eval.metrics import box_pr
from docvlm.eval.run import DEFAULT_DATA


def pages(data: Path, n: int):
    root = data / "funsd"
    for f in sorted((root / "annotations").glob("*.json"))[:n]:
        img = cv2.imread(str(root / "images" / f"{f.stem}.png"), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        truth = [tuple(e["box"]) for e in json.loads(f.read_text())["form"]
                 if e["text"].strip()]
        yield f.stem, img, truth


def docvlm_boxes(img) -> list[tuple]:
    from docvlm.regions import segment_layout

    h, w = img.shape
    out = []
    for r in segment_layout(img, 1, float(w), float(h)):  # points == pixels here
        out.append((r.box.x0, r.box.y0, r.box.x1, r.box.y1))
        out += [(ln.box.x0, ln.box.y0, ln.box.x1, ln.box.y1) for ln in r.lines]
    return out


def tesseract_boxes(img, path: Path) -> list[tuple] | None:
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    cv2.imwrite(str(path), img)
    r = subprocess.run([exe, str(path), "-", "--psm", "3", "-l", "eng", "tsv"],
                       capture_output=True, text=True,
                       env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    out = []
    for row in csv.DictReader(io.StringIO(r.stdout), delimiter="\t"):
        if row.get("level") in ("2", "3", "4"):  # block, paragraph, line
            x, y, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
            out.append((x, y, x + w, y + h))
    return out


def rapidocr_boxes(engine, img) -> list[tuple]:
    res, _ = engine(img, use_det=True, use_cls=False, use_rec=False)
    out = []
    for quad in res or []:
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50, help="form pages (FUNSD's test split has 50)")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "funsd").is_dir():
        print(f"skipped: {data / 'funsd'} is absent (real evaluation sets are not here)")
        return
    try:
        from rapidocr_onnxruntime import RapidOCR

        rapid = RapidOCR()
    except ImportError:
        rapid = None
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"funsd-boxes-{os.getpid()}.png"
    engines = {"docvlm (layout)": docvlm_boxes,
               "tesseract (psm 3, 1 thread)": lambda img: tesseract_boxes(img, tmp),
               "rapidocr (det)": (lambda img: rapidocr_boxes(rapid, img)) if rapid else None}
    stats = {e: {"matched": 0, "truth": 0, "boxes": 0, "seconds": 0.0, "pages": 0}
             for e in engines}
    for _, img, truth in pages(data, args.n):
        for name, fn in engines.items():
            if fn is None:
                continue
            t0 = time.perf_counter()
            boxes = fn(img)
            dt = time.perf_counter() - t0
            if boxes is None:
                engines[name] = None
                continue
            m = box_pr([("e", b) for b in boxes], [("e", t) for t in truth], 0.5)
            s = stats[name]
            s["matched"] += m["matched"]
            s["truth"] += len(truth)
            s["boxes"] += len(boxes)
            s["seconds"] += dt
            s["pages"] += 1
    tmp.unlink(missing_ok=True)
    pages_n = max(s["pages"] for s in stats.values())
    print(f"funsd: {pages_n} pages, {max(s['truth'] for s in stats.values())} entities")
    print(f"  {'engine':30s} {'recall@0.5':>10s} {'boxes/page':>11s} {'s/page':>7s}")
    for name, s in stats.items():
        if not s["pages"]:
            print(f"  {name:30s} skipped (not installed)")
            continue
        print(f"  {name:30s} {s['matched'] / max(1, s['truth']):10.4f} "
              f"{s['boxes'] / s['pages']:11.1f} {s['seconds'] / s['pages']:7.3f}")


if __name__ == "__main__":
    main()
