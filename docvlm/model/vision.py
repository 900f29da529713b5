"""Vision side: view preparation with blank-patch pruning (numpy), the SigLIP tower that
encodes only kept patches (torch), optional post-encoder pruning, and the projector.

Pruning unit = merge group (2x2 patches for pixel shuffle, 1x4 for the H-reducer), so every
kept group reaches the projector whole. Blank groups (no ink) are dropped *before* the
encoder: documents are mostly paper, and attention cost is quadratic in tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import SiglipVisionConfig, SiglipVisionModel

from docvlm.crops import model_line
from docvlm.model.config import DocVLMConfig, ProjectorConfig, PruningConfig, VisionConfig
from docvlm.model.tiling import View, native_view, tile_views


# ---------------------------------------------------------------- views (numpy)
@dataclass
class ViewInput:
    """One encoder input. ``patch_idx`` lists kept patches group by group (row-major groups,
    row-major patches inside a group); ``boxes`` holds each kept group's rectangle as
    fractions of the page (x0, y0, x1, y1)."""

    pixels: np.ndarray  # (C, H, W) float32 in [-1, 1]
    patch_idx: np.ndarray  # (n_kept_groups * group_size,) int64
    boxes: np.ndarray  # (n_kept_groups, 4) float32
    total_groups: int

    @property
    def n_tokens(self) -> int:
        return len(self.boxes)


def _groups_with_ink(img: np.ndarray, patch: int, gr: int, gc: int, cfg: PruningConfig
                     ) -> np.ndarray:
    """Boolean (rows_of_groups, cols_of_groups): does the group hold ink?"""
    h, w = img.shape
    paper = float(np.percentile(img, 95))
    ink = (img < paper - cfg.ink_delta).astype(np.int32)
    gh, gw = h // (patch * gr), w // (patch * gc)
    counts = ink[: gh * patch * gr, : gw * patch * gc].reshape(
        gh, patch * gr, gw, patch * gc).sum(axis=(1, 3))
    return counts >= cfg.min_ink_pixels


def prepare_view(gray: np.ndarray, view: View, region: tuple[float, float, float, float],
                 cfg: DocVLMConfig) -> ViewInput:
    """Resize ``view.src`` of ``gray`` to the view size, find blank groups, and place each
    group on the page. ``region`` is where ``gray`` lies on the page (fractions)."""
    p = cfg.vision.patch_size
    gr, gc = cfg.projector.group
    x0, y0, x1, y1 = view.src
    crop = gray[int(y0) : max(int(y0) + 1, int(round(y1))), int(x0) : max(int(x0) + 1,
                                                                        int(round(x1)))]
    interp = cv2.INTER_AREA if crop.shape[1] > view.width else cv2.INTER_LINEAR
    img = cv2.resize(crop, (view.width, view.height), interpolation=interp)
    gh, gw = view.height // (p * gr), view.width // (p * gc)
    if cfg.pruning.blank_prune:
        keep = _groups_with_ink(img, p, gr, gc, cfg.pruning)
        if not keep.any():  # an all-blank view still gets one token so it is represented
            keep[0, 0] = True
    else:
        keep = np.ones((gh, gw), dtype=bool)
    rows, cols = np.nonzero(keep)
    pw = view.width // p  # patches per row
    dr, dc = np.meshgrid(np.arange(gr), np.arange(gc), indexing="ij")
    patch_idx = ((rows[:, None] * gr + dr.reshape(1, -1)) * pw
                 + cols[:, None] * gc + dc.reshape(1, -1)).reshape(-1)
    # group rectangles: view pixels -> source pixels -> page fractions
    rx0, ry0, rx1, ry1 = region
    src_w, src_h = gray.shape[1], gray.shape[0]
    fx = (x1 - x0) / gw / src_w * (rx1 - rx0)
    fy = (y1 - y0) / gh / src_h * (ry1 - ry0)
    bx0 = rx0 + x0 / src_w * (rx1 - rx0) + cols * fx
    by0 = ry0 + y0 / src_h * (ry1 - ry0) + rows * fy
    boxes = np.stack([bx0, by0, bx0 + fx, by0 + fy], axis=1).astype(np.float32)
    pixels = img.astype(np.float32) / 127.5 - 1.0
    pixels = np.repeat(pixels[None], cfg.vision.num_channels, axis=0)
    return ViewInput(pixels, patch_idx.astype(np.int64), boxes, gh * gw)


def prepare_image(gray: np.ndarray, cfg: DocVLMConfig, mode: str = "tiles",
                  region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
                  ) -> list[ViewInput]:
    """Views of a page (``mode='tiles'``: InternVL tiles + thumbnail) or of a crop
    (``'native'``: one view at its own aspect ratio; ``'line'``: a text line, not cut down
    to ``native_max_side``) lying at ``region`` on the page."""
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    t = cfg.tiling
    if mode == "tiles":
        views = tile_views(w, h, t.tile_size, t.min_tiles, t.max_tiles, t.thumbnail)
    elif mode in ("native", "line"):
        p = cfg.vision.patch_size
        gr, gc = cfg.projector.group
        # a text line (``crops.model_line``) is kept at its own size, however long, within
        # the patch budget: a long line cut down to ``native_max_side`` would be squeezed
        # sideways only (its height stays one unit), its letters narrower than trained
        side = max(t.native_max_side, w) if mode == "line" else t.native_max_side
        views = [native_view(w, h, p * gc, p * gr, side, t.native_max_patches, p)]
    else:
        raise ValueError(f"unknown view mode {mode!r}")
    return [prepare_view(gray, v, region, cfg) for v in views]


def line_views(gray: np.ndarray, cfg: DocVLMConfig,
               region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0), *,
               glyph: float | None = None, jitter: float = 1.0, widen: float = 1.0
               ) -> list[ViewInput]:
    """One text line as the model reads it, in training and inference alike: drawn at its
    text scale and width (:func:`docvlm.crops.model_line`), one ``'line'`` view."""
    img = model_line(gray, cfg.tiling, glyph=glyph, jitter=jitter, widen=widen)
    return prepare_image(img, cfg, "line", region)


# ---------------------------------------------------------------- the tower (torch)
def siglip_config(v: VisionConfig) -> SiglipVisionConfig:
    return SiglipVisionConfig(
        hidden_size=v.hidden_size, intermediate_size=v.intermediate_size,
        num_hidden_layers=v.num_hidden_layers, num_attention_heads=v.num_attention_heads,
        num_channels=v.num_channels, image_size=v.image_size, patch_size=v.patch_size,
        vision_use_head=False, attn_implementation="sdpa")


class ConvStem(nn.Module):
    """Stride-2 3x3 convolutions (GELU between) from pixels to the patch grid, then a 1x1
    projection: a drop-in for SigLIP's ``patch_embedding`` (same input, same output grid:
    one D-vector per ``patch`` x ``patch`` cell), with overlapping receptive fields."""

    def __init__(self, channels: int, dim: int, patch: int) -> None:
        super().__init__()
        n = int(round(np.log2(patch)))
        if 2 ** n != patch:
            raise ValueError(f"a conv stem needs a power-of-two patch size, not {patch}")
        widths = [channels] + [min(dim, 32 * 2 ** i) for i in range(n)]
        layers: list[nn.Module] = []
        for a, b in pairwise(widths):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.GELU()]
        layers.append(nn.Conv2d(widths[-1], dim, 1))
        self.layers = nn.Sequential(*layers)

    @property
    def weight(self) -> torch.Tensor:  # device/dtype probe, like a Conv2d's
        return self.layers[0].weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class VisionTower(nn.Module):
    """SigLIP (transformers' ``SiglipVisionModel``, so real checkpoints load unchanged) run
    on kept patches only: patch embedding + interpolated position embedding for the whole
    grid (cheap: one conv), gather the kept patches, then the encoder on a padded batch."""

    def __init__(self, siglip: SiglipVisionModel, stem: str = "patch") -> None:
        super().__init__()
        self.siglip = siglip
        self.patch = siglip.config.patch_size
        self.hidden = siglip.config.hidden_size
        if stem == "conv":
            self._parts()[0].patch_embedding = ConvStem(siglip.config.num_channels,
                                                        self.hidden, self.patch)
        elif stem != "patch":
            raise ValueError(f"unknown vision stem {stem!r}")

    @classmethod
    def from_config(cls, v: VisionConfig) -> VisionTower:
        if v.pretrained:
            if v.stem != "patch":
                raise ValueError("a pretrained SigLIP has its own patch embedding: "
                                 "use stem='patch' with vision.pretrained")
            return cls(SiglipVisionModel.from_pretrained(v.pretrained, attn_implementation="sdpa"))
        return cls(SiglipVisionModel(siglip_config(v)), v.stem)

    def _pos(self, gh: int, gw: int, like: torch.Tensor) -> torch.Tensor:
        emb = self.siglip.vision_model.embeddings if hasattr(self.siglip, "vision_model") \
            else self.siglip.embeddings
        n = emb.position_embedding.weight.shape[0]
        side = int(round(n ** 0.5))
        if (gh, gw) == (side, side):
            return emb.position_embedding.weight.unsqueeze(0)
        return emb.interpolate_pos_encoding(like, gh * self.patch, gw * self.patch)

    def _parts(self):
        m = self.siglip.vision_model if hasattr(self.siglip, "vision_model") else self.siglip
        return m.embeddings, m.encoder, m.post_layernorm

    def forward(self, views: list[ViewInput], return_attention: bool = False):
        """Encode views; returns a list of (n_kept_patches_i, D) tensors (and, if asked,
        the attention each kept patch receives in the last layer, averaged over heads)."""
        embeddings, encoder, post_ln = self._parts()
        device = embeddings.patch_embedding.weight.device
        dtype = embeddings.patch_embedding.weight.dtype
        seqs: list[torch.Tensor | None] = [None] * len(views)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, v in enumerate(views):
            by_shape.setdefault(v.pixels.shape, []).append(i)
        for idxs in by_shape.values():
            px = torch.from_numpy(np.stack([views[i].pixels for i in idxs])).to(device, dtype)
            x = embeddings.patch_embedding(px)  # (b, D, gh, gw)
            gh, gw = x.shape[-2:]
            x = x.flatten(2).transpose(1, 2)  # (b, gh*gw, D)
            x = x + self._pos(gh, gw, x)
            for b, i in enumerate(idxs):
                seqs[i] = x[b, torch.from_numpy(views[i].patch_idx).to(device)]
        lengths = [s.shape[0] for s in seqs]
        L = max(lengths)
        x = torch.zeros(len(seqs), L, self.hidden, device=device, dtype=dtype)
        keymask = torch.zeros(len(seqs), L, dtype=torch.bool, device=device)
        for i, s in enumerate(seqs):
            x[i, : len(s)] = s
            keymask[i, : len(s)] = True
        mask = None
        if not all(n == L for n in lengths):
            mask = torch.zeros(len(seqs), 1, 1, L, device=device, dtype=dtype)
            mask.masked_fill_(~keymask[:, None, None, :], torch.finfo(dtype).min)
        layers = encoder.layers
        for layer in layers[:-1]:
            x = layer(x, mask)
        last_in = x
        x = layers[-1](x, mask)
        x = post_ln(x)
        out = [x[i, : n] for i, n in enumerate(lengths)]
        if not return_attention:
            return out
        att = self._received_attention(layers[-1], last_in, mask)
        return out, [att[i, :n] for i, n in enumerate(lengths)]

    @staticmethod
    def _received_attention(layer, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Mean attention each token receives in ``layer`` (FastV's ranking signal)."""
        attn = layer.self_attn
        h = layer.layer_norm1(x)
        b, t, _ = h.shape
        q = attn.q_proj(h).view(b, t, attn.num_heads, attn.head_dim).transpose(1, 2)
        k = attn.k_proj(h).view(b, t, attn.num_heads, attn.head_dim).transpose(1, 2)
        w = (q @ k.transpose(-1, -2)) * attn.scale
        if mask is not None:
            w = w + mask
        w = w.softmax(-1)  # (b, heads, t, t)
        return w.mean(1).mean(1)  # (b, t): averaged over heads and queries


def post_prune(tokens: torch.Tensor, budget: float, method: str,
               attention: torch.Tensor | None = None) -> torch.Tensor:
    """Indices (sorted) of the tokens to keep from ``tokens`` (N, D) under ``budget``.

    ``redundancy`` (TextMonkey, Liu et al. 2024): rank tokens by their highest cosine
    similarity to any other token and keep the least redundant. ``attention`` (FastV, Chen et
    al. 2024): keep the most attended tokens."""
    n = tokens.shape[0]
    k = max(1, int(round(n * budget)))
    if method == "none" or k >= n:
        return torch.arange(n, device=tokens.device)
    if method == "redundancy":
        z = F.normalize(tokens.float(), dim=-1)
        sim = z @ z.T
        sim.fill_diagonal_(-1.0)
        score = -sim.max(dim=1).values
    elif method == "attention":
        assert attention is not None, "attention pruning needs the tower's attention"
        score = attention.float()
    else:
        raise ValueError(f"unknown post-encoder pruning {method!r}")
    return score.topk(k).indices.sort().values


# ---------------------------------------------------------------- projector
class Projector(nn.Module):
    """Token merge (pixel shuffle 2x2, InternVL/Idefics3; or 1x4 horizontal, DocOwl 1.5's
    H-Reducer) then a 2-layer MLP into the LLM's width. Input: kept patches group by group."""

    def __init__(self, cfg: ProjectorConfig, vision_dim: int, lm_dim: int) -> None:
        super().__init__()
        gr, gc = cfg.group
        self.group = gr * gc
        hidden = cfg.hidden_size or lm_dim
        self.norm = nn.LayerNorm(vision_dim * self.group)
        self.fc1 = nn.Linear(vision_dim * self.group, hidden)
        self.fc2 = nn.Linear(hidden, lm_dim)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        n, d = patches.shape
        assert n % self.group == 0, f"{n} patches do not form whole groups of {self.group}"
        x = patches.reshape(n // self.group, self.group * d)  # (groups, group*D)
        return self.fc2(F.gelu(self.fc1(self.norm(x))))  # (groups, H)


class LayoutEmbedding(nn.Module):
    """LayoutLM-style 2-D position of a box on the page: sum of x0, y0, x1, y1 embeddings
    (bins of the page side). Added to visual tokens (their page rectangle, whatever the tile)
    and to anchor words from a text layer (their box)."""

    def __init__(self, bins: int, dim: int) -> None:
        super().__init__()
        self.bins = bins
        self.x = nn.Embedding(bins, dim)
        self.y = nn.Embedding(bins, dim)
        for e in (self.x, self.y):
            nn.init.normal_(e.weight, std=0.02)

    def forward(self, boxes: torch.Tensor) -> torch.Tensor:
        b = (boxes.clamp(0, 1 - 1e-6) * self.bins).long()  # (..., 4)
        return self.x(b[..., 0]) + self.y(b[..., 1]) + self.x(b[..., 2]) + self.y(b[..., 3])
