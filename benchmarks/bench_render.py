"""Rendering benchmark: pages/s at 200 DPI, side by side in one run.

    python benchmarks/bench_render.py [--pages 24] [--repeat 3] [--dpi 200]

Compares, on the same pages: a bare PyMuPDF ``get_pixmap`` call, docvlm's render step
(PyMuPDF backend, returns a numpy array with its transform), docvlm with the pdf2image
(poppler) backend, and docvlm rendering in 2 processes. Pages come from
../shared/eval/docling_tests (measurement only) plus samples/, or samples/ alone when the
evaluation folder is absent. Each variant is timed ``--repeat`` times, interleaved; the best
time is reported.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pymupdf

from docvlm.ingest import open_document
from docvlm.render import render_page, render_pages, render_pool

REPO = Path(__file__).resolve().parents[1]


def pick_pages(n: int) -> list[tuple[Path, int]]:
    root = REPO.parent / "shared" / "eval" / "docling_tests"
    pdfs = sorted(p for p in root.rglob("*.pdf") if "groundtruth" not in p.parts)
    if not pdfs:
        print("note: ../shared/eval/docling_tests absent; using samples/ only")
    pdfs += sorted((REPO / "samples").glob("*.pdf"))
    pages = []
    for p in pdfs:
        try:
            with pymupdf.open(p) as d:
                if d.needs_pass:
                    continue
                pages += [(p, i + 1) for i in range(min(d.page_count, 3))]
        except Exception:
            continue
    return pages[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=24, help="number of pages")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds per variant")
    ap.add_argument("--dpi", type=float, default=200)
    args = ap.parse_args()
    pages = pick_pages(args.pages)
    z = args.dpi / 72
    by_file: dict[Path, list[int]] = {}
    for p, n in pages:
        by_file.setdefault(p, []).append(n)

    def bare() -> None:
        for p, ns in by_file.items():
            with pymupdf.open(p) as d:
                for n in ns:
                    d[n - 1].get_pixmap(matrix=pymupdf.Matrix(z, z), colorspace=pymupdf.csGRAY,
                                        alpha=False)

    def docvlm_backend(backend: str):
        def run() -> None:
            for p, ns in by_file.items():
                with open_document(p) as d:
                    for n in ns:
                        render_page(d, n, dpi=args.dpi, backend=backend)
        return run

    pool = render_pool(2)
    list(pool.map(abs, [1, 2]))  # start the workers before timing

    def docvlm_2proc() -> None:
        for p, ns in by_file.items():
            for _ in render_pages(p, ns, dpi=args.dpi, pool=pool):
                pass

    variants = {"bare PyMuPDF get_pixmap": bare, "docvlm render (pymupdf)":
                docvlm_backend("pymupdf"), "docvlm render (pdf2image)":
                docvlm_backend("pdf2image"), "docvlm render_pages, 2 processes": docvlm_2proc}
    best = {k: float("inf") for k in variants}
    for _ in range(args.repeat):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    print(f"{len(pages)} pages from {len(by_file)} files at {args.dpi:g} DPI, gray, "
          f"best of {args.repeat}")
    for name, t in best.items():
        print(f"  {name:34s} {len(pages) / t:7.2f} pages/s  ({t:.2f} s)")
    base = best["bare PyMuPDF get_pixmap"]
    pool.shutdown()
    print(f"docvlm render overhead over bare get_pixmap: "
          f"{(best['docvlm render (pymupdf)'] / base - 1) * 100:+.1f} %")


if __name__ == "__main__":
    main()
