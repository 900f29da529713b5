"""On-the-fly training data: worker processes render samples and collate batches.

Sample ``i`` of a run is generated from its own seed (run seed, i), so a run resumed at
sample ``n`` sees exactly the samples it would have seen, and workers split indices
round-robin without coordination.
"""

from __future__ import annotations

import hashlib
import random

import torch
from torch.utils.data import IterableDataset, get_worker_info

from docvlm.model.config import DocVLMConfig
from docvlm.model.processor import collate
from docvlm.model.tokenizer import DocTokenizer
from docvlm.train.tasks import BUILDERS


def sample_rng(seed: int, index: int, salt: str = "") -> random.Random:
    h = hashlib.blake2b(f"{seed}:{index}:{salt}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(h, "little"))


class TaskStream(IterableDataset):
    """Batches of ``batch_size`` samples drawn from ``mix`` (task -> weight), starting at
    batch number ``start_batch``; yields ``(batch_index, Batch)``."""

    def __init__(self, cfg: DocVLMConfig, tokenizer: DocTokenizer, mix: dict[str, float],
                 batch_size: int, seed: int, split: str = "train", start_batch: int = 0,
                 n_batches: int | None = None) -> None:
        unknown = set(mix) - set(BUILDERS)
        if unknown:
            raise ValueError(f"unknown tasks {sorted(unknown)}; known: {sorted(BUILDERS)}")
        self.cfg, self.tok, self.batch_size = cfg, tokenizer, batch_size
        self.tasks = [t for t, w in mix.items() if w > 0]
        self.weights = [mix[t] for t in self.tasks]
        self.seed, self.split, self.start = seed, split, start_batch
        self.n_batches = n_batches

    def make_batch(self, b: int):
        samples = []
        for j in range(self.batch_size):
            r = sample_rng(self.seed, b * self.batch_size + j, self.split)
            task = r.choices(self.tasks, self.weights)[0]
            samples.append(BUILDERS[task](r, self.split, self.cfg))
        return collate(self.tok, samples)

    def __iter__(self):
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        b = self.start + wid
        end = None if self.n_batches is None else self.start + self.n_batches
        while end is None or b < end:
            yield b, self.make_batch(b)
            b += nw


def worker_init(_: int) -> None:
    import cv2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
