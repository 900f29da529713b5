"""Task samples built from synthetic truth. Each builder maps (rng, split, cfg) -> Sample;
the prompt starts with the task token, the target is what the model must emit."""

from __future__ import annotations

import random
from collections.abc import Callable

from docvlm.model.config import DocVLMConfig
from docvlm.model.processor import Sample
from docvlm.model.vision import prepare_image
from docvlm.synth.lines import line_text, render_line
from docvlm.synth.text import paragraph

LINE_HEIGHTS = (30, 32, 34, 36)  # line crop heights in pixels after scale normalisation
Builder = Callable[[random.Random, str, DocVLMConfig], Sample]


def to_line_height(img, height: int):
    """Scale a line crop to ``height`` pixels (text scale normalisation: a 32-px line is
    legible and costs a quarter of the tokens of a 64-px one)."""
    import cv2

    h, w = img.shape
    f = height / h
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, (max(1, round(w * f)), height), interpolation=interp)


def read_line(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    crop = render_line(r, line_text(r), split)
    img = to_line_height(crop.image, r.choice(LINE_HEIGHTS))
    views = prepare_image(img, cfg, "native")
    return Sample(views, "<task_read>", crop.text, ctc_text=crop.text)


def read_block(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    """A few stacked lines read as one region (newline-separated)."""
    import numpy as np

    n = r.randint(2, 4)
    crops = [render_line(r, line_text(r, 40), split, degrade_p=0.0) for _ in range(n)]
    height = r.choice(LINE_HEIGHTS)
    imgs = [to_line_height(c.image, height) for c in crops]
    w = max(im.shape[1] for im in imgs)
    rows = [np.pad(im, ((0, 0), (0, w - im.shape[1])), constant_values=255) for im in imgs]
    img = np.concatenate(rows, axis=0)
    if r.random() < 0.5:
        from docvlm.synth.degrade import degrade

        img, _ = degrade(img, r, strength=r.uniform(0.4, 1.0), rotate_max=0.5)
    return Sample(prepare_image(img, cfg, "native"), "<task_read>",
                  "\n".join(c.text for c in crops))


def lm_text(r: random.Random, split: str, cfg: DocVLMConfig) -> Sample:
    return Sample([], "<task_read>", paragraph(r, r.randint(1, 3))[:400])


BUILDERS: dict[str, Builder] = {"read_line": read_line, "read_block": read_block,
                                "lm_text": lm_text}
