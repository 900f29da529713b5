"""Training throughput of a preset against the machine's matmul rate, in one run.

    python benchmarks/bench_throughput.py [--preset small] [--steps 8] [--threads 2]

1. The machine's fp32 matmul rate: a plain large ``torch.matmul`` (2048 x 2048), best of 5.
2. Training steps (forward + backward + AdamW) on reading batches (16 rendered lines), with
   batches built beforehand so only the model is timed; achieved FLOP/s estimated as
   6 x parameters x tokens (Kaplan et al. 2020) for the vision tower and the LM separately,
   plus the attention term 12 x layers x width x sequence per token; convolutions (the
   patch embedding or conv stem, which see every pixel) counted exactly per output.
"""

from __future__ import annotations

import argparse
import time

import torch

from docvlm.model import DocTokenizer, DocVLM, DocVLMConfig, collate
from docvlm.synth.text import corpus
from docvlm.train.data import sample_rng
from docvlm.train.tasks import BUILDERS


def matmul_rate(n: int = 2048, repeat: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--task", default="read_line")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_rate()
    print(f"matmul 2048x2048 fp32, {args.threads} threads: {peak / 1e9:.1f} GFLOP/s")
    cfg = DocVLMConfig.preset_named(args.preset)
    tok = DocTokenizer.train(corpus(3000), cfg.vocab.bpe_vocab_size, cfg.vocab.n_loc_bins)
    torch.manual_seed(0)
    model = DocVLM.build(cfg, tok).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    bs = args.batch_size
    batches = [collate(tok, [BUILDERS[args.task](sample_rng(1, i * bs + j), "train", cfg)
                             for j in range(bs)]) for i in range(args.steps + 1)]
    stem = model.tower.siglip.embeddings.patch_embedding
    n_vis = sum(p.numel() for p in model.tower.parameters()) - sum(
        p.numel() for p in stem.parameters())  # per kept patch; the stem is counted per pixel
    conv_flops = [0.0]

    def count_conv(mod, inp, out):  # 2 x (k*k*Cin) x outputs, forward; x3 with backward
        conv_flops[0] += 6 * out.numel() * mod.in_channels * mod.kernel_size[0] * \
            mod.kernel_size[1] // mod.groups

    for m in stem.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(count_conv)
    emb = model.lm.get_input_embeddings().weight.numel()
    n_lm = sum(p.numel() for p in model.lm.parameters()) - emb  # tied head: count once
    vl, ll = cfg.vision, model.lm.config
    flops = 0.0
    step0 = batches[0]
    loss = model(step0, ctc_weight=1.0)["loss"]  # warm-up (not timed)
    loss.backward()
    conv_flops[0] = 0.0
    t0 = time.perf_counter()
    for b in batches[1:]:
        loss = model(b, ctc_weight=1.0)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        for v in b.views:
            n = len(v.patch_idx)
            flops += 6 * n * n_vis + 6 * vl.num_hidden_layers * 2 * vl.hidden_size * n * n
        T = int(b.attention_mask.sum(1).max())
        tokens = int(b.attention_mask.sum())
        flops += 6 * tokens * (n_lm + emb)  # the output projection (tied embedding) too
        flops += 6 * ll.num_hidden_layers * 2 * ll.hidden_size * T * tokens
    dt = time.perf_counter() - t0
    flops += conv_flops[0]
    sps = args.steps * bs / dt
    print(f"preset {args.preset}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M "
          f"parameters; {args.task} batches of {bs}: {sps:.1f} samples/s, "
          f"{flops / dt / 1e9:.1f} GFLOP/s = {flops / dt / peak * 100:.0f} % of the matmul rate")


if __name__ == "__main__":
    main()
