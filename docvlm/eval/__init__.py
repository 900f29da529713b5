"""Evaluation: metrics and readers for held-out synthetic and real sets."""

SETS = ("synth-heldout", "sroie", "funsd", "pubtabnet")
