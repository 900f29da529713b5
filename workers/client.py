"""Submitting and following jobs: ``submit``, ``status``, ``result``, ``cancel``, ``wait``.
Used by the CLI (``docvlm submit/status/result/cancel``), the HTTP API and Python callers."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from docvlm import errors
from docvlm.ingest import Limits
from schemas import Document, Job, JobOptions
from workers.app import settings
from workers.jobs import plan
from workers.store import Store


def store() -> Store:
    return Store(redis.Redis.from_url(settings.redis_url), settings.result_dir)


def submit(paths: list[str | Path], options: JobOptions | None = None, *,
           st: Store | None = None) -> Job:
    """Plan the job (validating each document) and queue its page batches."""
    from workers.tasks import finalize_job, process_batch

    st = st or store()
    limits = Limits(max_pages=settings.max_pages)
    job, batches = plan(st, [Path(p) for p in paths], options or JobOptions(), limits=limits)
    for b in batches:
        process_batch.apply_async((job.id, b.doc, b.first, b.last), queue=settings.queue)
    if not batches:  # nothing to process (every document failed validation)
        finalize_job.apply_async((job.id,), queue=settings.queue)
    return job


def status(job_id: str, *, st: Store | None = None) -> Job:
    job = (st or store()).load(job_id)
    if job is None:
        raise errors.UsageError(f"no job {job_id!r} (unknown, or expired after its TTL)")
    return job


def result(job_id: str, *, st: Store | None = None) -> list[Document | None]:
    """The assembled Documents, one per submitted document (None for a document that failed
    before processing: its errors are in the job record)."""
    job = status(job_id, st=st)
    return [Document.model_validate_json(Path(d.result_path).read_text())
            if d.result_path and Path(d.result_path).exists() else None
            for d in job.documents]


def cancel(job_id: str, *, st: Store | None = None) -> Job:
    job = (st or store()).cancel(job_id)
    if job is None:
        raise errors.UsageError(f"no job {job_id!r}")
    return job


def wait(job_id: str, timeout: float = 600, poll: float = 0.5, *, st: Store | None = None
         ) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = status(job_id, st=st)
        if job.status.finished or time.monotonic() > deadline:
            return job
        time.sleep(poll)
