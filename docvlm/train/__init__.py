"""Staged training: stages are data (per-module learning rates, a task mix, a step budget)."""
