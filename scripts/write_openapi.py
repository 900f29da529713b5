"""Write the HTTP API's OpenAPI document to docs/openapi.json (a test fails when it drifts).

    python scripts/write_openapi.py
"""

import json
from pathlib import Path

from workers.api import app

out = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
out.write_text(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n")
print(out)
