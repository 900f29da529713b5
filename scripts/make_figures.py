"""Figures for docs/: thumbnails of synthetic pages (clean and degraded), and training curves.

    python scripts/make_figures.py thumbnails [--out docs/synth_pages.png]
    python scripts/make_figures.py curves RUN [RUN ...] [--out docs/training_curves.png]
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
    args = ap.parse_args()
    if args.what == "thumbnails":
        thumbnails(Path(args.out))
    else:
        curves([Path(r) for r in args.runs], Path(args.out), args.sequential,
               args.max_samples)


if __name__ == "__main__":
    main()
