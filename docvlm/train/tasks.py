"""Task samples built from synthetic truth. Each builder maps (rng, split, cfg) -> Sample;
the prompt starts with the task token, the target is what the model must emit."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from docvlm.crops import (
    COMPONENT_TO_LINE,
    TIGHT_TO_GLYPH,
    median_glyph_height,
    model_line,
    table_line_px,
)
from docvlm.model.codec import kv_target, layout_target, table_to_otsl
from docvlm.model.config import DocVLMConfig
from docvlm.model.processor import MAX_ANCHORS, Sample
from docvlm.model.vision import line_views, prepare_image
from docvlm.synth.degrade import degrade
from docvlm.synth.lines import line_text, render_line, training_text
from docvlm.synth.pages import HELDOUT_SEED_BASE, KINDS, make_page
from docvlm.synth.text import paragraph

RECEIPT_LINES = 0.25  # share of training lines drawn as till-receipt lines
LINE_JITTER = (-0.125, -0.0625, 0.0, 0.0625)  # relative jitter of the line height


def line_height(r: random.Random, cfg: DocVLMConfig) -> int:
    """A line-crop height around the model's ``line_px`` (jittered by up to 12 %)."""
    return round(cfg.tiling.line_px * (1 + r.choice(LINE_JITTER)))
Builder = Callable[[random.Random, str, DocVLMConfig], Sample]


def read_line(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    """A rendered line, scaled exactly as inference scales line crops (``crops.model_line``:
    median glyph measured on the, maybe degraded, image, to the model's text scale +-10 %,
    in a ``line_px`` band); where that measure is off by half or more (dots too fine to
    join), at the glyph height of its clean render, since a line scaled wrong teaches
    nothing."""
    return _read_line(r, split, cfg, split == "train" and r.random() < RECEIPT_LINES)


def read_receipt_line(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    """A till-receipt line (training split; the held-out split draws ``read_line``'s lines):
    a stage's mix weights it to read more receipt lines than ``read_line``'s quarter."""
    return _read_line(r, split, cfg, split == "train")


def _read_line(r: random.Random, split: str, cfg: DocVLMConfig, receipt: bool) -> Sample:
    text = training_text(r, receipt=receipt) if split == "train" else line_text(r)
    crop = render_line(r, text, split, receipt=receipt)
    g = median_glyph_height(crop.image)
    if crop.glyph_px and not (g and 2 / 3 < g / crop.glyph_px < 1.5):
        g = crop.glyph_px  # the measure failed: the line is read at its true scale instead
    views = line_views(crop.image, cfg, glyph=g, jitter=r.uniform(0.9, 1.1))
    return Sample(views, "<task_read>", crop.text, ctc_text=crop.text)


def read_block(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    """A few stacked lines read as one region (newline-separated)."""
    n = r.randint(2, 4)
    crops = [render_line(r, line_text(r, 40), split, degrade_p=0.0) for _ in range(n)]
    jitter = r.uniform(0.9, 1.1)
    imgs = [model_line(c.image, cfg.tiling, glyph=c.glyph_px, jitter=jitter)
            for c in crops]
    w = max(im.shape[1] for im in imgs)
    rows = [np.pad(im, ((0, 0), (0, w - im.shape[1])), constant_values=255) for im in imgs]
    img = np.concatenate(rows, axis=0)
    if r.random() < 0.5:
        img, _ = degrade(img, r, strength=r.uniform(0.4, 1.0), rotate_max=0.5)
    return Sample(prepare_image(img, cfg, "native"), "<task_read>",
                  "\n".join(c.text for c in crops))


def lm_text(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    return Sample([], "<task_read>", paragraph(r, r.randint(1, 3))[:400])


BUILDERS: dict[str, Builder] = {"read_line": read_line, "read_receipt_line": read_receipt_line,
                                "read_block": read_block, "lm_text": lm_text}


# ---------------------------------------------------------------- page-level tasks
@lru_cache(maxsize=16)
def _cached_page(seed: int, kind: str, split: str):
    return make_page(seed, kind, split)


def _page(r: random.Random, split: str, kinds: tuple[str, ...] | None = None):
    """A synthetic page for this sample (cached: rendering a page is the costly part)."""
    base = HELDOUT_SEED_BASE if split == "heldout" else 0
    seed = base + r.randrange(10**8)
    return _cached_page(seed, r.choice(kinds or KINDS), split)


def read_region(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    """A text region (up to 6 lines) cropped from a synthetic page: text with newlines."""
    page = _page(r, split)
    regs = [g for g in page.regions if g.lines and g.table is None]
    g = r.choice(regs)
    k = r.randint(0, max(0, len(g.lines) - 6))
    lines = g.lines[k : k + 6]
    box = (min(ln.box[0] for ln in lines), min(ln.box[1] for ln in lines),
           max(ln.box[2] for ln in lines), max(ln.box[3] for ln in lines))
    lh = float(np.median([ln.box[3] - ln.box[1] for ln in lines]))
    # same glyph size as read_line crops (the line box here is tight, without padding)
    target = line_height(r, cfg) * TIGHT_TO_GLYPH / COMPONENT_TO_LINE
    img, frac = page.render_clip(box, lh, target, pad=r.uniform(1, 5))
    if r.random() < 0.5:
        img, _ = degrade(img, r, strength=r.uniform(0.4, 1.0), rotate_max=0.4)
    ctc = lines[0].text if len(lines) == 1 else None
    return Sample(prepare_image(img, cfg, "native", region=frac), "<task_read>",
                  "\n".join(ln.text for ln in lines), ctc_text=ctc)


def table_otsl(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    page = _page(r, split, ("table", "invoice"))
    g = next(g for g in page.regions if g.table is not None)
    lh = float(np.median([ln.box[3] - ln.box[1] for ln in g.lines])) if g.lines else 10.0
    img, frac = page.render_clip(g.box, lh, table_line_px(cfg.tiling.line_px) * r.uniform(0.9, 1.1),
                             pad=r.uniform(2, 8))
    return Sample(prepare_image(img, cfg, "native", region=frac), "<task_table>",
                  table_to_otsl(g.table))


def _page_views(page, r: random.Random, cfg: DocVLMConfig):
    img = page.render(r.uniform(90, 130))
    if r.random() < 0.4:
        img, _ = degrade(img, r, strength=r.uniform(0.3, 0.8), rotate_max=0.0)
    return prepare_image(img, cfg, "tiles")


def layout(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    page = _page(r, split)
    n = cfg.vocab.n_loc_bins
    regs = [(g.label, (g.box[0] / page.width, g.box[1] / page.height, g.box[2] / page.width,
                       g.box[3] / page.height)) for g in page.regions]
    anchors = []
    if r.random() < 0.3:  # anchored mode: the text layer's words with their boxes
        anchors = [(w.text, (w.box[0] / page.width, w.box[1] / page.height,
                             w.box[2] / page.width, w.box[3] / page.height))
                   for g in page.regions for ln in g.lines for w in ln.words][:MAX_ANCHORS]
    return Sample(_page_views(page, r, cfg), "<task_layout>", layout_target(regs, n),
                  anchors=anchors)


def _kv_value(v) -> str | bool | None:
    return v


def key_values(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    page = _page(r, split, ("form", "invoice", "receipt"))
    pairs = [(kv.key, _kv_value(kv.value)) for kv in page.kv]
    return Sample(_page_views(page, r, cfg), "<task_kv>", kv_target(pairs))


def question(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    page = _page(r, split, ("form", "invoice", "receipt"))
    kv = r.choice(page.kv)
    ans = ("yes" if kv.value else "no") if isinstance(kv.value, bool) else (
        kv.value if kv.value is not None else "<null>")
    return Sample(_page_views(page, r, cfg), f"<task_qa>What is the {kv.key}?", ans)


def to_json(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    page = _page(r, split, ("form", "invoice", "receipt"))
    keys = r.sample([kv.key for kv in page.kv], min(len(page.kv), r.randint(1, 4)))
    if r.random() < 0.2:
        keys.append(r.choice(["Order number", "IBAN", "Signature date"]))  # absent: null
    values = {kv.key: kv.value for kv in page.kv}
    target = json.dumps({k: values.get(k) for k in keys}, ensure_ascii=False)
    return Sample(_page_views(page, r, cfg), "<task_json>" + json.dumps(keys), target)


BUILDERS.update({"read_region": read_region, "table": table_otsl, "layout": layout,
                 "kv": key_values, "qa": question, "json": to_json})
