"""The staged trainer on the tiny preset: freezing, exact resume, logs and checkpoints."""

import json

import pytest
import torch

from docvlm.model import DocVLM
from docvlm.train.data import TaskStream
from docvlm.train.loop import TrainOptions, build_optimizer, new_model, train
from docvlm.train.stages import get_stage


def opts(run, stage="reading", **kw):
    st = get_stage(stage)
    st.steps, st.batch_size, st.warmup = kw.pop("steps", 6), 4, 2
    return TrainOptions(run=run, stage=st, preset="tiny", workers=0, eval_every=1000,
                        save_every=kw.pop("save_every", 3), eval_samples=4, log_every=1, **kw)


def test_stages_freeze_what_they_do_not_train(tmp_path):
    model = new_model(opts(tmp_path))
    build_optimizer(model, get_stage("align"))
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"projector", "layout"}
    build_optimizer(model, get_stage("lm"))
    assert {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad} == {"lm"}


def test_data_stream_is_deterministic_and_resumable(tmp_path):
    model = new_model(opts(tmp_path))
    mix = {"read_line": 1.0, "read_block": 1.0}
    a = TaskStream(model.cfg, model.tokenizer, mix, 3, seed=5)
    b = TaskStream(model.cfg, model.tokenizer, mix, 3, seed=5, start_batch=2)
    first = [batch for _, batch in zip(range(3), a)]
    resumed = next(iter(b))
    assert resumed[0] == 2
    assert torch.equal(first[2][1].input_ids, resumed[1].input_ids)


def test_resume_continues_exactly(tmp_path):
    straight = train(opts(tmp_path / "a", steps=6))
    # a run stopped after 3 of 6 steps (same schedule), then resumed
    o = opts(tmp_path / "b", steps=6, max_minutes=0.0)
    stopped = train(o)
    assert stopped["step"] == 1  # the time budget stops it at the first step
    o = opts(tmp_path / "b", steps=6, resume=True)
    resumed = train(o)
    assert resumed["step"] == straight["step"] == 6
    a = DocVLM.load(tmp_path / "a" / "last")
    b = DocVLM.load(tmp_path / "b" / "last")
    for (n, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5, msg=n)
    logs = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logs if "loss" in r] == [1, 2, 3, 4, 5, 6]
    assert all(r["stage"] == "reading" and r["samples"] == 4 * r["step"] for r in logs)


def test_resume_refuses_another_stage(tmp_path):
    train(opts(tmp_path, steps=2, save_every=1))
    with pytest.raises(ValueError, match="holds stage 'reading'"):
        train(opts(tmp_path, "align", steps=2, resume=True))


def test_next_stage_starts_from_previous_weights(tmp_path):
    train(opts(tmp_path / "r", steps=2))
    out = train(opts(tmp_path / "a", "align", steps=2, init_from=tmp_path / "r" / "last"))
    assert out["step"] == 2
    r = DocVLM.load(tmp_path / "r" / "last")
    a = DocVLM.load(tmp_path / "a" / "last")
    torch.testing.assert_close(r.tower.siglip.embeddings.patch_embedding.weight,
                               a.tower.siglip.embeddings.patch_embedding.weight)  # frozen
    assert not torch.equal(r.projector.fc1.weight, a.projector.fc1.weight)  # trained


def test_export_writes_half_size_weights_with_the_recipe(tmp_path):
    from docvlm.cli import main

    train(opts(tmp_path / "r", steps=2))
    assert main(["export", "--model", str(tmp_path / "r" / "last"), "--out",
                 str(tmp_path / "x")]) == 0
    full = (tmp_path / "r" / "last" / "model.safetensors").stat().st_size
    half = (tmp_path / "x" / "model.safetensors").stat().st_size
    assert half < 0.6 * full
    assert json.loads((tmp_path / "x" / "stage.json").read_text())["name"] == "reading"
    a, b = DocVLM.load(tmp_path / "r" / "last"), DocVLM.load(tmp_path / "x")
    torch.testing.assert_close(a.projector.fc1.weight, b.projector.fc1.weight, rtol=1e-2,
                               atol=1e-2)


def test_ctc_stage_trains_the_encoder_alone_and_keeps_the_best_reader(tmp_path):
    train(opts(tmp_path / "r", steps=2))
    o = opts(tmp_path / "c", "ctc", steps=3, init_from=tmp_path / "r" / "last")
    o.eval_every = 3
    out = train(o)
    r = DocVLM.load(tmp_path / "r" / "last")
    c = DocVLM.load(tmp_path / "c" / "last")
    for name in ("lm", "projector", "layout"):  # neither run nor changed
        for (n, pa), (_, pb) in zip(getattr(r, name).named_parameters(),
                                    getattr(c, name).named_parameters()):
            torch.testing.assert_close(pa, pb, msg=n)
    assert not torch.equal(next(r.ctc.parameters()), next(c.ctc.parameters()))
    assert not torch.equal(next(r.tower.parameters()), next(c.tower.parameters()))
    logs = [json.loads(x) for x in (tmp_path / "c" / "metrics.jsonl").read_text().splitlines()]
    losses = [r for r in logs if "loss" in r]
    assert losses and all("lm_loss" not in r and r["ctc_loss"] == r["loss"] for r in losses)
    ev = [r["eval"] for r in logs if "eval" in r]
    assert ev and set(ev[0]) == {"ctc_cer"}  # no decoder generation in this stage
    assert out["best_cer"] == ev[0]["ctc_cer"]
    assert (tmp_path / "c" / "best" / "config.json").exists()


def test_ctc_stage_needs_a_reading_head(tmp_path):
    model = new_model(opts(tmp_path))
    model.ctc = None
    stream = TaskStream(model.cfg, model.tokenizer, {"read_line": 1.0}, 2, seed=1)
    with pytest.raises(ValueError, match="reading head"):
        model(next(iter(stream))[1], lm_weight=0)


def test_mix_flag_parses_task_weights_and_names_what_is_wrong(tmp_path, capsys):
    from docvlm.cli import main
    from docvlm.train.stages import parse_mix

    assert parse_mix("read_line=0.8, read_receipt_line=0.2") == {
        "read_line": 0.8, "read_receipt_line": 0.2}
    for bad, says in [("read_lines=1", "unknown task 'read_lines'"),
                      ("read_line", "is not TASK=WEIGHT"),
                      ("read_line=x", "not a number: 'x'"),
                      ("read_line=-1", "must be a finite number >= 0"),
                      ("read_line=1,read_line=2", "given twice"),
                      ("read_line=0", "every weight is 0")]:
        with pytest.raises(ValueError, match=says):
            parse_mix(bad)
    assert main(["train", "--stage", "ctc", "--run", str(tmp_path / "r"), "--preset", "tiny",
                 "--mix", "read_line=1,table=x"]) == 2
    assert "--mix: weight of 'table' is not a number" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # refused before a run folder was made


def test_a_stage_can_widen_the_lines_of_the_weights_it_starts_from(tmp_path, capsys):
    """``--line-widen`` sets how much wider lines are drawn for the model, from a stage's
    first step: the reading task draws them so and the weights keep it in their config;
    resuming at another width, or a width out of range, is refused."""
    import random
    from dataclasses import replace

    from docvlm.cli import main
    from docvlm.model.config import DocVLMConfig
    from docvlm.train.tasks import read_line

    train(opts(tmp_path / "r", "ctc", steps=2))
    assert DocVLM.load(tmp_path / "r" / "last").cfg.tiling.line_widen == 1.0
    train(opts(tmp_path / "w", "ctc", steps=2, init_from=tmp_path / "r" / "last",
               line_widen=1.4))
    wide = DocVLM.load(tmp_path / "w" / "last").cfg
    assert wide.tiling.line_widen == 1.4
    # the task draws lines at the config's width (the small preset: the tiny one's patch
    # budget cuts long lines down)
    plain = DocVLMConfig.preset_named("small")
    wider = replace(plain, tiling=replace(plain.tiling, line_widen=wide.tiling.line_widen))
    widths = [sum(v.pixels.shape[2] for s in range(8)
                  for v in read_line(random.Random(s), "heldout", c).views)
              for c in (plain, wider)]
    assert 1.3 < widths[1] / widths[0] < 1.5
    with pytest.raises(ValueError, match=r"lines 1\.4x wide, not 1\.2x"):
        train(opts(tmp_path / "w", "ctc", steps=3, resume=True, line_widen=1.2))
    assert main(["train", "--stage", "ctc", "--run", str(tmp_path / "x"), "--preset", "tiny",
                 "--line-widen", "5"]) == 2
    assert "--line-widen: 5.0 is outside 0.5..3.0" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_receipt_line_task_draws_receipt_lines_in_training_only(tmp_path):
    import random

    from docvlm.train.tasks import read_line, read_receipt_line

    cfg = new_model(opts(tmp_path)).cfg
    for s in range(3):  # held out: exactly read_line's lines
        a = read_receipt_line(random.Random(s), "heldout", cfg)
        b = read_line(random.Random(s), "heldout", cfg)
        assert a.target == b.target
        assert (a.views[0].pixels == b.views[0].pixels).all()

    def upper_share(builder):
        texts = [builder(random.Random(s), "train", cfg).target for s in range(60)]
        return sum(t == t.upper() and any(c.isalpha() for c in t) for t in texts) / 60

    # receipt lines are mostly upper case (0.79 of training_text's receipt lines); read_line
    # draws them a quarter of the time among lines upper case 0.3 of the time
    receipt, mixed = upper_share(read_receipt_line), upper_share(read_line)
    assert receipt > 0.65 and receipt > mixed + 0.15
