"""Reading accuracy and speed side by side: docvlm, Tesseract 5 and RapidOCR on the same
ground-truth crops of the real sets (measurement only; skipped when ../shared/eval is absent).

    python benchmarks/bench_ocr_baselines.py [--model DIR] [-n 200] [--set sroie --set funsd]

- SROIE: text-line crops (padded 4 px); CER case-insensitive (the truth is upper-case) and
  case-sensitive.
- FUNSD: entity crops (padded 4 px); CER.
Tesseract runs with ``--psm 7`` (one line) twice: with its default OpenMP threads and with
``OMP_THREAD_LIMIT=1`` (much faster on 2 cores). RapidOCR (``rapidocr-onnxruntime`` 1.4.4,
models in the wheel) runs recognition only (``use_det=False, use_cls=False``).
Engines that are not installed are reported as skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import cv2

from docvlm.eval.metrics import corpus_cer
from docvlm.eval.run import DEFAULT_DATA, funsd_entities, sroie_lines


def tesseract(crops, threads: int | None) -> list[str] | None:
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    env = dict(os.environ)
    if threads:
        env["OMP_THREAD_LIMIT"] = str(threads)
    out = []
    with tempfile.TemporaryDirectory() as d:
        for i, (img, _) in enumerate(crops):
            p = Path(d) / f"{i}.png"
            cv2.imwrite(str(p), img)
            r = subprocess.run([exe, str(p), "-", "--psm", "7", "-l", "eng"],
                               capture_output=True, text=True, env=env)
            out.append(r.stdout.strip())
    return out


def rapidocr(crops) -> list[str] | None:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()
    out = []
    for img, _ in crops:
        res, _ = engine(img, use_det=False, use_cls=False, use_rec=True)
        out.append(res[0][0] if res else "")
    return out


def docvlm_read(crops, model_dir: str | None, int8: bool = True) -> list[str] | None:
    """The crops read as the pipeline reads a line; ``int8``: the default on a CPU
    (``--precision auto``), else float32."""
    if not model_dir:
        return None
    from docvlm.passes import PageReader, load_model

    model = load_model(model_dir, int8=int8)
    return PageReader(model).read_images([img for img, _ in crops])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="docvlm model folder (omit to compare the baselines only)")
    ap.add_argument("-n", type=int, default=200, help="crops per set")
    ap.add_argument("--set", dest="sets", action="append", choices=("sroie", "funsd"))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    args = ap.parse_args()
    data = Path(args.data)
    if not data.is_dir():
        print(f"skipped: {data} is absent (real evaluation sets are not in this checkout)")
        return
    readers = {"sroie": sroie_lines, "funsd": funsd_entities}
    for name in args.sets or ["sroie", "funsd"]:
        crops = [(img, t) for img, t in readers[name](data) if img.size and t.strip()][:args.n]
        refs = [t for _, t in crops]
        print(f"{name}: {len(crops)} crops")
        print(f"  {'engine':28s} {'CER':>7s} {'CER (case-ins.)':>16s} {'s/crop':>8s}")
        engines = {"docvlm (int8)": lambda c=crops: docvlm_read(c, args.model),
                   "docvlm (fp32)": lambda c=crops: docvlm_read(c, args.model, int8=False),
                   "tesseract (default threads)": lambda c=crops: tesseract(c, None),
                   "tesseract (1 thread)": lambda c=crops: tesseract(c, 1),
                   "rapidocr (rec only)": lambda c=crops: rapidocr(c)}
        for engine, fn in engines.items():
            t0 = time.perf_counter()
            preds = fn()
            dt = time.perf_counter() - t0
            if preds is None:
                print(f"  {engine:28s} skipped (not installed / no --model)")
                continue
            print(f"  {engine:28s} {corpus_cer(preds, refs):7.4f} "
                  f"{corpus_cer(preds, refs, casefold=True):16.4f} {dt / len(crops):8.3f}")


if __name__ == "__main__":
    main()
