"""Job state in Redis (with a TTL) and job files in the result directory.

Redis keys (prefix ``docvlm:``):

    job:{id}            hash: the Job record as JSON ("job"), "cancelled" flag
    job:{id}:done       set of finished batch ids (SADD says whether a batch is new, so a
                        redelivered batch is never counted twice)
    job:{id}:finalized  set-once marker of the finalize step

Files (never in Redis): ``{result_dir}/{id}/input/`` uploads, ``batches/{batch}.json`` one
partial Document per page batch (written to a temp file, then renamed), ``result/`` the
assembled Documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis

from schemas import Document, Job, JobStatus

PREFIX = "docvlm:"
METRICS = f"{PREFIX}metrics:"
TTL_S = 7 * 24 * 3600
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Batch:
    """Pages ``first``..``last`` of document ``doc`` of a job; its id is deterministic."""

    job: str
    doc: int
    first: int
    last: int

    @property
    def id(self) -> str:
        return f"d{self.doc:04d}-p{self.first:05d}-{self.last:05d}"

    @property
    def pages(self) -> list[int]:
        return list(range(self.first, self.last + 1))


def now() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, r: redis.Redis, result_dir: Path) -> None:
        self.r = r
        self.result_dir = Path(result_dir)

    # ---------------------------------------------------------------- keys and paths
    def key(self, job_id: str, suffix: str = "") -> str:
        return f"{PREFIX}job:{job_id}{suffix}"

    def job_dir(self, job_id: str) -> Path:
        return self.result_dir / job_id

    def batch_path(self, b: Batch) -> Path:
        return self.job_dir(b.job) / "batches" / f"{b.id}.json"

    def result_path(self, job_id: str, doc: int, name: str) -> Path:
        return self.job_dir(job_id) / "result" / f"{doc:04d}-{Path(name).stem}.json"

    # ---------------------------------------------------------------- job records
    def save(self, job: Job) -> None:
        job.updated_at = now()
        pipe = self.r.pipeline()
        pipe.hset(self.key(job.id), "job", job.model_dump_json())
        pipe.expire(self.key(job.id), TTL_S)
        pipe.execute()

    def load(self, job_id: str) -> Job | None:
        raw = self.r.hget(self.key(job_id), "job")
        return Job.model_validate_json(raw) if raw else None

    def cancelled(self, job_id: str) -> bool:
        return self.r.hget(self.key(job_id), "cancelled") == b"1"

    def cancel(self, job_id: str) -> Job | None:
        job = self.load(job_id)
        if job is None:
            return None
        self.r.hset(self.key(job_id), "cancelled", "1")
        if not job.status.finished:
            job.status = JobStatus.CANCELLED
            self.save(job)
        return job

    def mark_done(self, b: Batch, n_pages: int) -> bool:
        """Count a finished batch once; True when this call was the first to count it."""
        first = self.r.sadd(self.key(b.job, ":done"), b.id) == 1
        self.r.expire(self.key(b.job, ":done"), TTL_S)
        if first:
            self._update(b.job, n_pages)
            self.count_pages(n_pages)
        return first

    def _update(self, job_id: str, n_pages: int) -> None:
        """Add progress under a WATCH/MULTI retry loop (two workers may finish at once)."""
        key = self.key(job_id)
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, "job")
                    if raw is None:
                        return
                    job = Job.model_validate_json(raw)
                    job.pages_done += n_pages
                    if job.status == JobStatus.QUEUED:
                        job.status = JobStatus.RUNNING
                    job.updated_at = now()
                    pipe.multi()
                    pipe.hset(key, "job", job.model_dump_json())
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def record_page(self, seconds: float, error_codes: list[str]) -> None:
        """Metrics for one processed page (read by workers.metrics at scrape time)."""
        le = next((str(b) for b in LATENCY_BUCKETS if seconds <= b), "inf")
        pipe = self.r.pipeline()
        pipe.hincrbyfloat(f"{METRICS}latency", le, 1)
        pipe.hincrbyfloat(f"{METRICS}latency", "sum", seconds)
        for code in error_codes:
            pipe.hincrby(f"{METRICS}errors", code, 1)
        pipe.execute()

    def count_pages(self, n: int) -> None:
        self.r.incrby(f"{METRICS}pages", n)

    def set_running(self, b: Batch, who: str | None) -> None:
        """Which worker process runs a batch (``host:pid``), for operators and fault tests."""
        key = self.key(b.job, ":running")
        if who is None:
            self.r.hdel(key, b.id)
        else:
            self.r.hset(key, b.id, who)
            self.r.expire(key, TTL_S)

    def running(self, job_id: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in
                self.r.hgetall(self.key(job_id, ":running")).items()}

    def n_done(self, job_id: str) -> int:
        return self.r.scard(self.key(job_id, ":done"))

    def claim_finalize(self, job_id: str) -> bool:
        """Only one finalize runs to completion; a later one (redelivery) may redo it, which
        is harmless since finalizing is idempotent."""
        return bool(self.r.set(self.key(job_id, ":finalized"), "1", nx=True, ex=TTL_S))

    def batches_of(self, job: Job) -> list[Batch]:
        plan = json.loads((self.job_dir(job.id) / "plan.json").read_text())
        return [Batch(job.id, d, f, last) for d, f, last in plan["batches"]]

    def read_batch(self, b: Batch) -> Document | None:
        p = self.batch_path(b)
        return Document.model_validate_json(p.read_text()) if p.exists() else None
