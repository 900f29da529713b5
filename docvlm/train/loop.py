"""The training loop: one stage, resumable exactly, device-agnostic.

Run folder layout::

    RUN/last/        model (config.json, model.safetensors, tokenizer.json, ...) +
                     trainer_state.pt (optimizer, scheduler, step, RNG) + stage.json
    RUN/best/        the model with the best held-out reading CER so far
    RUN/metrics.jsonl  one JSON object per log/eval step

On CUDA it trains under bf16 autocast; the recipe (stage, seed, batch) is the same.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from docvlm.eval.metrics import corpus_cer
from docvlm.model.config import DocVLMConfig
from docvlm.model.processor import Sample, collate
from docvlm.model.tokenizer import DocTokenizer
from docvlm.model.vision import line_views
from docvlm.model.vlm import DocVLM
from docvlm.synth.lines import line_text, render_line
from docvlm.synth.text import corpus
from docvlm.train.data import TaskStream, sample_rng, worker_init
from docvlm.train.stages import MODULES, Stage

log = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    run: Path
    stage: Stage
    preset: str = "small"
    config_path: Path | None = None
    init_from: Path | None = None  # weights of a previous stage
    vision_from: str | None = None
    lm_from: str | None = None
    resume: bool = False
    seed: int = 0
    workers: int = 1
    threads: int | None = None
    log_every: int = 20
    eval_every: int = 500
    save_every: int = 200
    eval_samples: int = 64
    device: str = "auto"
    max_minutes: float | None = None  # stop (after saving) when the budget is spent
    line_px: int | None = None  # text scale of a new model (default: the preset's)
    line_widen: float | None = None  # lines drawn this much wider (default: the model's)


def module_of(name: str) -> str:
    head = name.split(".", 1)[0]
    return {"tower": "vision"}.get(head, head)


def build_optimizer(model: DocVLM, stage: Stage) -> torch.optim.Optimizer:
    groups: dict[str, list] = {m: [] for m in MODULES}
    for name, p in model.named_parameters():
        groups[module_of(name)].append(p)
    params = []
    for m, ps in groups.items():
        lr = stage.lr.get(m, 0.0)
        for p in ps:
            p.requires_grad_(lr > 0)
        if lr > 0 and ps:
            params.append({"params": ps, "lr": lr, "initial_lr": lr, "name": m})
    if not params:
        raise ValueError(f"stage {stage.name!r} trains nothing (all learning rates are 0)")
    return torch.optim.AdamW(params, weight_decay=stage.weight_decay, betas=(0.9, 0.98))


def lr_factor(step: int, stage: Stage) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < stage.warmup:
        return (step + 1) / stage.warmup
    t = min(1.0, (step - stage.warmup) / max(1, stage.steps - stage.warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))


def new_model(opts: TrainOptions) -> DocVLM:
    cfg = (DocVLMConfig.load(opts.config_path) if opts.config_path
           else DocVLMConfig.preset_named(opts.preset))
    if opts.vision_from:
        cfg.vision.pretrained = opts.vision_from
    if opts.lm_from:
        cfg.lm.pretrained = opts.lm_from
    if opts.line_px:
        cfg.tiling.line_px = opts.line_px
    if cfg.lm.pretrained:
        tok = DocTokenizer.from_file(Path(cfg.lm.pretrained) / "tokenizer.json",
                                     cfg.vocab.n_loc_bins)
    else:  # our own small byte-level BPE, trained on the synthetic text generator
        tok = DocTokenizer.train(corpus(20000, seed=opts.seed), cfg.vocab.bpe_vocab_size,
                                 cfg.vocab.n_loc_bins)
    torch.manual_seed(opts.seed)
    return DocVLM.build(cfg, tok)


def reading_eval(model: DocVLM, n: int, seed: int = 12345, split: str = "heldout",
                 degrade_p: float = 0.5, decoder: bool = True, scales: bool = True
                 ) -> dict[str, float]:
    """Held-out line reading: decoder CER (greedy; unless ``decoder`` is False) and, with a
    reading head, CTC CER (one scale) and, with ``scales``, CTC CER as inference reads lines
    (``PageReader.read_lines``: several scales, consensus)."""
    model.eval()
    refs, samples, crops = [], [], []
    for i in range(n):
        r = sample_rng(seed, i, "eval-" + split)
        crop = render_line(r, line_text(r), split, degrade_p=degrade_p)
        refs.append(crop.text)
        crops.append(crop.image)
        # as inference: glyphs measured
        samples.append(Sample(line_views(crop.image, model.cfg), "<task_read>"))
    preds, ctc_preds = [], []
    for k in range(0, n, 16):
        chunk = samples[k : k + 16]
        batch = collate(model.tokenizer, chunk, left_pad=True)
        if decoder:
            preds += [g.text for g in model.generate(batch, max_new_tokens=48)]
        if model.ctc is not None:
            ctc_preds += model.ctc_decode(batch)
    out = {"cer": corpus_cer(preds, refs)} if decoder else {}
    if ctc_preds:
        out["ctc_cer"] = corpus_cer(ctc_preds, refs)
        if scales:
            from docvlm.passes import PageReader

            with torch.no_grad():
                read = PageReader(model).read_lines(crops)
            out["ctc_cer_scales"] = corpus_cer([g.text for g in read], refs)
    model.train()
    return out


def _save(model: DocVLM, opt, step: int, samples: int, opts: TrainOptions, folder: Path,
          best: float) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save(tmp)
    torch.save({"optimizer": opt.state_dict(), "step": step, "samples": samples,
                "best_cer": best, "torch_rng": torch.get_rng_state(), "seed": opts.seed},
               tmp / "trainer_state.pt")
    (tmp / "stage.json").write_text(json.dumps(opts.stage.to_dict(), indent=2))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        if old.exists():
            shutil.rmtree(old)
        folder.rename(old)
    tmp.rename(folder)  # the last checkpoint is replaced atomically
    if old.exists():
        shutil.rmtree(old)


def train(opts: TrainOptions) -> dict:
    stage = opts.stage
    run = opts.run
    run.mkdir(parents=True, exist_ok=True)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if opts.device == "auto" \
        else opts.device
    last = run / "last"
    step, samples_seen, best = 0, 0, float("inf")
    if opts.resume and (last / "trainer_state.pt").exists():
        model = DocVLM.load(last)
        state = torch.load(last / "trainer_state.pt", weights_only=False)
        saved_stage = json.loads((last / "stage.json").read_text())
        if saved_stage["name"] != stage.name:
            raise ValueError(f"{run} holds stage {saved_stage['name']!r}, not {stage.name!r}")
        step, samples_seen, best = state["step"], state["samples"], state["best_cer"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resumed %s at step %d (%d samples)", run, step, samples_seen)
    elif opts.init_from:
        model = DocVLM.load(opts.init_from)
        state = None
    else:
        model = new_model(opts)
        state = None
    if opts.line_widen is not None and opts.line_widen != model.cfg.tiling.line_widen:
        if state is not None:
            raise ValueError(f"{run} trains lines {model.cfg.tiling.line_widen}x wide, "
                             f"not {opts.line_widen}x: resume it without --line-widen")
        log.info("lines drawn %.2fx wide (were %.2fx)", opts.line_widen,
                 model.cfg.tiling.line_widen)
        model.cfg.tiling.line_widen = opts.line_widen
    model.to(device).train()
    model.cfg.trained_tasks = sorted(set(model.cfg.trained_tasks)
                                     | {t for t, w in stage.mix.items() if w > 0})
    opt = build_optimizer(model, stage)
    if state is not None:
        opt.load_state_dict(state["optimizer"])
    stream = TaskStream(model.cfg, model.tokenizer, stage.mix, stage.batch_size, opts.seed,
                        start_batch=step)
    loader = DataLoader(stream, batch_size=None, num_workers=opts.workers,
                        worker_init_fn=worker_init if opts.workers else None,
                        prefetch_factor=4 if opts.workers else None,
                        persistent_workers=False)
    metrics = (run / "metrics.jsonl").open("a")
    use_amp = device == "cuda"
    t0 = time.time()
    t_log, n_log = time.time(), 0
    acc: dict[str, float] = {}
    n_acc = 0
    n_params = model.num_parameters()
    log.info("stage %s: %s params, lr %s, mix %s", stage.name, n_params["total"], stage.lr,
             stage.mix)
    best_key = "cer" if stage.lm_weight > 0 else "ctc_cer"  # what RUN/best is chosen by
    deadline = t0 + opts.max_minutes * 60 if opts.max_minutes is not None else None
    interactive = sys.stderr.isatty()
    for b, batch in loader:
        if step >= stage.steps:
            break
        assert b == step, f"data stream out of step: batch {b} at step {step}"
        f = lr_factor(step, stage)
        for g in opt.param_groups:
            g["lr"] = g["initial_lr"] * f
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            out = model(batch, ctc_weight=stage.ctc_weight, lm_weight=stage.lm_weight)
        loss = out["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]],
                                       stage.grad_clip)
        opt.step()
        step += 1
        samples_seen += len(batch)
        n_log += len(batch)
        n_acc += 1
        for k in ("loss", "lm_loss", "ctc_loss"):
            if k in out:
                acc[k] = acc.get(k, 0.0) + out[k].item()
        if step % opts.log_every == 0 or step == stage.steps:
            dt = time.time() - t_log
            rec = {"stage": stage.name, "step": step, "samples": samples_seen,
                   "lr": opt.param_groups[0]["lr"], "samples_per_s": round(n_log / dt, 2),
                   "elapsed_s": round(time.time() - t0, 1),
                   **{k: round(v / n_acc, 4) for k, v in acc.items()}}
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()
            msg = (f"[{stage.name}] step {step}/{stage.steps} loss {rec.get('loss', 0):.3f} "
                   f"{rec['samples_per_s']:.1f} samples/s")
            print(("\r" + msg) if interactive else msg, file=sys.stderr, end="" if interactive
                  else "\n", flush=True)
            acc, n_acc, t_log, n_log = {}, 0, time.time(), 0
        done = step >= stage.steps or (deadline is not None and time.time() > deadline)
        if step % opts.eval_every == 0 or done:
            ev = reading_eval(model, opts.eval_samples, decoder=stage.lm_weight > 0,
                              scales=False)
            rec = {"stage": stage.name, "step": step, "samples": samples_seen, "eval": ev}
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()
            log.info("eval at step %d: %s", step, ev)
            if ev[best_key] < best:
                best = ev[best_key]
                model.save(run / "best")
        if step % opts.save_every == 0 or done:
            _save(model, opt, step, samples_seen, opts, last, best)
        if done:
            break
    metrics.close()
    if interactive:
        print(file=sys.stderr)
    return {"step": step, "samples": samples_seen, "best_cer": best,
            "elapsed_s": time.time() - t0, "params": n_params,
            "pid": os.getpid()}
