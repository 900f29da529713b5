"""HTTP API (FastAPI) over the job queue.

    docvlm serve --port 8000          (or: uvicorn workers.api:app)

``POST /v1/jobs`` (multipart upload, or JSON with paths the workers can read) answers 202
with the job's URL; ``GET /v1/jobs/{id}``, ``GET /v1/jobs/{id}/result``,
``DELETE /v1/jobs/{id}`` (cancel); ``/healthz``, ``/readyz`` (Redis), ``/metrics``
(Prometheus). The OpenAPI document is committed as ``docs/openapi.json``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated, Literal

import redis
from fastapi import FastAPI, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from docvlm import errors
from schemas import Document, Job, JobOptions
from workers import client, metrics
from workers.app import settings

app = FastAPI(title="docvlm", version="0.1.0",
              description="Queue documents for extraction and fetch structured results.")


class PathsRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="files on a volume the workers share")
    options: JobOptions = Field(default_factory=JobOptions)


class Accepted(BaseModel):
    id: str
    url: str
    status: str


class JobResult(BaseModel):
    job: Job
    documents: list[Document | None]


def _accepted(job: Job) -> JSONResponse:
    body = Accepted(id=job.id, url=f"/v1/jobs/{job.id}", status=job.status.value)
    return JSONResponse(body.model_dump(), status_code=202,
                        headers={"Location": body.url})


def _submit(paths: list[Path], options: JobOptions) -> JSONResponse:
    try:
        job = client.submit(paths, options)
    except errors.UsageError as e:
        raise HTTPException(422, str(e)) from None
    except redis.RedisError as e:
        raise HTTPException(503, f"queue unavailable: {e}") from None
    metrics.JOBS_SUBMITTED.inc()
    refused = [e for d in job.documents for e in d.errors
               if e.code in ("too_many_pages", "file_too_large", "image_too_large")]
    if refused and all(d.status.value == "failed" for d in job.documents):
        # every document is over a limit: say so now rather than with a failed job later
        raise HTTPException(413 if refused[0].code != "too_many_pages" else 422,
                            "; ".join(f"{Path(e.file or '').name}: {e.message}"
                                      for e in refused))
    return _accepted(job)


@app.post("/v1/jobs", status_code=202, response_model=Accepted,
          responses={413: {"description": "upload too large"},
                     422: {"description": "bad options"}})
async def create_job(
    files: Annotated[list[UploadFile], File(description="documents to process")],
    mode: Annotated[Literal["auto", "vision", "anchored", "text"], Form()] = "auto",
    pages: Annotated[str | None, Form(description="e.g. 1-3,7")] = None,
    dpi: Annotated[int, Form(ge=36, le=1200)] = 200,
    password: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Upload one or more documents as one job."""
    limit = settings.max_upload_mb * 2**20
    folder = Path(settings.result_dir) / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    total = 0
    for i, f in enumerate(files):
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(f.filename or f"upload{i}").name)[:120]
        dest = folder / f"{i:03d}-{name}"
        with dest.open("wb") as out:
            while chunk := await f.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise HTTPException(413, f"upload over {settings.max_upload_mb} MiB "
                                             "(DOCVLM_MAX_UPLOAD_MB)")
                out.write(chunk)
        saved.append(dest)
    try:
        options = JobOptions(mode=mode, pages=pages, dpi=dpi, password=password)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    return _submit(saved, options)


@app.post("/v1/jobs/paths", status_code=202, response_model=Accepted)
def create_job_from_paths(req: PathsRequest) -> JSONResponse:
    """Submit files already on a volume shared with the workers."""
    missing = [p for p in req.paths if not Path(p).exists()]
    if missing:
        raise HTTPException(422, f"no such file: {missing[0]}")
    return _submit([Path(p) for p in req.paths], req.options)


def _job(job_id: str) -> Job:
    try:
        return client.status(job_id)
    except errors.UsageError as e:
        raise HTTPException(404, str(e)) from None


@app.get("/v1/jobs/{job_id}", response_model=Job)
def get_job(job_id: str) -> Job:
    return _job(job_id)


@app.get("/v1/jobs/{job_id}/result", response_model=JobResult,
         responses={409: {"description": "the job has not finished"}})
def get_result(job_id: str) -> JobResult:
    job = _job(job_id)
    if not job.status.finished:
        raise HTTPException(409, f"job is {job.status.value}")
    return JobResult(job=job, documents=client.result(job_id))


@app.delete("/v1/jobs/{job_id}", response_model=Job)
def cancel_job(job_id: str) -> Job:
    _job(job_id)
    return client.cancel(job_id)


@app.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@app.get("/readyz")
def readyz(response: Response) -> dict:
    """Ready when Redis answers."""
    try:
        redis.Redis.from_url(settings.redis_url, socket_timeout=2).ping()
    except redis.RedisError as e:
        response.status_code = 503
        return {"status": "unavailable", "redis": str(e)}
    return {"status": "ok"}


@app.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request) -> PlainTextResponse:
    body, content_type = metrics.render()
    return PlainTextResponse(body, media_type=content_type)
