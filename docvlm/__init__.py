"""docvlm: PDFs and scans to structured JSON with a small layout-aware vision-language model.

``docvlm.extract(path, **options) -> schemas.Document`` runs in-process, with no Redis;
``docvlm.extract_fields(path, schema) -> dict`` returns the fields a schema asks for.
"""

from docvlm.errors import DocvlmError
from docvlm.ingest import Limits
from docvlm.pipeline import ExtractOptions, extract


def extract_fields(path, schema, **kw):
    """Fields of ``schema`` from the document at ``path``; see :mod:`docvlm.fields`."""
    from docvlm.fields import extract_fields as _extract_fields

    return _extract_fields(path, schema, **kw)


__all__ = ["DocvlmError", "ExtractOptions", "Limits", "extract", "extract_fields"]
__version__ = "0.1.0"
