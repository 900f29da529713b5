"""docvlm's output contract (pydantic v2), shared by the library and the workers.

``write_json_schemas(folder)`` regenerates the committed ``*.schema.json`` files;
``docvlm schema`` calls it and a test fails when the committed files drift.
"""

from __future__ import annotations

import json
from pathlib import Path

from schemas.document import (
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Box,
    Document,
    ErrorItem,
    FormField,
    Line,
    Page,
    PageKind,
    PreprocessStep,
    Region,
    RegionLabel,
    Source,
    SourceFile,
    Status,
    Table,
    TableCell,
    TokenStats,
    Word,
    replace_surrogates,
)
from schemas.job import Job, JobDocument, JobOptions, JobStatus

__all__ = [
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "Box",
    "Document",
    "ErrorItem",
    "FormField",
    "Job",
    "JobDocument",
    "JobOptions",
    "JobStatus",
    "Line",
    "Page",
    "PageKind",
    "PreprocessStep",
    "Region",
    "RegionLabel",
    "Source",
    "SourceFile",
    "Status",
    "Table",
    "TableCell",
    "TokenStats",
    "Word",
    "json_schemas",
    "replace_surrogates",
    "write_json_schemas",
]

SCHEMA_DIR = Path(__file__).parent


def json_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for every top-level model."""
    out = {}
    for name, model in (("document", Document), ("job", Job)):
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://docvlm.dev/schemas/{name}-{SCHEMA_VERSION}.schema.json"
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_json_schemas(folder: str | Path = SCHEMA_DIR) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, text in json_schemas().items():
        path = folder / fname
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
