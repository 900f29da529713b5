"""The composed model configuration (vision, tiling, pruning, projector, LLM, vocabulary).

Saved as ``config.json`` beside ``model.safetensors``; :func:`DocVLMConfig.load` restores it
exactly. Presets: ``tiny`` (tests), ``small`` (the shipped model, trainable on 2 CPU cores),
``base`` (a real SigLIP-base + a Qwen2-0.5B-shaped LM, for users with a GPU).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal


@dataclass
class VisionConfig:
    """A SigLIP vision tower (transformers' ``SiglipVisionConfig`` fields)."""

    hidden_size: int = 256
    intermediate_size: int = 1024
    num_hidden_layers: int = 6
    num_attention_heads: int = 4
    num_channels: int = 1  # 1 = gray pages (documents); real SigLIP checkpoints use 3
    image_size: int = 384  # the square size its position embeddings were trained at
    patch_size: int = 16
    # "patch": SigLIP's own linear patch embedding (what real checkpoints have);
    # "conv": a convolutional stem of stride-2 3x3 convolutions down to the same patch grid
    # (Xiao et al. 2021, "Early convolutions help transformers see better": ViTs trained
    # from scratch converge faster and more robustly with it; it is what makes the scratch
    # encoder learn to read on two CPU cores)
    stem: Literal["patch", "conv"] = "patch"
    pretrained: str | None = None  # local directory of a SigLIP checkpoint


@dataclass
class TilingConfig:
    """InternVL dynamic tiling for page views; native (one variable-size view) for crops."""

    tile_size: int = 384
    min_tiles: int = 1
    max_tiles: int = 6
    thumbnail: bool = True
    # native mode: longest side and total patch budget of a crop view
    native_max_side: int = 1024
    native_max_patches: int = 1024
    # text scale the model reads at: a line crop (with its usual padding) this many pixels
    # tall; crops are scaled to it in training and inference (docvlm.crops)
    line_px: int = 64
    # how much wider than tall a line is drawn for the model (``crops.model_line``): more
    # encoder columns, so more reading-head frames, per letter of condensed print
    line_widen: float = 1.0


@dataclass
class PruningConfig:
    """Blank-patch pruning before the encoder; optional budgeted pruning after it."""

    blank_prune: bool = True
    ink_delta: int = 40  # a pixel is ink when darker than the view's paper level by this
    min_ink_pixels: int = 3  # per merge group; fewer means blank (scanner specks)
    post_method: Literal["none", "redundancy", "attention"] = "none"
    post_budget: float = 1.0  # fraction of tokens kept by post-encoder pruning


@dataclass
class ProjectorConfig:
    merge: Literal["shuffle2x2", "h1x4"] = "shuffle2x2"
    hidden_size: int = 0  # 0 = the LLM's hidden size

    @property
    def group(self) -> tuple[int, int]:
        """(rows, cols) of patches merged into one token."""
        return (2, 2) if self.merge == "shuffle2x2" else (1, 4)


@dataclass
class LMConfig:
    """A Qwen2-family causal LM (transformers' ``Qwen2Config`` fields)."""

    hidden_size: int = 384
    intermediate_size: int = 1024
    num_hidden_layers: int = 6
    num_attention_heads: int = 6
    num_key_value_heads: int = 2
    max_position_embeddings: int = 2048
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True
    pretrained: str | None = None  # local directory of a Qwen2/Llama checkpoint


@dataclass
class VocabConfig:
    n_loc_bins: int = 500  # <loc_0> .. <loc_499>
    layout_bins: int = 1000  # resolution of the 2-D layout position embedding
    bpe_vocab_size: int = 1024  # byte-level BPE size for the model's own tokenizer
    max_new_tokens: int = 512


@dataclass
class DocVLMConfig:
    vision: VisionConfig = field(default_factory=VisionConfig)
    tiling: TilingConfig = field(default_factory=TilingConfig)
    pruning: PruningConfig = field(default_factory=PruningConfig)
    projector: ProjectorConfig = field(default_factory=ProjectorConfig)
    lm: LMConfig = field(default_factory=LMConfig)
    vocab: VocabConfig = field(default_factory=VocabConfig)
    ctc_head: bool = True  # reading head on the encoder (the `reading` stage)
    ctc_frames: int = 4  # CTC frames per patch column (CTC needs more frames than chars)
    preset: str = "small"
    # what these weights were trained on (the trainer adds each stage's tasks): a model
    # never trained on page layout gets its regions from classical segmentation
    trained_tasks: list[str] = field(default_factory=list)
    # how text lines are read at inference: "decoder" (the LM, autoregressive) or "ctc"
    # (the reading head on the encoder: one pass, several times faster); export picks the
    # one with the lower held-out CER
    read_with: Literal["decoder", "ctc"] = "decoder"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DocVLMConfig:
        subs = {f.name: f.type for f in fields(cls)}
        kwargs = {}
        for k, v in d.items():
            if k not in subs:
                raise ValueError(f"unknown config key {k!r}")
            sub = _SUBCONFIGS.get(k)
            kwargs[k] = sub(**v) if sub else v
        return cls(**kwargs)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / "config.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> DocVLMConfig:
        return cls.from_dict(json.loads((Path(folder) / "config.json").read_text()))

    @classmethod
    def preset_named(cls, name: str) -> DocVLMConfig:
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return cls.from_dict(PRESETS[name])


_SUBCONFIGS = {"vision": VisionConfig, "tiling": TilingConfig, "pruning": PruningConfig,
               "projector": ProjectorConfig, "lm": LMConfig, "vocab": VocabConfig}

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "preset": "tiny",
        "vision": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "image_size": 64, "patch_size": 16},
        "tiling": {"tile_size": 64, "max_tiles": 4, "native_max_side": 256,
                   "native_max_patches": 128},
        "lm": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 2,
               "max_position_embeddings": 1024},
        "vocab": {"bpe_vocab_size": 300, "max_new_tokens": 64},
    },
    # the shipped model: a conv-stem encoder reading 32-px text lines (the usual OCR line
    # height: CRNN, Tesseract's LSTM), six CTC frames per 16-px column
    "small": {"preset": "small", "vision": {"stem": "conv"}, "tiling": {"line_px": 32},
              "ctc_frames": 6},
    "base": {
        "preset": "base",
        "vision": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                   "num_attention_heads": 12, "num_channels": 3, "image_size": 224,
                   "patch_size": 16},
        "tiling": {"tile_size": 448, "max_tiles": 12, "native_max_side": 1792,
                   "native_max_patches": 4096},
        "lm": {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
               "num_attention_heads": 14, "num_key_value_heads": 2,
               "max_position_embeddings": 32768, "rope_theta": 1000000.0},
        "ctc_head": False,
    },
}
