"""Evaluation: metrics and readers for held-out synthetic and real sets."""

SETS = ("synth-heldout", "synth-pages", "sroie", "funsd", "pubtabnet")
