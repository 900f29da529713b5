"""Seconds per page, end to end, next to Tesseract 5 on the same pages, in one run.

    python benchmarks/bench_speed.py [--model DIR] [--repeat 3]

Pages: a scanned A4 page (a held-out synthetic report rendered at 200 DPI and degraded like
a scan, PNG), the same page born-digital (its PDF, text layer present), and a receipt (the
first SROIE receipt in ../shared/eval when present, measurement only; else a held-out
synthetic receipt scan). docvlm runs ``extract`` in auto mode (vision on the scans, text
layer + layout on the PDF) with the model loaded once beforehand, reading lines at several
scales where they disagree (the default) and once (``--fast-read``), its linear layers in
int8 (the default on a CPU) and in float32 (``--precision fp32``); Tesseract runs
``tesseract IMAGE - --psm 3`` (full-page layout analysis and OCR) with
``OMP_THREAD_LIMIT=1`` and with its default threads. Best of ``--repeat`` runs each.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docvlm.eval.run import DEFAULT_DATA  # noqa: E402
from docvlm.pipeline import ExtractOptions, _model_for, extract  # noqa: E402
from docvlm.synth.pages import HELDOUT_SEED_BASE, make_page  # noqa: E402


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def fmt(v: float | None) -> str:
    return f"{v:.2f}" if v is not None else "n/a"


def tesseract(image: Path, threads: int | None) -> None:
    env = dict(os.environ)
    if threads:
        env["OMP_THREAD_LIMIT"] = str(threads)
    subprocess.run(["tesseract", str(image), "-", "--psm", "3", "-l", "eng"],
                   capture_output=True, env=env, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        page = make_page(HELDOUT_SEED_BASE + 4711, "report", "heldout")
        scan = tmp / "report-scan.png"
        Image.fromarray(page.render_degraded(200, random.Random(1))[0]).save(scan,
                                                                             dpi=(200, 200))
        pdf = tmp / "report.pdf"
        pdf.write_bytes(page.pdf)
        sroie = sorted((DEFAULT_DATA / "sroie" / "images").glob("*.jpg"))
        if sroie:
            receipt, rname = sroie[0], f"SROIE receipt {sroie[0].name}"
        else:
            rp = make_page(HELDOUT_SEED_BASE + 4712, "receipt", "heldout")
            receipt, rname = tmp / "receipt.png", "synthetic receipt scan"
            Image.fromarray(rp.render_degraded(200, random.Random(2))[0]).save(
                receipt, dpi=(200, 200))
        # PNG copies for Tesseract (the PDF page rendered at 200 DPI)
        from docvlm.ingest import open_document
        from docvlm.render import render_page

        with open_document(pdf) as od:
            Image.fromarray(render_page(od, 1, dpi=200).image).save(tmp / "report-pdf.png",
                                                                   dpi=(200, 200))
        opts = ExtractOptions(mode="auto", model=args.model)
        ref = _model_for(opts)
        model = ref.get() if ref is not None else None  # loaded once, like a worker does
        opts.model = model
        fast = ExtractOptions(mode="auto", model=model, read_scales=(1.0,),
                              read_widths=(1.0,))
        ref32 = _model_for(ExtractOptions(mode="auto", model=args.model, precision="fp32"))
        fp32 = ExtractOptions(mode="auto", model=ref32.get() if ref32 is not None else None)
        rows = [("scanned A4 page (200 DPI)", scan, scan), ("born-digital A4 page", pdf,
                                                            tmp / "report-pdf.png"),
                (rname, receipt, receipt)]
        have_tess = shutil.which("tesseract") is not None
        print(f"{'page':<34}{'docvlm s':>10}{'fast-read':>11}{'fp32':>8}{'tess 1 thr':>12}"
              f"{'tess default':>14}")
        for name, src, png in rows:
            extract(src, opts)  # warm-up
            d = best(lambda src=src: extract(src, opts), args.repeat)
            df = best(lambda src=src: extract(src, fast), args.repeat)
            d32 = best(lambda src=src: extract(src, fp32), args.repeat)
            t1 = best(lambda png=png: tesseract(png, 1), args.repeat) if have_tess else None
            t0 = best(lambda png=png: tesseract(png, None), args.repeat) if have_tess else None
            print(f"{name:<34}{d:>10.2f}{df:>11.2f}{d32:>8.2f}{fmt(t1):>12}{fmt(t0):>14}",
                  flush=True)
        print(f"model: {args.model or 'default'}; read_with: "
              f"{getattr(getattr(model, 'cfg', None), 'read_with', '-')}; docvlm s and "
              f"fast-read: int8 {getattr(model, 'int8', '-')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
