"""Batch throughput: the same 20 pages with 1 and with 2 worker processes, in one run.

    python benchmarks/bench_batch.py [--model DIR] [--pages 20] [--mode vision]

The pages are held-out synthetic pages of every kind (docvlm.synth), "scanned" at 200 DPI
(degraded, PNG, no text layer), so every page goes through the whole vision path:
preprocessing, segmentation, line-by-line reading by the model. Each configuration runs
the batch once (``docvlm.batch.run_batch``, one model load per process, counted in the
time) and prints pages/s and the mean seconds per page; ``--mode text`` on born-digital
PDFs measures the text-layer path instead.
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

from docvlm.batch import Summary, run_batch  # noqa: E402
from docvlm.pipeline import ExtractOptions  # noqa: E402
from docvlm.synth.pages import HELDOUT_SEED_BASE, KINDS, make_page  # noqa: E402


def make_pages(folder: Path, n: int, scanned: bool) -> list[Path]:
    files = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        p = make_page(HELDOUT_SEED_BASE + 9000 + i, kind, "heldout")
        if scanned:
            img, _ = p.render_degraded(200, random.Random(i))
            f = folder / f"{i:02d}-{kind}.png"
            cv2.imwrite(str(f), img)
        else:
            f = folder / f"{i:02d}-{kind}.pdf"
            f.write_bytes(p.pdf)
        files.append(f)
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--mode", default="vision", choices=["vision", "auto", "text"])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_pages(Path(tmp), args.pages, scanned=args.mode == "vision")
        opts = ExtractOptions(mode=args.mode, model=args.model)
        print(f"{args.pages} pages ({'scanned PNG' if args.mode == 'vision' else 'PDF'}), "
              f"mode {args.mode}")
        for jobs in args.jobs:
            s = Summary()
            t0 = time.perf_counter()
            for doc in run_batch(files, opts, jobs=jobs, progress=False):
                s.add(doc)
            s.seconds = time.perf_counter() - t0
            print(f"  {jobs} process{'es' if jobs > 1 else ''}: {s.line()}; "
                  f"{s.seconds / max(1, s.pages):.2f} s/page", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
