"""Training stages as data: per-module learning rates (0 = frozen), a task mix, a budget.

| stage | trains | data | why |
|---|---|---|---|
| reading | vision, CTC head, projector, LM | rendered lines | read first (GOT, Donut) |
| ctc | vision, CTC head | rendered lines | more reading per CPU-second (LM not run) |
| lm | LM only | text of the synthetic corpus | only without a pretrained LM |
| align | projector + layout embedding | crops -> text, pages -> layout | LLaVA stage 1 |
| instruct | projector + layout + LM (+ vision, lower) | every task | LLaVA stage 2 |
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MODULES = ("vision", "ctc", "projector", "layout", "lm")


@dataclass
class Stage:
    name: str
    lr: dict[str, float]
    mix: dict[str, float]
    steps: int
    batch_size: int
    warmup: int = 100
    ctc_weight: float = 0.0
    lm_weight: float = 1.0  # 0: only the encoder and the reading head run (the `ctc` stage)
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


STAGES: dict[str, Stage] = {
    "reading": Stage(
        "reading", lr={"vision": 1e-3, "ctc": 1e-3, "projector": 1e-3, "layout": 1e-3,
                       "lm": 1e-3},
        mix={"read_line": 1.0}, steps=4000, batch_size=16, warmup=200, ctc_weight=1.0,
        notes="reading alongside: decoder loss + CTC on the encoder (the probe in "
              "ARCHITECTURE.md: without CTC the decoder ignored the image)"),
    "ctc": Stage(
        "ctc", lr={"vision": 1e-3, "ctc": 1e-3, "projector": 0, "layout": 0, "lm": 0},
        mix={"read_line": 1.0}, steps=4000, batch_size=16, warmup=200, ctc_weight=1.0,
        lm_weight=0.0,
        notes="the encoder reads through its CTC head alone; projector and LM neither run "
              "nor change (1.8x the samples/s of `reading`; the shipped model reads with "
              "this head)"),
    "lm": Stage(
        "lm", lr={"vision": 0, "ctc": 0, "projector": 0, "layout": 0, "lm": 1e-3},
        mix={"lm_text": 1.0}, steps=1000, batch_size=32),
    "align": Stage(
        "align", lr={"vision": 0, "ctc": 0, "projector": 1e-3, "layout": 1e-3, "lm": 0},
        mix={"read_line": 0.4, "read_region": 0.4, "layout": 0.2}, steps=1000, batch_size=16),
    "instruct": Stage(
        "instruct", lr={"vision": 2e-4, "ctc": 2e-4, "projector": 5e-4, "layout": 5e-4,
                        "lm": 5e-4},
        mix={"read_line": 0.2, "read_block": 0.1, "read_region": 0.25, "table": 0.1,
             "layout": 0.15, "kv": 0.1, "qa": 0.05, "json": 0.05}, steps=5000, batch_size=16,
        ctc_weight=0.3),
}


def get_stage(name: str) -> Stage:
    if name not in STAGES:
        raise ValueError(f"unknown stage {name!r}; choose from {list(STAGES)}")
    s = STAGES[name]
    return Stage(**{**s.to_dict(), "lr": dict(s.lr), "mix": dict(s.mix)})


def parse_mix(text: str) -> dict[str, float]:
    """``"read_line=0.8,read_receipt_line=0.2"`` -> a task mix; names must be known tasks and
    weights non-negative numbers, at least one above zero (``TaskStream`` draws by them)."""
    from docvlm.train.tasks import BUILDERS

    mix: dict[str, float] = {}
    for part in text.split(","):
        name, sep, w = part.strip().partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"{part.strip()!r} is not TASK=WEIGHT")
        if name not in BUILDERS:
            raise ValueError(f"unknown task {name!r}; known: {sorted(BUILDERS)}")
        if name in mix:
            raise ValueError(f"task {name!r} given twice")
        try:
            mix[name] = float(w)
        except ValueError:
            raise ValueError(f"weight of {name!r} is not a number: {w.strip()!r}") from None
        if not mix[name] >= 0 or mix[name] == float("inf"):
            raise ValueError(f"weight of {name!r} must be a finite number >= 0, got {w.strip()}")
    if not any(mix.values()):
        raise ValueError("every weight is 0: nothing to draw")
    return mix
