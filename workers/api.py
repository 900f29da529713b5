"""HTTP API (FastAPI). Health endpoints for now; the job endpoints build on workers.tasks.

    uvicorn workers.api:app --host 0.0.0.0 --port 8000
"""

from __future__ import annotations

import redis
from fastapi import FastAPI, Response

from workers.settings import get_settings

app = FastAPI(title="docvlm", version="0.1.0")


@app.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@app.get("/readyz")
def readyz(response: Response) -> dict:
    """Ready when Redis answers."""
    try:
        redis.Redis.from_url(get_settings().redis_url, socket_timeout=2).ping()
    except redis.RedisError as e:
        response.status_code = 503
        return {"status": "unavailable", "redis": str(e)}
    return {"status": "ok"}
