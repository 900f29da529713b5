"""docvlm: PDFs and scans to structured JSON with a small layout-aware vision-language model.

``docvlm.extract(path, **options) -> schemas.Document`` runs in-process, with no Redis.
"""

from docvlm.errors import DocvlmError
from docvlm.ingest import Limits
from docvlm.pipeline import ExtractOptions, extract

__all__ = ["DocvlmError", "ExtractOptions", "Limits", "extract"]
__version__ = "0.1.0"
