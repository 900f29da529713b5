"""Thin Celery tasks: arguments are ids and page numbers (never objects); the work is in
``workers.jobs``. A batch is idempotent, so late acknowledgement with redelivery is safe."""

from __future__ import annotations

import logging
import os

import redis
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from workers.app import app, settings
from workers.jobs import finalize, run_batch
from workers.store import Batch, Store

log = logging.getLogger(__name__)
_store: Store | None = None


def get_store() -> Store:
    """One Redis connection pool per worker process."""
    global _store
    if _store is None:
        _store = Store(redis.Redis.from_url(settings.redis_url), settings.result_dir)
    return _store


@worker_process_init.connect
def _load_model_once(**_) -> None:
    """Load the model when a pool process starts, not on its first page."""
    if settings.model_path:
        os.environ["DOCVLM_MODEL"] = settings.model_path
    from docvlm.pipeline import default_model_path

    path = default_model_path()
    if path is not None:
        from docvlm.passes import load_model

        load_model(path, int8=True)  # as extraction loads it (precision "auto")


# Retry only what is transient (Redis unreachable for a moment, a shared volume hiccup);
# a corrupt or encrypted file is not an exception here: it is recorded in the Document.
TRANSIENT = (redis.ConnectionError, redis.TimeoutError, BlockingIOError, InterruptedError)


@app.task(name="docvlm.process_batch", bind=True, autoretry_for=TRANSIENT, retry_backoff=2,
          retry_backoff_max=60, retry_jitter=True, max_retries=5, acks_late=True)
def process_batch(self, job_id: str, doc: int, first: int, last: int) -> str:
    on_page = _test_slowdown(job_id, doc)
    try:
        return run_batch(get_store(), Batch(job_id, doc, first, last), on_page=on_page)
    except SoftTimeLimitExceeded:
        log.error("batch %s/%d %d-%d over the soft time limit", job_id, doc, first, last)
        raise


def _test_slowdown(job_id: str, doc: int):
    """Fault-injection hook for the test suite: with DOCVLM_TEST_SLOW_PAGE_S set, pages of
    documents whose name contains DOCVLM_TEST_SLOW_MATCH take that long, so a test can kill
    or cancel a busy worker. Unset in production: returns None."""
    secs = os.environ.get("DOCVLM_TEST_SLOW_PAGE_S")
    match = os.environ.get("DOCVLM_TEST_SLOW_MATCH", "slow")
    if not secs:
        return None
    job = get_store().load(job_id)
    if job is None or match not in job.documents[doc].name:
        return None
    import time

    return lambda _page: time.sleep(float(secs))


@app.task(name="docvlm.finalize", autoretry_for=TRANSIENT, retry_backoff=2, max_retries=5,
          acks_late=True)
def finalize_job(job_id: str) -> str | None:
    job = finalize(get_store(), job_id)
    return job.status.value if job else None
