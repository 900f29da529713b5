"""How the reading views trade accuracy for time, side by side in one run: each line read
once (``--fast-read``), at five glyph scales with one width (the previous default), and
at five scales with two widths (``crops.READ_WIDTHS``, the default).

    python benchmarks/bench_read_widths.py [--model DIR] [-n 200] [--no-real]

Sets: synthetic held-out lines (unseen seeds and fonts, clean and degraded), training-split
receipt lines from dev seeds (``synth.lines.training_text(receipt=True)``: condensed,
bitmap, faint and broken print; seeds no training run draws), and, for measurement only,
the SROIE line crops and FUNSD entity crops of ../shared/eval (case-insensitive; skipped
with a message when that folder is absent). The reading width was chosen on the synthetic
sets; the real ones were measured afterwards. int8 on a CPU, as ``extract`` reads.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from pathlib import Path

from docvlm.crops import READ_SCALES, READ_WIDTHS
from docvlm.eval.metrics import corpus_cer
from docvlm.eval.run import DEFAULT_DATA, funsd_entities, sroie_lines
from docvlm.passes import PageReader, load_model
from docvlm.pipeline import DEFAULT_MODEL_DIR
from docvlm.synth.lines import line_text, render_line, training_text


def synthetic_sets(n: int) -> dict[str, list]:
    sets = {}
    for name, p in (("held-out clean", 0.0), ("held-out degraded", 1.0)):
        rs = [random.Random(f"bench-widths-{name}-{i}") for i in range(n)]
        sets[name] = [render_line(r, line_text(r), "heldout", degrade_p=p) for r in rs]
    rs = [random.Random(f"bench-widths-receipt-{i}") for i in range(n)]
    sets["training receipt lines (dev)"] = [
        render_line(r, training_text(r, receipt=True), "train", degrade_p=0.5, receipt=True)
        for r in rs]
    return {k: [(c.image, c.text) for c in v] for k, v in sets.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(DEFAULT_MODEL_DIR))
    ap.add_argument("-n", type=int, default=200, help="lines or crops per set")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--no-real", action="store_true", help="synthetic sets only")
    args = ap.parse_args()
    model = load_model(args.model, int8=True)
    sets = synthetic_sets(args.n)
    real = set()
    data = Path(args.data)
    if args.no_real:
        pass
    elif not data.is_dir():
        print(f"real sets skipped: {data} is absent (they are not in this checkout)")
    else:
        for name, fn in (("SROIE line crops", sroie_lines), ("FUNSD entity crops",
                                                             funsd_entities)):
            sets[name] = list(itertools.islice(
                ((img, t) for img, t in fn(data) if img.size and t.strip()), args.n))
            real.add(name)
    views = {"once (--fast-read)": ((1.0,), (1.0,)),
             "5 scales, 1 width": (READ_SCALES, (1.0,)),
             f"5 scales, widths {READ_WIDTHS} (default)": (READ_SCALES, READ_WIDTHS)}
    print(f"model {args.model}, int8; CER (real crops case-insensitive), seconds per line")
    print(f"  {'set':32s} " + " ".join(f"{v:>28s}" for v in views))
    for name, items in sets.items():
        row = []
        for scales, widths in views.values():
            reader = PageReader(model, scales=scales, widths=widths)
            t0 = time.perf_counter()
            if name in real:  # as the crop benchmarks read: segmented, lines joined
                got = reader.read_images([img for img, _ in items])
            else:
                got = [g.text for g in reader.read_lines([img for img, _ in items])]
            dt = (time.perf_counter() - t0) / len(items)
            cer = corpus_cer(got, [t for _, t in items], casefold=name in real)
            row.append(f"{cer:.4f} {dt:6.3f}s")
        print(f"  {name:32s} " + " ".join(f"{c:>28s}" for c in row), flush=True)


if __name__ == "__main__":
    main()
