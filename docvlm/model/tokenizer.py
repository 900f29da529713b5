"""Vocabulary: a byte-level BPE (``tokenizers``) plus docvlm's special tokens.

Special tokens (atomic, never split): control (``<pad> <bos> <eos> <image>``), tasks
(``<task_read>`` ...), region labels (``<lbl_title>`` ...), location tokens
``<loc_0>``..``<loc_{n-1}>`` (x0, y0, x1, y1 normalised to the page, as DocTags does), OTSL
table tokens (``<fcel> <ecel> <lcel> <ucel> <xcel> <nl>``, Lysak et al. 2023) and key/value
markers. A model trained here uses its own small BPE (small vocabularies learn faster on a
CPU); a pretrained LM keeps its tokenizer and gets the same special tokens added.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from schemas import RegionLabel

CONTROL = ["<pad>", "<bos>", "<eos>", "<image>", "<anchor>"]
TASKS = ["<task_read>", "<task_layout>", "<task_table>", "<task_kv>", "<task_qa>",
         "<task_json>"]
OTSL = ["<fcel>", "<ecel>", "<lcel>", "<ucel>", "<xcel>", "<nl>", "<ched>", "<rhed>"]
MARKS = ["<region>", "</region>", "<key>", "<val>", "<sep>", "<null>", "<check>", "<uncheck>"]
LABELS = [f"<lbl_{lab.value}>" for lab in RegionLabel]


def special_tokens(n_loc_bins: int) -> list[str]:
    return CONTROL + TASKS + OTSL + MARKS + LABELS + [f"<loc_{i}>" for i in range(n_loc_bins)]


class DocTokenizer:
    """A ``tokenizers.Tokenizer`` with docvlm's special tokens and their ids as attributes."""

    def __init__(self, tok: Tokenizer, n_loc_bins: int) -> None:
        self.tok = tok
        self.n_loc_bins = n_loc_bins
        missing = [t for t in special_tokens(n_loc_bins) if tok.token_to_id(t) is None]
        if missing:
            tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                    for t in missing])
        ids = {t: tok.token_to_id(t) for t in special_tokens(n_loc_bins)}
        self.special_ids = ids
        self.pad_id, self.bos_id, self.eos_id = ids["<pad>"], ids["<bos>"], ids["<eos>"]
        self.image_id, self.anchor_id = ids["<image>"], ids["<anchor>"]
        self.loc_ids = [ids[f"<loc_{i}>"] for i in range(n_loc_bins)]
        self._loc_index = {t: i for i, t in enumerate(self.loc_ids)}

    # ---------------------------------------------------------------- construction
    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, n_loc_bins: int) -> DocTokenizer:
        """Train a byte-level BPE on ``texts`` (``vocab_size`` excludes special tokens)."""
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False, special_tokens=[])
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok, n_loc_bins)

    @classmethod
    def from_file(cls, path: str | Path, n_loc_bins: int) -> DocTokenizer:
        """Load ``tokenizer.json`` (ours, or a pretrained LM's: specials are added to it)."""
        return cls(Tokenizer.from_file(str(path)), n_loc_bins)

    def save(self, path: str | Path) -> None:
        self.tok.save(str(path))

    def __len__(self) -> int:
        return self.tok.get_vocab_size(with_added_tokens=True)

    # ---------------------------------------------------------------- encode / decode
    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Iterable[int], skip_special: bool = False) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=skip_special)

    def token(self, name: str) -> int:
        return self.special_ids[name]

    def id_to_token(self, i: int) -> str | None:
        return self.tok.id_to_token(i)

    def loc_bin(self, token_id: int) -> int | None:
        """The bin of a location token id, or None for any other token."""
        return self._loc_index.get(token_id)
