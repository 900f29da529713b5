"""Blank-patch pruning on real pages: visual tokens kept, and encoder time with and without
pruning, side by side in one run; plus the `small` preset's size and training throughput.

    python benchmarks/bench_pruning.py [--pages 30] [--preset small]

Pages: ../shared/eval/docling_tests (PDF pages at 200 DPI, TIFF, WebP) and
../shared/eval/sroie receipts (measurement only; skipped with a message when absent).
Weights are random: encoder time does not depend on their values.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from docvlm.ingest import open_document
from docvlm.model import DocTokenizer, DocVLM, DocVLMConfig, prepare_image
from docvlm.render import render_page
from docvlm.synth.text import corpus

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"


def real_pages(limit: int):
    files = []
    if (EVAL / "docling_tests").is_dir():
        files += sorted(p for p in (EVAL / "docling_tests").rglob("*")
                        if p.suffix.lower() in (".pdf", ".tif", ".webp")
                        and "groundtruth" not in p.parts and "pdf_password" not in p.parts)
    if (EVAL / "sroie" / "images").is_dir():
        files += sorted((EVAL / "sroie" / "images").glob("*.jpg"))[:10]
    if not files:
        print("skipped: ../shared/eval is absent (no real pages to measure)")
        return
    n = 0
    for f in files:
        try:
            with open_document(f) as doc:
                for k in range(1, min(doc.page_count, 2) + 1):
                    yield f"{f.name}:{k}", render_page(doc, k, dpi=200).image
                    n += 1
                    if n >= limit:
                        return
        except Exception as e:  # a real file we cannot open is reported, not fatal
            print(f"  {f.name}: {e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=30, help="real pages to measure")
    ap.add_argument("--preset", default="small", help="model preset (default: small)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = DocVLMConfig.preset_named(args.preset)
    nopr = replace(cfg, pruning=replace(cfg.pruning, blank_prune=False))
    tok = DocTokenizer.train(corpus(3000), cfg.vocab.bpe_vocab_size, cfg.vocab.n_loc_bins)
    torch.manual_seed(0)
    model = DocVLM.build(cfg, tok).eval()
    params = model.num_parameters()
    print(f"preset {args.preset}: parameters " + ", ".join(f"{k} {v / 1e6:.2f} M"
                                                           for k, v in params.items()))
    fractions, t_pruned, t_full = [], 0.0, 0.0
    rows = []
    for name, img in real_pages(args.pages):
        v_pr = prepare_image(img, cfg, "tiles")
        v_all = prepare_image(img, nopr, "tiles")
        kept = sum(v.n_tokens for v in v_pr)
        total = sum(v.total_groups for v in v_pr)
        fractions.append(kept / total)
        with torch.no_grad():
            t0 = time.perf_counter()
            model.tower(v_pr)
            t1 = time.perf_counter()
            model.tower(v_all)
            t2 = time.perf_counter()
        t_pruned += t1 - t0
        t_full += t2 - t1
        rows.append((name, kept, total, t1 - t0, t2 - t1))
    if rows:
        print(f"{'page':40s} {'kept/total':>11s} {'pruned s':>9s} {'full s':>7s}")
        for name, kept, total, a, b in rows:
            print(f"{name[:40]:40s} {kept:5d}/{total:<5d} {a:9.3f} {b:7.3f}")
        print(f"{len(rows)} pages: median kept fraction {statistics.median(fractions):.3f} "
              f"(mean {statistics.mean(fractions):.3f}); encoder time pruned {t_pruned:.2f} s "
              f"vs full {t_full:.2f} s ({t_full / t_pruned:.2f}x faster)")
    # training throughput of the preset on its two kinds of sample
    from docvlm.model import collate
    from docvlm.train.data import sample_rng
    from docvlm.train.tasks import BUILDERS

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for task, bs in (("read_line", 16), ("layout", 4)):
        batches = [collate(tok, [BUILDERS[task](sample_rng(0, i * bs + j), "train", cfg)
                                 for j in range(bs)]) for i in range(4)]
        t0 = time.perf_counter()
        for b in batches:
            loss = model(b, ctc_weight=1.0)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
        dt = time.perf_counter() - t0
        print(f"train step ({task}, batch {bs}): {4 * bs / dt:.1f} samples/s "
              f"(forward+backward+AdamW, {args.threads} threads)")


if __name__ == "__main__":
    main()
