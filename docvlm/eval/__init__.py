"""Evaluation: metrics and readers for held-out synthetic and real sets."""

SETS = ("synth-lines", "synth-heldout", "synth-pages", "sroie", "funsd", "pubtabnet")
