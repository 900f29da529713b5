"""``docvlm eval``: measure a model on the held-out synthetic split or a real set.

Sets (real ones are read from ../shared/eval or ``--data``; they are for measuring only):

- ``synth-heldout``: unseen seeds, font families and template variants; region reading CER
  on clean and degraded crops, layout precision/recall at IoU 0.5 (labels included), table
  TEDS / TEDS-S on table crops, key/value field F1 (Donut's definition).
- ``sroie``: CER on the ground-truth text-line crops (padded 4 px), case-insensitive and
  case-sensitive.
- ``funsd``: CER on the ground-truth entity crops (padded 4 px).
- ``pubtabnet``: TEDS and TEDS-S on the 20 ``mini_val`` tables.

Every set also reports generated tokens/s and samples/s.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from docvlm.crops import (
    normalize_text_scale,
    table_line_px,
    table_scale_target,
    tight_line_target,
)
from docvlm.eval.metrics import box_pr, corpus_cer, field_f1, teds
from docvlm.model.codec import otsl_to_table, parse_kv, parse_layout
from docvlm.model.processor import Sample, collate
from docvlm.model.vision import prepare_image
from docvlm.model.vlm import DocVLM
from docvlm.train.data import sample_rng

log = logging.getLogger(__name__)
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "eval"


class Generator:
    """Batched greedy generation with timing."""

    def __init__(self, model: DocVLM, batch_size: int = 8, max_new_tokens: int = 256) -> None:
        self.model, self.bs, self.max_new = model, batch_size, max_new_tokens
        self.tokens, self.seconds, self.samples = 0, 0.0, 0

    def __call__(self, samples: list[Sample], max_new_tokens: int | None = None) -> list[str]:
        out = []
        for k in range(0, len(samples), self.bs):
            chunk = samples[k : k + self.bs]
            t0 = time.perf_counter()
            gen = self.model.generate(collate(self.model.tokenizer, chunk, left_pad=True),
                                      max_new_tokens=max_new_tokens or self.max_new)
            self.seconds += time.perf_counter() - t0
            self.tokens += sum(len(g.token_ids) for g in gen)
            self.samples += len(chunk)
            out += [g.text for g in gen]
        return out

    def speed(self) -> dict[str, float]:
        s = max(self.seconds, 1e-9)
        return {"tokens_per_s": round(self.tokens / s, 1),
                "samples_per_s": round(self.samples / s, 2)}


# ---------------------------------------------------------------- synthetic held-out
def eval_synth(model: DocVLM, n: int, seed: int = 777) -> dict:
    from docvlm.synth.degrade import degrade
    from docvlm.synth.pages import HELDOUT_SEED_BASE, make_page

    cfg = model.cfg
    gen = Generator(model)
    res: dict = {}
    pages = [make_page(HELDOUT_SEED_BASE + seed * 1000 + i) for i in range(n)]
    # reading: one text region (up to 6 lines) per page, clean then degraded
    for degraded in (False, True):
        refs, samples = [], []
        for i, p in enumerate(pages):
            r = sample_rng(seed, i, f"read-{degraded}")
            regs = [g for g in p.regions if g.lines and g.table is None]
            g = r.choice(regs)
            lines = g.lines[:6]
            box = (min(x.box[0] for x in lines), min(x.box[1] for x in lines),
                   max(x.box[2] for x in lines), max(x.box[3] for x in lines))
            lh = float(np.median([x.box[3] - x.box[1] for x in lines]))
            img, frac = p.render_clip(box, lh, tight_line_target(cfg.tiling.line_px), pad=3)
            if degraded:
                img, _ = degrade(img, r, strength=1.0, rotate_max=0.4)
            refs.append("\n".join(x.text for x in lines))
            samples.append(Sample(prepare_image(img, cfg, "native", region=frac), "<task_read>"))
        preds = gen(samples)
        res["read_degraded_cer" if degraded else "read_clean_cer"] = corpus_cer(preds, refs)
    # layout
    preds_all, truths_all = [], []
    samples = []
    for p in pages:
        img = p.render(110)
        samples.append(Sample(prepare_image(img, cfg, "tiles"), "<task_layout>"))
        truths_all.append([(g.label, g.box) for g in p.regions])
    for i, text in enumerate(gen(samples, 400)):
        p = pages[i]
        parsed = parse_layout(text, cfg.vocab.n_loc_bins, 1, p.width, p.height)
        preds_all.append([(g.label.value, (g.box.x0, g.box.y0, g.box.x1, g.box.y1))
                          for g in parsed.items])
    pr = [box_pr(pp, tt) for pp, tt in zip(preds_all, truths_all)]
    tp = sum(x["matched"] for x in pr)
    res["layout_precision"] = tp / max(1, sum(len(pp) for pp in preds_all))
    res["layout_recall"] = tp / max(1, sum(len(tt) for tt in truths_all))
    # tables
    tpages = [make_page(HELDOUT_SEED_BASE + seed * 1000 + 500 + i, "table") for i in range(n)]
    samples, truths = [], []
    for p in tpages:
        g = next(g for g in p.regions if g.table is not None)
        lh = float(np.median([x.box[3] - x.box[1] for x in g.lines])) if g.lines else 10.0
        img, frac = p.render_clip(g.box, lh, table_line_px(cfg.tiling.line_px), pad=4)
        samples.append(Sample(prepare_image(img, cfg, "native", region=frac), "<task_table>"))
        truths.append(g.table)
    res["table_teds"], res["table_teds_s"] = _teds_of(gen(samples, 512),
                                                      [t.to_html() for t in truths])
    # key/value on forms, invoices, receipts
    kpages = [make_page(HELDOUT_SEED_BASE + seed * 1000 + 700 + i,
                        ("form", "invoice", "receipt")[i % 3]) for i in range(n)]
    samples = [Sample(prepare_image(p.render(110), cfg, "tiles"), "<task_kv>") for p in kpages]
    preds = []
    for text in gen(samples, 300):
        preds.append([(f.key, f.value or "") for f in parse_kv(text).items])
    truths_kv = [[(kv.key, _kv_str(kv.value)) for kv in p.kv] for p in kpages]
    res["kv_field_f1"] = field_f1(preds, truths_kv)["f1"]
    res.update(gen.speed())
    res["n_per_task"] = n
    return res


def _teds_of(otsl_texts: list[str], true_htmls: list[str]) -> tuple[float, float]:
    """Mean TEDS and TEDS-S of generated OTSL against true HTML tables."""
    scores, scores_s = [], []
    for text, html in zip(otsl_texts, true_htmls):
        pred = otsl_to_table(text)[0].to_html()
        scores.append(teds(pred, html))
        scores_s.append(teds(pred, html, structure_only=True))
    return float(np.mean(scores)), float(np.mean(scores_s))


def _kv_str(v) -> str:
    return "true" if v is True else "false" if v is False else (v or "")


# ---------------------------------------------------------------- real sets
def _pad_crop(gray: np.ndarray, box, pad: int = 4) -> np.ndarray:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    h, w = gray.shape
    return gray[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)]


def _read_crops(model: DocVLM, crops: Iterator[tuple[np.ndarray, str]], n: int) -> dict:
    """Ground-truth crops read as the pipeline reads regions: line by line, each line
    scaled to the model's text scale (``PageReader.read_images``)."""
    from docvlm.passes import PageReader

    imgs, refs = [], []
    for img, text in crops:
        if img.size == 0 or not text.strip():
            continue
        imgs.append(img)
        refs.append(text)
        if len(imgs) >= n:
            break
    t0 = time.perf_counter()
    preds = PageReader(model).read_images(imgs)
    dt = time.perf_counter() - t0
    return {"cer": corpus_cer(preds, refs), "cer_casefold": corpus_cer(preds, refs,
                                                                       casefold=True),
            "n": len(refs), "seconds_per_crop": dt / max(1, len(refs)),
            "read_with": model.cfg.read_with, "examples": list(zip(preds[:5], refs[:5]))}


def sroie_pages(data: Path) -> Iterator[tuple[Path, np.ndarray, list[tuple[tuple, str]]]]:
    """SROIE receipts: (image path, gray image, [(line box x0, y0, x1, y1, text)]), the
    boxes axis-aligned around the annotated quadrilaterals."""
    root = data / "sroie"
    for f in sorted((root / "bbox").glob("*.csv")):
        path = root / "images" / f"{f.stem}.jpg"
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        lines = []
        for row in f.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = row.split(",", 8)
            if len(parts) < 9:
                continue
            xs, ys = [float(v) for v in parts[0:8:2]], [float(v) for v in parts[1:8:2]]
            lines.append(((min(xs), min(ys), max(xs), max(ys)), parts[8]))
        yield path, img, lines


def sroie_lines(data: Path) -> Iterator[tuple[np.ndarray, str]]:
    """SROIE ground-truth text lines: (gray crop padded 4 px, text)."""
    for _, img, lines in sroie_pages(data):
        for box, text in lines:
            yield _pad_crop(img, box), text


def funsd_entities(data: Path) -> Iterator[tuple[np.ndarray, str]]:
    """FUNSD ground-truth entities: (gray crop padded 4 px, text)."""
    root = data / "funsd"
    for f in sorted((root / "annotations").glob("*.json")):
        img = cv2.imread(str(root / "images" / f"{f.stem}.png"), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        for ent in json.loads(f.read_text())["form"]:
            yield _pad_crop(img, ent["box"]), ent["text"]


def eval_sroie(model: DocVLM, n: int, data: Path) -> dict:
    return _read_crops(model, sroie_lines(data), n)


def eval_funsd(model: DocVLM, n: int, data: Path) -> dict:
    return _read_crops(model, funsd_entities(data), n)


def eval_pubtabnet(model: DocVLM, n: int, data: Path) -> dict:
    root = data / "pubtabnet" / "mini_val"
    gt = json.loads((root / "sample_gt.json").read_text())
    gen = Generator(model)
    samples, truths = [], []
    for name, item in list(gt.items())[:n]:
        img = cv2.imread(str(root / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        img = normalize_text_scale(img, target=table_scale_target(model.cfg.tiling.line_px))
        samples.append(Sample(prepare_image(img, model.cfg, "native"), "<task_table>"))
        truths.append(item["html"])
    t, ts = _teds_of(gen(samples, 512), truths)
    return {"teds": t, "teds_s": ts, "n": len(truths), **gen.speed(),
            **_pubtabnet_pipeline(model, root, list(gt.items())[:n])}


def _pubtabnet_pipeline(model: DocVLM, root: Path, items: list) -> dict:
    """The whole pipeline on each table image, as users run it (``extract``, vision mode:
    segmentation finds the table, ruled or aligned, and the model reads its cells): TEDS of
    the largest table found (0 when none is)."""
    from docvlm.pipeline import ExtractOptions, extract

    opts = ExtractOptions(mode="vision", model=model)
    scores, scores_s, found = [], [], 0
    t0 = time.perf_counter()
    for name, item in items:
        doc = extract(root / name, opts)
        tables = [r for p in doc.pages for r in p.regions if r.table is not None]
        if not tables:
            scores.append(0.0)
            scores_s.append(0.0)
            continue
        found += 1
        best = max(tables, key=lambda r: (r.box.x1 - r.box.x0) * (r.box.y1 - r.box.y0))
        html = best.table.to_html()
        scores.append(teds(html, item["html"]))
        scores_s.append(teds(html, item["html"], structure_only=True))
    n = max(1, len(items))
    return {"pipeline_teds": sum(scores) / n, "pipeline_teds_s": sum(scores_s) / n,
            "pipeline_tables_found": found,
            "pipeline_seconds_per_table": (time.perf_counter() - t0) / n}


def evaluate(model: DocVLM, name: str, n: int, data: Path = DEFAULT_DATA) -> dict:
    if name == "synth-heldout":
        return eval_synth(model, n)
    if name == "synth-lines":
        from docvlm.train.loop import reading_eval

        out = {}
        for cond, p in (("clean", 0.0), ("degraded", 1.0)):
            t0 = time.perf_counter()
            r = reading_eval(model, n, seed=4242, degrade_p=p)
            out[cond] = {**r, "n": n, "seconds": round(time.perf_counter() - t0, 1)}
        return out
    if name == "synth-pages":
        from docvlm.eval.pages import eval_pages

        return eval_pages(model, max(1, n))
    if not (data / name).is_dir():
        return {"skipped": f"{data / name} is absent (real evaluation sets are not in this "
                           "checkout)"}
    fn = {"sroie": eval_sroie, "funsd": eval_funsd, "pubtabnet": eval_pubtabnet}[name]
    return fn(model, n, data)


def print_table(results: dict[str, dict]) -> str:
    lines = []
    for name, res in results.items():
        lines.append(f"{name}")
        for k, v in res.items():
            if k == "examples":
                continue
            if isinstance(v, dict):  # a sub-table (e.g. clean / degraded)
                lines.append(f"  {k}")
                lines += [f"    {k2:20s} {v2:.4f}" if isinstance(v2, float) else
                          f"    {k2:20s} {v2}" for k2, v2 in v.items()]
                continue
            val = f"{v:.4f}" if isinstance(v, float) else str(v)
            lines.append(f"  {k:22s} {val}")
    return "\n".join(lines)
