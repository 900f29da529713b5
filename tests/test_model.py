"""The VLM core on tiny configs: shapes, pruning, fusion, save/load, pretrained towers,
overfitting, generation."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from docvlm.model import DocTokenizer, DocVLM, DocVLMConfig, Sample, collate, prepare_image
from docvlm.model.vision import post_prune
from docvlm.synth.text import corpus


@pytest.fixture(scope="module")
def tok():
    cfg = DocVLMConfig.preset_named("tiny")
    return DocTokenizer.train(corpus(1500), cfg.vocab.bpe_vocab_size, cfg.vocab.n_loc_bins)


@pytest.fixture
def cfg():
    return DocVLMConfig.preset_named("tiny")


def page(h=300, w=200, seed=0) -> np.ndarray:
    """A white page with a few dark 'text lines' (deterministic)."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w), 255, np.uint8)
    for y in range(20, h - 20, 40):
        x1 = int(rng.integers(w // 2, w - 10))
        img[y : y + 8, 10:x1] = rng.integers(0, 80, size=(8, x1 - 10))
    return img


def half_page() -> np.ndarray:
    """Text lines in the lower half only: the upper half is paper."""
    img = np.full((300, 200), 255, np.uint8)
    img[150:] = page()[:150]
    return img


def test_config_round_trip(tmp_path):
    for name in ("tiny", "small", "base"):
        c = DocVLMConfig.preset_named(name)
        c.save(tmp_path / name)
        assert DocVLMConfig.load(tmp_path / name) == c
    with pytest.raises(ValueError, match="unknown preset"):
        DocVLMConfig.preset_named("huge")


def test_views_prune_blank_groups_and_place_tokens_on_the_page(cfg):
    img = half_page()
    views = prepare_image(img, cfg, "tiles")
    assert len(views) > 1 and views[-1].total_groups == (64 // 32) ** 2
    kept = sum(v.n_tokens for v in views)
    total = sum(v.total_groups for v in views)
    assert 0 < kept < total  # the white margins are pruned
    for v in views:
        assert len(v.patch_idx) == 4 * v.n_tokens  # whole 2x2 groups
        assert (v.boxes >= -1e-6).all() and (v.boxes <= 1 + 1e-6).all()
    blank = prepare_image(np.full((300, 200), 250, np.uint8), cfg, "tiles")
    assert all(v.n_tokens == 1 for v in blank)  # one token per view survives
    # a crop in the lower-right quarter: every token box lies in that quarter
    crop = prepare_image(page()[150:, 100:], cfg, "native", region=(0.5, 0.5, 1.0, 1.0))
    b = crop[0].boxes
    assert (b[:, 0] >= 0.5 - 1e-6).all() and (b[:, 3] <= 1 + 1e-6).all()


def test_a_long_line_is_read_at_its_own_width_not_squeezed():
    """A line view (``mode='line'``) is not cut down to ``native_max_side``: a long line
    would be squeezed sideways only, since its height is already one unit."""
    from docvlm.model.config import DocVLMConfig

    cfg = DocVLMConfig.preset_named("small")
    line = np.full((32, 1600), 255, np.uint8)
    line[10:22, ::7] = 0  # ink all along
    (native,) = prepare_image(line, cfg, "native")
    (whole,) = prepare_image(line, cfg, "line")
    assert native.pixels.shape[1:] == (32, cfg.tiling.native_max_side)
    assert whole.pixels.shape[1:] == (32, 1600)
    assert whole.n_tokens == 1600 // 32 and native.n_tokens == cfg.tiling.native_max_side // 32
    np.testing.assert_allclose(whole.boxes[-1, 2], 1.0, atol=1e-6)  # reaches the right end
    # the patch budget still holds: a line longer than it is scaled down to fit
    (huge,) = prepare_image(np.tile(line, (1, 6)), cfg, "line")
    assert huge.pixels.shape[1] * huge.pixels.shape[2] <= cfg.tiling.native_max_patches * 256


def test_same_page_spot_gets_same_position_whatever_the_view(cfg):
    img = np.full((256, 256), 255, np.uint8)
    img[64:96, 160:192] = 0  # one ink blob
    full = prepare_image(img, replace(cfg, tiling=replace(cfg.tiling, max_tiles=1)), "tiles")
    quarter = prepare_image(img[:128, 128:], cfg, "native", region=(0.5, 0.0, 1.0, 0.5))
    centre = np.array([(160 + 192) / 2 / 256, (64 + 96) / 2 / 256])
    for views in (full, quarter):
        boxes = np.concatenate([v.boxes for v in views])
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        assert np.abs(centres - centre).sum(1).min() < 0.15


def test_forward_shapes_and_fusion_count_check(cfg, tok):
    model = DocVLM.build(cfg, tok)
    s = Sample(prepare_image(page(), cfg, "tiles"), "<task_read>", "Total 12.50")
    batch = collate(tok, [s, Sample(prepare_image(page(seed=1)[:60], cfg, "native"),
                                    "<task_read>", "x")])
    out = model(batch)
    assert out["logits"].shape == (2, batch.input_ids.shape[1], len(tok))
    assert torch.isfinite(out["loss"])
    batch.input_ids[0, 1] = tok.pad_id  # one placeholder fewer than visual tokens
    n = s.n_visual + batch.views[-1].n_tokens
    with pytest.raises(ValueError, match=rf"has {n - 1} <image> placeholders .* {n} visual"):
        model(batch)


def test_encoder_only_computes_kept_patches(cfg, tok):
    model = DocVLM.build(cfg, tok)
    views = prepare_image(page(), cfg, "tiles")
    outs = model.tower(views)
    assert [o.shape[0] for o in outs] == [len(v.patch_idx) for v in views]


def test_post_encoder_pruning_keeps_budget_and_indices():
    torch.manual_seed(0)
    x = torch.randn(40, 16)
    x[10:20] = x[10]  # ten duplicates: the most redundant
    keep = post_prune(x, 0.5, "redundancy")
    assert len(keep) == 20 and torch.equal(keep, keep.sort().values)
    assert sum(int(i) in range(10, 20) for i in keep) == 0
    att = torch.arange(40.0)
    assert post_prune(x, 0.25, "attention", att).tolist() == list(range(30, 40))


def test_post_pruning_in_the_model_reduces_tokens(cfg, tok):
    c = replace(cfg, pruning=replace(cfg.pruning, post_method="attention", post_budget=0.5))
    model = DocVLM.build(c, tok)
    views = prepare_image(page(), c, "tiles")
    batch = collate(tok, [Sample(views, "<task_read>", "a")])
    vis, boxes, _ = model.encode_views(batch)
    assert vis.shape[0] == boxes.shape[0] == sum(max(1, round(v.n_tokens * 0.5)) for v in views)


def test_save_load_gives_identical_outputs(tmp_path, cfg, tok):
    torch.manual_seed(0)
    model = DocVLM.build(cfg, tok).eval()
    batch = collate(tok, [Sample(prepare_image(page(), cfg, "tiles"), "<task_read>", "ab 12")])
    with torch.no_grad():
        before = model(batch)["logits"]
    model.save(tmp_path / "m")
    loaded = DocVLM.load(tmp_path / "m")
    with torch.no_grad():
        after = loaded(batch)["logits"]
    torch.testing.assert_close(before, after, rtol=0, atol=0)
    assert loaded.cfg == cfg and len(loaded.tokenizer) == len(tok)


def test_conv_stem_keeps_the_patch_grid_and_round_trips(tmp_path, cfg, tok):
    c = replace(cfg, vision=replace(cfg.vision, stem="conv"))
    torch.manual_seed(0)
    model = DocVLM.build(c, tok).eval()
    stem = model.tower.siglip.embeddings.patch_embedding
    assert type(stem).__name__ == "ConvStem"
    views = prepare_image(page(), c, "tiles")
    assert [o.shape[0] for o in model.tower(views)] == [len(v.patch_idx) for v in views]
    # overlapping receptive fields: ink at a patch border changes both patches
    x = torch.ones(1, 1, 32, 64)
    before = stem(x)
    x[0, 0, 8, 15] = -1.0  # last pixel of patch column 0
    changed = (stem(x) - before).abs().sum(1)[0] > 0
    assert changed[0, 0] and changed[0, 1]
    batch = collate(tok, [Sample(views, "<task_read>", "ab 12")])
    with torch.no_grad():
        before = model(batch)["logits"]
    model.save(tmp_path / "m")
    loaded = DocVLM.load(tmp_path / "m")
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch)["logits"], before, rtol=0, atol=0)
    with pytest.raises(ValueError, match="power-of-two"):
        DocVLM.build(replace(c, vision=replace(c.vision, patch_size=14)), tok)
    with pytest.raises(ValueError, match="stem='patch'"):
        DocVLM.build(replace(c, vision=replace(c.vision, pretrained=str(tmp_path))), tok)


def test_load_reports_missing_files(tmp_path):
    from docvlm.errors import ModelError

    with pytest.raises(ModelError, match=r"missing config\.json"):
        DocVLM.load(tmp_path)


@pytest.mark.parametrize("family", ["qwen2", "llama"])
def test_pretrained_siglip_and_lm_checkpoints_load(tmp_path, cfg, tok, family):
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        Qwen2Config,
        Qwen2ForCausalLM,
        SiglipVisionConfig,
        SiglipVisionModel,
    )

    torch.manual_seed(0)
    vis = SiglipVisionModel(SiglipVisionConfig(hidden_size=32, intermediate_size=64,
                                               num_hidden_layers=2, num_attention_heads=2,
                                               num_channels=3, image_size=64, patch_size=16))
    vis.save_pretrained(tmp_path / "siglip")
    kw = dict(vocab_size=500, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2)
    lm = (Qwen2ForCausalLM(Qwen2Config(**kw)) if family == "qwen2"
          else LlamaForCausalLM(LlamaConfig(**kw)))
    lm.save_pretrained(tmp_path / "lm")
    tok.save(tmp_path / "lm" / "tokenizer.json")  # the LM's own tokenizer file
    c = replace(cfg, vision=replace(cfg.vision, pretrained=str(tmp_path / "siglip"),
                                    num_channels=3),
                lm=replace(cfg.lm, pretrained=str(tmp_path / "lm")))
    t = DocTokenizer.from_file(tmp_path / "lm" / "tokenizer.json", c.vocab.n_loc_bins)
    model = DocVLM.build(c, t)
    torch.testing.assert_close(model.tower.siglip.embeddings.patch_embedding.weight,
                               vis.embeddings.patch_embedding.weight)
    torch.testing.assert_close(model.lm.model.layers[0].self_attn.q_proj.weight,
                               lm.model.layers[0].self_attn.q_proj.weight)
    assert model.lm.get_input_embeddings().weight.shape[0] == len(t)
    batch = collate(t, [Sample(prepare_image(page(), c, "tiles"), "<task_read>", "ok")])
    assert torch.isfinite(model(batch)["loss"])
    model.save(tmp_path / "fused")  # and the fused model round-trips with its LM family
    again = DocVLM.load(tmp_path / "fused")
    assert type(again.lm).__name__ == type(lm).__name__


def test_tiny_model_overfits_one_batch(cfg, tok):
    torch.manual_seed(0)
    model = DocVLM.build(cfg, tok)
    samples = [Sample(prepare_image(img, cfg, "tiles"), "<task_read>", text)
               for img, text in zip([page(), half_page()],
                                    ["Invoice 2026-0147", "Total due 210.60"])]
    batch = collate(tok, samples)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(120):
        loss = model(batch)["lm_loss"]
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first, (first, loss.item())
    model.eval()
    gen = model.generate(collate(tok, [Sample(s.views, s.prompt) for s in samples],
                                 left_pad=True), max_new_tokens=20)
    # each image gets its own text back: the decoder reads the image, not a prior
    assert [g.text for g in gen] == ["Invoice 2026-0147", "Total due 210.60"]
    assert all(0.5 < g.confidence <= 1.0 for g in gen)


def test_cached_and_uncached_greedy_decoding_agree(cfg, tok):
    torch.manual_seed(3)
    model = DocVLM.build(cfg, tok).eval()
    batch = collate(tok, [Sample(prepare_image(page(seed=s), cfg, "tiles"), "<task_read>")
                          for s in range(2)], left_pad=True)
    a = model.generate(batch, max_new_tokens=12, use_cache=True, repetition_guard=False)
    b = model.generate(batch, max_new_tokens=12, use_cache=False, repetition_guard=False)
    assert [g.token_ids for g in a] == [g.token_ids for g in b]
    assert all(len(g.token_ids) == 12 or g.token_ids for g in a)
    beams = model.generate(batch, max_new_tokens=8, num_beams=3)
    assert len(beams) == 2 and all(0 <= p <= 1 for g in beams for p in g.token_confidence)


def test_repetition_guard_stops_loops():
    from docvlm.model.vlm import RepetitionGuard

    g = RepetitionGuard(max_period=3, max_repeats=4)
    loop = torch.tensor([[1, 2, 3] + [7, 8] * 5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]])
    assert g(loop, None).tolist() == [True, False]


def test_reading_head_ctc_loss_and_decode(cfg, tok):
    torch.manual_seed(0)
    model = DocVLM.build(cfg, tok)
    line = page(h=32, w=256)
    s = Sample(prepare_image(line, cfg, "native"), "<task_read>", "abc", ctc_text="abc")
    out = model(collate(tok, [s]))
    assert torch.isfinite(out["ctc_loss"]) and out["ctc_loss"] > 0
    assert isinstance(model.ctc_decode(collate(tok, [s]))[0], str)


def test_h_reducer_merge_and_anchor_words(cfg, tok):
    """The 1x4 horizontal merge runs end to end; anchor words carry their box into the
    layout embedding (moving a box changes the output)."""
    c = replace(cfg, projector=replace(cfg.projector, merge="h1x4"))
    torch.manual_seed(0)
    model = DocVLM.build(c, tok).eval()
    views = prepare_image(half_page(), c, "tiles")
    assert all(len(v.patch_idx) == 4 * v.n_tokens for v in views)
    for v in views:  # each group is 4 horizontally adjacent patches of one row
        g = v.patch_idx.reshape(-1, 4)
        assert (np.diff(g, axis=1) == 1).all()
    anchors = [("Total", (0.1, 0.8, 0.2, 0.82)), ("12.50", (0.7, 0.8, 0.8, 0.82))]
    moved = [("Total", (0.1, 0.1, 0.2, 0.12)), ("12.50", (0.7, 0.8, 0.8, 0.82))]
    with torch.no_grad():
        a = model(collate(tok, [Sample(views, "<task_read>", "x", anchors=anchors)]))["logits"]
        b = model(collate(tok, [Sample(views, "<task_read>", "x", anchors=moved)]))["logits"]
    assert a.shape == b.shape and not torch.allclose(a, b)


def test_int8_quantization_replaces_every_linear_layer_and_keeps_the_outputs(cfg, tok):
    """Dynamic int8 quantization (inference on CPUs): no float linear layer is left, the
    logits stay close to float32's, greedy generation and the reading head still run."""
    torch.manual_seed(0)
    model = DocVLM.build(cfg, tok).eval()
    batch = collate(tok, [Sample(prepare_image(page(), cfg, "tiles"), "<task_read>", "ab 12")])
    line = collate(tok, [Sample(prepare_image(page(h=32, w=256), cfg, "native"),
                                "<task_read>", "abc", ctc_text="abc")])
    with torch.no_grad():
        before = model(batch)["logits"]
    assert model.quantize_int8() and model.int8
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    with torch.no_grad():
        after = model(batch)["logits"]
    assert after.shape == before.shape
    assert (after - before).abs().max() < 0.1 * before.abs().max()
    assert torch.corrcoef(torch.stack([before.flatten(), after.flatten()]))[0, 1] > 0.99
    gen = model.generate(collate(tok, [Sample(prepare_image(page(), cfg, "tiles"),
                                              "<task_read>")], left_pad=True),
                         max_new_tokens=6)
    assert len(gen) == 1 and len(gen[0].token_ids) <= 6
    assert isinstance(model.ctc_decode(line)[0], str)
