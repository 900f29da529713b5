"""Samples -> token ids, labels and layout boxes; batches for training and generation.

A sequence reads ``<bos> <image>*N prompt [<anchor> words...] target <eos>``: the N image
placeholders are replaced by the N visual tokens inside the model (early fusion), the loss is
on the target only. Anchor words (a PDF text layer) carry their box for the layout embedding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from docvlm.model.tokenizer import DocTokenizer
from docvlm.model.vision import ViewInput

MAX_ANCHORS = 200  # text-layer words given to a prompt in anchored mode (sequence budget)


@dataclass
class Sample:
    views: list[ViewInput]
    prompt: str  # task token and question, e.g. "<task_read>"
    target: str | None = None  # training target (None when generating)
    anchors: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    ctc_text: str | None = None  # reading-head target (single-line crops)

    @property
    def n_visual(self) -> int:
        return sum(v.n_tokens for v in self.views)


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, T)
    attention_mask: torch.Tensor  # (B, T)
    labels: torch.Tensor | None  # (B, T), -100 where no loss
    layout_boxes: torch.Tensor  # (B, T, 4) page fractions for anchor tokens
    layout_mask: torch.Tensor  # (B, T) bool: anchor tokens
    views: list[ViewInput]  # all samples' views, sample by sample
    ctc_targets: list[bytes | None]  # per view (None: no reading-head loss)

    def __len__(self) -> int:
        return self.input_ids.shape[0]


def encode_sample(tok: DocTokenizer, s: Sample) -> tuple[list[int], list[int], np.ndarray,
                                                          np.ndarray]:
    ids = [tok.bos_id] + [tok.image_id] * s.n_visual + tok.encode(s.prompt)
    boxes = [(0.0, 0.0, 0.0, 0.0)] * len(ids)
    mask = [False] * len(ids)
    if s.anchors:
        ids.append(tok.anchor_id)
        boxes.append((0.0, 0.0, 0.0, 0.0))
        mask.append(False)
        for text, box in s.anchors:
            w = tok.encode(" " + text)
            ids += w
            boxes += [box] * len(w)
            mask += [True] * len(w)
    labels = [-100] * len(ids)
    if s.target is not None:
        t = tok.encode(s.target) + [tok.eos_id]
        ids += t
        labels += t
        boxes += [(0.0, 0.0, 0.0, 0.0)] * len(t)
        mask += [False] * len(t)
    return ids, labels, np.asarray(boxes, np.float32), np.asarray(mask, bool)


def collate(tok: DocTokenizer, samples: list[Sample], *, left_pad: bool = False) -> Batch:
    """Pad to the longest sequence (right for training, left for generation)."""
    enc = [encode_sample(tok, s) for s in samples]
    T = max(len(e[0]) for e in enc)
    B = len(samples)
    ids = torch.full((B, T), tok.pad_id, dtype=torch.long)
    att = torch.zeros((B, T), dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    boxes = torch.zeros((B, T, 4), dtype=torch.float32)
    lmask = torch.zeros((B, T), dtype=torch.bool)
    for i, (x, y, b, m) in enumerate(enc):
        n = len(x)
        sl = slice(T - n, T) if left_pad else slice(0, n)
        ids[i, sl] = torch.tensor(x)
        att[i, sl] = 1
        labels[i, sl] = torch.tensor(y)
        boxes[i, sl] = torch.from_numpy(b)
        lmask[i, sl] = torch.from_numpy(m)
    views = [v for s in samples for v in s.views]
    ctc = []
    for s in samples:
        t = s.ctc_text.encode("utf-8") if s.ctc_text is not None else None
        ctc += [t] + [None] * (len(s.views) - 1)
    has_target = any(s.target is not None for s in samples)
    return Batch(ids, att, labels if has_target else None, boxes, lmask, views, ctc)
