"""Thin Celery tasks: validate input, call the library, write results atomically."""

from __future__ import annotations

import os
from pathlib import Path

from docvlm.output import to_json
from docvlm.pipeline import ExtractOptions, extract
from workers.app import app, settings


def write_atomic(path: Path, text: str) -> None:
    """Write to a temp file then rename, so a reader never sees half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@app.task(name="docvlm.extract_document")
def extract_document(path: str, result_name: str, pages: str | None = None,
                     password: str | None = None) -> str:
    """Extract one document into ``<result_dir>/<result_name>.json``; skip when present."""
    out = Path(settings.result_dir) / f"{result_name}.json"
    if not out.exists():  # idempotent: a redelivered task does not redo finished work
        doc = extract(path, ExtractOptions(pages=pages, password=password))
        write_atomic(out, to_json(doc))
    return str(out)
