"""Overlays of one held-out synthetic page of each kind, scanned (vision mode) and
born-digital (auto mode), into docs/overlays/ with a README showing what was read.

    python scripts/make_overlays.py [--model DIR] [--out docs/overlays] [--dpi 200]

Pages come from the held-out split (unseen seeds, fonts and templates). The "scan" is the
page rendered at ``--dpi`` and degraded like a scan (docvlm.synth.degrade), saved as PNG, so
the pipeline sees pixels only.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docvlm.eval.metrics import corpus_cer  # noqa: E402
from docvlm.overlay import draw_page  # noqa: E402
from docvlm.pipeline import ExtractOptions, extract  # noqa: E402
from docvlm.synth.pages import HELDOUT_SEED_BASE, KINDS, make_page  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "overlays")
    ap.add_argument("--dpi", type=float, default=200)
    ap.add_argument("--width", type=int, default=900, help="width of the written images")
    ap.add_argument("--seed", type=int, default=4242)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, kind in enumerate(KINDS):
            page = make_page(HELDOUT_SEED_BASE + args.seed + k, kind, "heldout")
            scan, _ = page.render_degraded(args.dpi, random.Random(args.seed + k))
            src = Path(tmp) / f"{kind}.png"
            cv2.imwrite(str(src), scan)
            t0 = time.perf_counter()
            doc = extract(src, ExtractOptions(mode="vision", model=args.model, dpi=args.dpi))
            dt = time.perf_counter() - t0
            p = doc.pages[0]
            img = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
            out = draw_page(img, p, img.shape[1] / p.width, img.shape[0] / p.height)
            f = args.width / out.shape[1]
            out = cv2.resize(out, (args.width, round(out.shape[0] * f)),
                             interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(args.out / f"{kind}-scan.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 80])
            # a table once, as its grid (its lines are the same text, cell by cell)
            read = [t for r in p.regions for t in ([r.text] if r.table is not None else
                                                   [ln.text for ln in (r.lines or [r])])]
            truth = [ln.text for g in page.regions for ln in g.lines]
            cer = corpus_cer(["\n".join(read)], ["\n".join(truth)])
            rows.append((kind, p, read, dt, cer))
            print(f"{kind}: {len(p.regions)} regions, {len(read)} lines, page CER {cer:.3f}, "
                  f"{dt:.1f} s", flush=True)
    md = ["# Overlays: one held-out page of each kind, scanned, in vision mode", "",
          "Written by `python scripts/make_overlays.py` (held-out synthetic pages: unseen "
          "seeds, fonts and templates; rendered at "
          f"{args.dpi:g} DPI and degraded like a scan). Boxes: regions (thick, labelled "
          "`order:label`) and the lines read inside them (thin). Page CER compares all text "
          "read, in reading order, with the page's true text.", "",
          "| kind | regions | lines | page CER | seconds |", "|---|---|---|---|---|"]
    for kind, p, read, dt, cer in rows:
        md.append(f"| {kind} | {len(p.regions)} | {len(read)} | {cer:.3f} | {dt:.1f} |")
    for kind, _, read, _, _ in rows:
        md += ["", f"## {kind}", "", f"![{kind}]({kind}-scan.jpg)", "",
               "First lines read:", "", "```", *[ln for ln in read[:8]], "```"]
    (args.out / "README.md").write_text("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
