"""Figures for docs/: thumbnails of synthetic pages (clean and degraded), training curves,
and the held-out lines a model reads worst.

    python scripts/make_figures.py thumbnails [--out docs/synth_pages.png]
    python scripts/make_figures.py curves RUN [RUN ...] [--out docs/training_curves.png]
    python scripts/make_figures.py failures [--model DIR] [-n 300] [--out docs/failures.png]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import cv2
import numpy as np


def thumbnails(out: Path) -> None:
    from docvlm.synth.pages import HELDOUT_SEED_BASE, KINDS, make_page

    tiles = []
    for i, kind in enumerate(KINDS):
        p = make_page(100 + i, kind)
        clean = p.render(70)
        dirty, steps = p.render_degraded(70, random.Random(i), strength=1.0)
        held = make_page(HELDOUT_SEED_BASE + i, kind).render(70)
        col = []
        for img, caption in ((clean, f"{kind} (train)"), (dirty, "degraded: " + ",".join(
                steps[:3])), (held, "held-out")):
            w = 260
            img = cv2.resize(img, (w, int(img.shape[0] * w / img.shape[1])),
                             interpolation=cv2.INTER_AREA)
            img = img[:340] if img.shape[0] > 340 else np.pad(
                img, ((0, 340 - img.shape[0]), (0, 0)), constant_values=235)
            bar = np.full((22, w), 255, np.uint8)
            cv2.putText(bar, caption[:34], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, 0, 1)
            col.append(np.concatenate([bar, img, np.full((6, w), 255, np.uint8)]))
        tiles.append(np.pad(np.concatenate(col), ((0, 0), (3, 3)), constant_values=255))
    cv2.imwrite(str(out), np.concatenate(tiles, axis=1))
    print(out)


def curves(runs: list[Path], out: Path, sequential: bool = False,
           max_samples: float | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    offset = 0
    for run in runs:
        recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x]
        if max_samples is not None:
            recs = [r for r in recs if r["samples"] <= max_samples]
        for r in recs:
            r["samples"] += offset
        tr = [r for r in recs if "loss" in r]
        ev = [r for r in recs if "eval" in r]
        if sequential and recs:  # stages one after another on one axis
            offset = max(r["samples"] for r in recs)
            ax1.axvline(offset, color="0.85", lw=0.8)
        label = run.name
        for key, name in (("lm_loss", "decoder loss"), ("ctc_loss", "CTC loss")):
            pts = [(r["samples"], r[key]) for r in tr if key in r]
            if pts:
                ax1.plot(*zip(*pts, strict=True), label=f"{label} {name}", lw=1)
        for key, name, style in (("cer", "decoder CER", "o-"), ("ctc_cer", "CTC CER", "x--")):
            pts = [(r["samples"], r["eval"][key]) for r in ev if key in r["eval"]]
            if pts:  # a `ctc` stage evaluates the reading head only
                ax2.plot(*zip(*pts, strict=True), style, label=f"{label} {name}", ms=3)
    ax1.set_xlabel("training samples" + (" (stages in sequence)" if sequential else ""))
    ax1.set_ylabel("loss")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("training samples")
    ax2.set_ylabel("held-out line CER")
    ax2.set_ylim(0, 1.2)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


def failures(model_dir: str | None, n: int, show: int, out: Path) -> None:
    """The held-out lines (``docvlm eval --set synth-lines``: unseen fonts and seeds, half
    degraded) the model reads worst, as the pipeline reads them (several scales, int8 on a
    CPU): each crop as the model gets it, with the truth and the reading under it."""
    import torch
    from PIL import Image, ImageDraw, ImageFont

    from docvlm.crops import fit_line
    from docvlm.eval.metrics import edit_distance
    from docvlm.passes import PageReader, load_model
    from docvlm.pipeline import DEFAULT_MODEL_DIR
    from docvlm.synth.lines import line_text, render_line
    from docvlm.train.data import sample_rng

    model = load_model(model_dir or DEFAULT_MODEL_DIR, int8=True)
    crops = [render_line(r, line_text(r), "heldout", degrade_p=0.5)
             for r in (sample_rng(4243, i, "failures") for i in range(n))]
    with torch.no_grad():
        read = PageReader(model).read_lines([c.image for c in crops])
    scored = sorted(((edit_distance(g.text, c.text), i) for i, (g, c) in
                     enumerate(zip(read, crops))), reverse=True)
    worst = [i for d, i in scored[:show] if d > 0]
    errs = sum(d for d, _ in scored)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 15)
    tiles = []
    for i in worst:
        c, g = crops[i], read[i]
        img = fit_line(c.image, 40)
        w = max(img.shape[1], 9 * max(len(c.text), len(g.text)) + 80)
        tile = Image.new("L", (w, img.shape[0] + 44), 255)
        tile.paste(Image.fromarray(img), (0, 0))
        d = ImageDraw.Draw(tile)
        d.text((2, img.shape[0] + 2), f"truth {c.text}", font=font, fill=0)
        d.text((2, img.shape[0] + 22), f"read  {g.text}", font=font, fill=90)
        tiles.append(np.asarray(tile))
    width = max(t.shape[1] for t in tiles)
    sheet = np.vstack([np.pad(t, ((0, 6), (0, width - t.shape[1])), constant_values=200)
                       for t in tiles])
    cv2.imwrite(str(out), sheet)
    print(f"{out}: {len(worst)} worst of {n} held-out lines ({errs} character errors in "
          f"{sum(len(c.text) for c in crops)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("thumbnails", help="synthetic page thumbnails")
    t.add_argument("--out", default="docs/synth_pages.png")
    c = sub.add_parser("curves", help="loss and CER curves of training runs")
    c.add_argument("runs", nargs="+", help="run folders (with metrics.jsonl)")
    c.add_argument("--out", default="docs/training_curves.png")
    c.add_argument("--sequential", action="store_true",
                   help="runs are successive stages: put them end to end on the x axis")
    c.add_argument("--max-samples", type=float, default=None,
                   help="plot each run up to this many training samples")
    f = sub.add_parser("failures", help="held-out lines read worst, with truth and reading")
    f.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    f.add_argument("-n", type=int, default=300, help="held-out lines to read")
    f.add_argument("--show", type=int, default=12, help="lines to show")
    f.add_argument("--out", default="docs/failures.png")
    args = ap.parse_args()
    if args.what == "failures":
        failures(args.model, args.n, args.show, Path(args.out))
    elif args.what == "thumbnails":
        thumbnails(Path(args.out))
    else:
        curves([Path(r) for r in args.runs], Path(args.out), args.sequential,
               args.max_samples)


if __name__ == "__main__":
    main()
