"""The fused document VLM: SigLIP tower -> projector (+ 2-D layout embedding) -> causal LM.

Early fusion as in LLaVA: ``<image>`` placeholders in the token sequence are replaced by the
projected visual tokens through a mask (``masked_scatter``); a count mismatch raises a
``ValueError`` naming both counts. Every visual token also gets the layout embedding of its
rectangle on the page, so tiling and pruning never lose where it is. An optional CTC reading
head on the encoder (the ``reading`` stage) makes the tower learn to read before fusion.

Saved as ``config.json`` + ``model.safetensors`` + ``tokenizer.json`` (+ the transformers
configs of the two towers, so pretrained architectures round-trip).
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    Qwen2Config,
    SiglipVisionConfig,
    SiglipVisionModel,
    StoppingCriteria,
    StoppingCriteriaList,
)

from docvlm.model.config import DocVLMConfig
from docvlm.model.processor import Batch
from docvlm.model.tokenizer import DocTokenizer
from docvlm.model.vision import LayoutEmbedding, Projector, VisionTower, post_prune

log = logging.getLogger(__name__)

CTC_CLASSES = 257  # blank + 256 byte values


@dataclass
class Generated:
    token_ids: list[int]
    text: str  # decoded with special tokens kept (for the codecs)
    token_confidence: list[float]  # probability of each generated token
    plain: bool = False  # text holds no special tokens (the reading head's output)
    score: float | None = None  # reading head: mean log-probability of the greedy path
    log_probs: torch.Tensor | None = field(default=None, repr=False)  # reading head, when
    # asked: (frames, CTC_CLASSES) log-probabilities the text was read from

    @property
    def confidence(self) -> float:
        """Geometric mean of token probabilities (1.0 for an empty output)."""
        if not self.token_confidence:
            return 1.0
        t = torch.tensor(self.token_confidence).clamp_min(1e-9)
        return float(t.log().mean().exp())


class RepetitionGuard(StoppingCriteria):
    """Stop a sequence whose tail repeats one pattern of 1..``max_period`` tokens more than
    ``max_repeats`` times (small models loop on hard inputs)."""

    def __init__(self, max_period: int = 8, max_repeats: int = 6) -> None:
        self.max_period, self.max_repeats = max_period, max_repeats

    def __call__(self, input_ids: torch.Tensor, scores, **kw) -> torch.Tensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for b in range(input_ids.shape[0]):
            seq = input_ids[b].tolist()
            for p in range(1, self.max_period + 1):
                n = p * (self.max_repeats + 1)
                if len(seq) >= n and seq[-n:] == seq[-p:] * (self.max_repeats + 1):
                    done[b] = True
                    break
        return done


class DocVLM(nn.Module):
    def __init__(self, cfg: DocVLMConfig, tokenizer: DocTokenizer, tower: VisionTower,
                 lm: nn.Module) -> None:
        super().__init__()
        self.cfg = cfg
        self.tokenizer = tokenizer
        self.tower = tower
        self.lm = lm
        lm_dim = lm.config.hidden_size
        self.projector = Projector(cfg.projector, tower.hidden, lm_dim)
        self.layout = LayoutEmbedding(cfg.vocab.layout_bins, lm_dim)
        self.ctc = (nn.Linear(tower.hidden, CTC_CLASSES * cfg.ctc_frames) if cfg.ctc_head
                    else None)
        self.int8 = False  # linear layers quantized (quantize_int8)

    # ---------------------------------------------------------------- construction
    @classmethod
    def build(cls, cfg: DocVLMConfig, tokenizer: DocTokenizer) -> DocVLM:
        """Random init, or the pretrained towers named in ``cfg`` (local directories)."""
        tower = VisionTower.from_config(cfg.vision)
        if cfg.lm.pretrained:
            lm = AutoModelForCausalLM.from_pretrained(cfg.lm.pretrained,
                                                      attn_implementation="sdpa")
            lm.resize_token_embeddings(len(tokenizer))
        else:
            lm = AutoModelForCausalLM.from_config(qwen2_config(cfg, tokenizer),
                                                  attn_implementation="sdpa")
        lm.config.pad_token_id = tokenizer.pad_id
        lm.config.bos_token_id = tokenizer.bos_id
        lm.config.eos_token_id = tokenizer.eos_id
        lm.generation_config.pad_token_id = tokenizer.pad_id
        lm.generation_config.bos_token_id = tokenizer.bos_id
        lm.generation_config.eos_token_id = tokenizer.eos_id
        return cls(cfg, tokenizer, tower, lm)

    def save(self, folder: str | Path, dtype: torch.dtype | None = None) -> Path:
        """Write config.json, model.safetensors, tokenizer.json and the towers' configs."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.cfg.save(folder)
        self.tokenizer.save(folder / "tokenizer.json")
        (folder / "vision_config.json").write_text(self.tower.siglip.config.to_json_string())
        (folder / "lm_config.json").write_text(self.lm.config.to_json_string())
        state = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v)
                 .contiguous() for k, v in self.state_dict().items()}
        if self.lm.config.tie_word_embeddings:
            state.pop("lm.lm_head.weight", None)  # tied: stored once
        save_file(state, str(folder / "model.safetensors"),
                  metadata={"format": "pt", "docvlm_preset": self.cfg.preset})
        return folder

    @classmethod
    def load(cls, folder: str | Path, device: str | torch.device = "cpu") -> DocVLM:
        from docvlm import errors

        folder = Path(folder)
        for name in ("config.json", "model.safetensors", "tokenizer.json", "vision_config.json",
                     "lm_config.json"):
            if not (folder / name).exists():
                raise errors.ModelError(f"missing {name}", file=folder)
        cfg = DocVLMConfig.load(folder)
        tok = DocTokenizer.from_file(folder / "tokenizer.json", cfg.vocab.n_loc_bins)
        vcfg = SiglipVisionConfig.from_dict(json.loads((folder / "vision_config.json")
                                                       .read_text()))
        vcfg._attn_implementation = "sdpa"
        tower = VisionTower(SiglipVisionModel(vcfg), cfg.vision.stem)
        lcfg_dict = json.loads((folder / "lm_config.json").read_text())
        lcfg = AutoConfig.for_model(**lcfg_dict)
        lm = AutoModelForCausalLM.from_config(lcfg, attn_implementation="sdpa")
        lm.generation_config.pad_token_id = tok.pad_id
        lm.generation_config.bos_token_id = tok.bos_id
        lm.generation_config.eos_token_id = tok.eos_id
        model = cls(cfg, tok, tower, lm)
        state = load_file(str(folder / "model.safetensors"))
        own = model.state_dict()
        state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as e:
            raise errors.ModelError(f"weights do not fit the config: {e}", file=folder) from None
        missing = [k for k in missing if not (k == "lm.lm_head.weight"
                                              and lm.config.tie_word_embeddings)]
        if missing or unexpected:
            raise errors.ModelError(f"weights do not match the config: missing {missing[:5]}, "
                                    f"unexpected {unexpected[:5]}", file=folder)
        if lm.config.tie_word_embeddings:
            lm.tie_weights()
        return model.to(device).eval()

    def quantize_int8(self) -> bool:
        """Make every linear layer (tower, projector, reading head, LM) compute with int8
        weights, activations quantized batch by batch on the fly (PyTorch's dynamic
        quantization), in place, for inference on CPUs: the encoder's matrix products are
        most of the reading time, and int8 ones run about twice as fast (measured in
        ``benchmarks/bench_speed.py``, with the CER next to it). Returns False and leaves
        the model as it was on other devices, or where this PyTorch has no dynamic
        quantization."""
        if self.device.type != "cpu":
            return False
        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError:
            return False
        with warnings.catch_warnings():  # the API's deprecation notices, once per load
            warnings.simplefilter("ignore")
            quantize_dynamic(self, {nn.Linear}, dtype=torch.qint8, inplace=True)
        self.int8 = True
        return True

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ---------------------------------------------------------------- forward pieces
    def encode_views(self, batch: Batch):
        """Visual tokens (N, H) and their page boxes (N, 4), sample by sample, plus the
        CTC loss when the batch has reading targets."""
        device = self.device
        if not batch.views:  # text-only batch (the `lm` stage)
            h = self.projector.fc2.out_features
            return torch.zeros(0, h, device=device), torch.zeros(0, 4, device=device), None
        want_att = self.cfg.pruning.post_method == "attention"
        res = self.tower(batch.views, return_attention=want_att)
        patches, att = (res if want_att else (res, None))
        g = self.projector.group
        tokens, boxes = [], []
        ctc_loss = None
        if self.ctc is not None and any(t is not None for t in batch.ctc_targets):
            ctc_loss = self._ctc_loss(batch, patches)
        for i, (v, p) in enumerate(zip(batch.views, patches)):
            tok = self.projector(p)  # (groups, H)
            bx = torch.from_numpy(v.boxes).to(device)
            if self.cfg.pruning.post_method != "none" and self.cfg.pruning.post_budget < 1:
                a = att[i].reshape(-1, g).mean(1) if att is not None else None
                keep = post_prune(tok, self.cfg.pruning.post_budget,
                                  self.cfg.pruning.post_method, a)
                tok, bx = tok[keep], bx[keep]
            tokens.append(tok)
            boxes.append(bx)
        return torch.cat(tokens), torch.cat(boxes), ctc_loss

    def _column_logits(self, v, feats: torch.Tensor) -> torch.Tensor:
        """Encoder features of one view, averaged per patch column (kept patches only), ->
        ``ctc_frames`` byte logits per column: (columns * frames, 257)."""
        pw = v.pixels.shape[2] // self.cfg.vision.patch_size
        cols = torch.from_numpy(v.patch_idx).to(feats.device) % pw
        summed = torch.zeros(pw, feats.shape[1], device=feats.device, dtype=feats.dtype)
        # contiguous first: index_add_ from a strided view of the batch is ~50x slower on CPU
        summed.index_add_(0, cols, feats.contiguous())
        count = torch.bincount(cols, minlength=pw).clamp_min(1).unsqueeze(1)
        return self.ctc(summed / count).view(pw * self.cfg.ctc_frames, CTC_CLASSES)

    def _ctc_loss(self, batch: Batch, patches: list[torch.Tensor]) -> torch.Tensor:
        """Column-pooled encoder features -> per-column byte logits (CTC, Graves 2006)."""
        logps, in_lens, targets, tgt_lens = [], [], [], []
        for v, feats, t in zip(batch.views, patches, batch.ctc_targets):
            if t is None or len(t) == 0:
                continue
            logits = self._column_logits(v, feats)
            logps.append(logits.log_softmax(-1))
            in_lens.append(logits.shape[0])
            targets.append(torch.tensor(list(t), dtype=torch.long) + 1)
            tgt_lens.append(len(t))
        T = max(in_lens)
        lp = torch.zeros(T, len(logps), CTC_CLASSES, device=logps[0].device)
        for i, x in enumerate(logps):
            lp[: len(x), i] = x
        return F.ctc_loss(lp, torch.cat(targets).to(lp.device), torch.tensor(in_lens),
                          torch.tensor(tgt_lens), blank=0, zero_infinity=True)

    def ctc_decode(self, batch: Batch) -> list[str]:
        """Greedy CTC transcription of each view (the reading head's own output)."""
        return [g.text for g in self.ctc_read(batch.views)]

    @torch.no_grad()
    def ctc_read(self, views: list, keep_log_probs: bool = False) -> list[Generated]:
        """Read each (line) view with the reading head alone: one encoder pass, greedy CTC
        (Graves et al. 2006), no autoregressive decoding. ``token_confidence`` holds the
        probability of each emitted character's best frame; ``keep_log_probs``: each
        reading keeps its frames' log-probabilities (:mod:`docvlm.lexicon` scores other
        texts with them)."""
        if self.ctc is None:
            raise ValueError("this model has no reading head (ctc_head is off)")
        out = []
        for v, feats in zip(views, self.tower(views)):
            logp = self._column_logits(v, feats).float().log_softmax(-1)
            probs = logp.exp()
            p, best = probs.max(-1)
            chars, confs, prev = [], [], 0
            for c, q in zip(best.tolist(), p.tolist()):
                if c != prev and c != 0:
                    chars.append(c - 1)
                    confs.append(q)
                elif c == prev and c != 0 and confs:
                    confs[-1] = max(confs[-1], q)
                prev = c
            text = bytes(chars).decode("utf-8", errors="replace")
            out.append(Generated(list(chars), text, confs or [float(p.min())], plain=True,
                                 score=float(p.clamp_min(1e-9).log().mean()),
                                 log_probs=logp if keep_log_probs else None))
        return out

    def embed(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Input embeddings with visual tokens scattered in at ``<image>`` positions."""
        ids = batch.input_ids.to(self.lm.device)
        emb = self.lm.get_input_embeddings()(ids)  # (B, T, H)
        image_mask = ids == self.tokenizer.image_id
        n_slots = int(image_mask.sum())
        vis, vis_boxes, ctc_loss = self.encode_views(batch)
        if n_slots != vis.shape[0]:
            raise ValueError(f"the prompt has {n_slots} <image> placeholders but the images "
                             f"gave {vis.shape[0]} visual tokens")
        emb = emb.masked_scatter(image_mask.unsqueeze(-1), vis.to(emb.dtype))
        boxes = batch.layout_boxes.to(emb.device).clone()
        boxes[image_mask] = vis_boxes.to(boxes.dtype)
        lmask = batch.layout_mask.to(emb.device) | image_mask
        emb = emb + self.layout(boxes) * lmask.unsqueeze(-1).to(emb.dtype)
        return emb, ctc_loss

    def forward(self, batch: Batch, ctc_weight: float = 1.0,
                lm_weight: float = 1.0) -> dict[str, torch.Tensor]:
        """Losses of one batch: the decoder's next-token loss (``lm_loss``) plus
        ``ctc_weight`` x the reading head's CTC loss. ``lm_weight=0`` runs the encoder and
        the reading head only (no projector, no LM): the `ctc` stage, ~1.8x the samples/s."""
        if lm_weight == 0:
            if self.ctc is None:
                raise ValueError("lm_weight=0 trains the reading head, but this model has none")
            ctc_loss = self._ctc_loss(batch, self.tower(batch.views))
            return {"ctc_loss": ctc_loss, "loss": ctc_weight * ctc_loss}
        emb, ctc_loss = self.embed(batch)
        out = self.lm(inputs_embeds=emb, attention_mask=batch.attention_mask.to(emb.device),
                      labels=batch.labels.to(emb.device) if batch.labels is not None else None)
        res = {"logits": out.logits}
        if out.loss is not None:
            res["lm_loss"] = out.loss
            res["loss"] = lm_weight * out.loss
        if ctc_loss is not None:
            res["ctc_loss"] = ctc_loss
            res["loss"] = res.get("loss", 0) + ctc_weight * ctc_loss
        return res

    # ---------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(self, batch: Batch, *, max_new_tokens: int | None = None, num_beams: int = 1,
                 use_cache: bool = True, repetition_guard: bool = True) -> list[Generated]:
        """Greedy (``num_beams=1``) or beam search through transformers' ``generate`` with
        the KV cache; returns tokens, text and per-token probabilities. Batches must be
        left-padded (``collate(..., left_pad=True)``)."""
        emb, _ = self.embed(batch)
        stop = StoppingCriteriaList([RepetitionGuard()]) if repetition_guard else None
        out = self.lm.generate(
            inputs_embeds=emb, attention_mask=batch.attention_mask.to(emb.device),
            max_new_tokens=max_new_tokens or self.cfg.vocab.max_new_tokens,
            num_beams=num_beams, do_sample=False, use_cache=use_cache,
            output_scores=True, return_dict_in_generate=True, stopping_criteria=stop,
            eos_token_id=self.tokenizer.eos_id, pad_token_id=self.tokenizer.pad_id)
        seqs = out.sequences
        trans = self.lm.compute_transition_scores(
            seqs, out.scores, getattr(out, "beam_indices", None), normalize_logits=True)
        results = []
        for b in range(seqs.shape[0]):
            ids, probs = [], []
            for t, tid in enumerate(seqs[b].tolist()):
                if tid in (self.tokenizer.eos_id, self.tokenizer.pad_id):
                    break
                ids.append(tid)
                probs.append(float(trans[b, t].exp()) if t < trans.shape[1] else 1.0)
            results.append(Generated(ids, self.tokenizer.decode(ids), probs))
        return results

    def num_parameters(self) -> dict[str, int]:
        def count(m: nn.Module | None) -> int:
            return sum(p.numel() for p in m.parameters()) if m is not None else 0
        parts = {"vision": count(self.tower), "projector": count(self.projector),
                 "layout": count(self.layout), "lm": count(self.lm), "ctc": count(self.ctc)}
        parts["total"] = sum(parts.values())
        return parts


def qwen2_config(cfg: DocVLMConfig, tok: DocTokenizer) -> Qwen2Config:
    lm = cfg.lm
    return Qwen2Config(
        vocab_size=len(tok), hidden_size=lm.hidden_size, intermediate_size=lm.intermediate_size,
        num_hidden_layers=lm.num_hidden_layers, num_attention_heads=lm.num_attention_heads,
        num_key_value_heads=lm.num_key_value_heads,
        max_position_embeddings=lm.max_position_embeddings, rope_theta=lm.rope_theta,
        tie_word_embeddings=lm.tie_word_embeddings, pad_token_id=tok.pad_id,
        bos_token_id=tok.bos_id, eos_token_id=tok.eos_id)
