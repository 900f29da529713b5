"""Planning a job into page batches, running one batch, and assembling the result.

These are plain functions over a :class:`workers.store.Store`; ``workers.tasks`` wraps them
as Celery tasks and ``workers.client`` calls ``plan``. Every step is idempotent:

- a batch whose output file exists is not recomputed; counting it again is refused by the
  Redis set of finished batches, so a redelivered batch never duplicates a page;
- the step that completes the last batch assembles the result; if its worker dies midway,
  the redelivered batch sees every batch done and assembles again (same files, atomic
  writes). No chord counter is involved, so a lost or duplicated task cannot break it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path

from docvlm import errors
from docvlm.ingest import DEFAULT_LIMITS, Limits, open_document, parse_page_ranges
from docvlm.output import write_atomic
from docvlm.pipeline import ExtractOptions, extract
from schemas import Document, ErrorItem, Job, JobDocument, JobOptions, JobStatus, Status
from workers.store import Batch, Store, now

log = logging.getLogger(__name__)
BATCH_PAGES = 4


def _runs(numbers: list[int], size: int) -> list[tuple[int, int]]:
    """Split sorted page numbers into ranges of consecutive pages, at most ``size`` long."""
    out: list[tuple[int, int]] = []
    for n in numbers:
        if out and n == out[-1][1] + 1 and n - out[-1][0] < size:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def plan(store: Store, paths: list[Path], options: JobOptions, batch_pages: int = BATCH_PAGES,
         limits: Limits = DEFAULT_LIMITS) -> tuple[Job, list[Batch]]:
    """Validate every document (a bad one is recorded as failed with its typed error), cut
    the good ones into batches, write the plan file and the job record."""
    job_id = uuid.uuid4().hex
    t = now()
    job = Job(id=job_id, created_at=t, updated_at=t, options=options)
    batches: list[Batch] = []
    for i, path in enumerate(paths):
        doc = JobDocument(name=Path(path).name, path=str(path))
        try:
            with open_document(path, password=options.password, digest=False,
                               limits=limits) as d:
                numbers, outside = parse_page_ranges(options.pages, d.page_count)
            doc.errors += [errors.PageOutOfRangeError(
                f"requested page {n} of {len(numbers) + len(outside)}", file=path, page=n
            ).to_item() for n in outside]
            doc.pages_total = len(numbers)
            batches += [Batch(job_id, i, a, b) for a, b in _runs(numbers, batch_pages)]
            if not numbers:
                doc.status = JobStatus.FAILED
        except errors.UsageError:
            raise
        except errors.DocvlmError as e:
            doc.status = JobStatus.FAILED
            doc.errors.append(e.to_item())
        job.documents.append(doc)
    job.pages_total = sum(d.pages_total for d in job.documents)
    write_atomic(store.job_dir(job_id) / "plan.json", json.dumps(
        {"batches": [[b.doc, b.first, b.last] for b in batches]}))
    store.save(job)
    return job, batches


def _options(job: Job, page: int) -> ExtractOptions:
    o = job.options
    return ExtractOptions(pages=str(page), dpi=o.dpi, password=o.password, mode=o.mode,
                          precision=o.precision)


def run_batch(store: Store, b: Batch, on_page=None) -> str:
    """Process one batch (page by page, checking for cancellation between pages), record it
    once, and assemble the job when it was the last. Returns what happened."""
    job = store.load(b.job)
    if job is None:
        return "expired"
    if store.read_batch(b) is None:
        if store.cancelled(b.job):
            return "cancelled"
        path = job.documents[b.doc].path
        parts: list[Document] = []
        store.set_running(b, f"{socket.gethostname()}:{os.getpid()}")
        for page in b.pages:
            if store.cancelled(b.job):
                store.set_running(b, None)
                return "cancelled"
            t0 = time.perf_counter()
            part = extract(path, _options(job, page))
            if on_page:
                on_page(page)
            store.record_page(time.perf_counter() - t0, [e.code for e in part.errors])
            parts.append(part)
        write_atomic(store.batch_path(b), merge(parts).model_dump_json())
        store.set_running(b, None)
    store.mark_done(b, len(b.pages))
    if store.n_done(b.job) >= len(store.batches_of(job)):
        finalize(store, b.job)
    return "done"


def merge(parts: list[Document]) -> Document:
    """One Document from Documents of disjoint page sets of the same file."""
    parts = [p for p in parts if p is not None]
    base = parts[0]
    seen: set[tuple] = set()
    out = Document(source=base.source, page_count=base.page_count)
    for p in parts:
        out.pages += p.pages
        for item in p.errors:
            k = (item.code, item.page, item.message)
            if k not in seen:
                seen.add(k)
                out.errors.append(item)
        for item in p.warnings:
            k = ("w", item.code, item.page, item.message)
            if k not in seen:
                seen.add(k)
                out.warnings.append(item)
    out.pages.sort(key=lambda pg: pg.number)
    out.status = (Status.FAILURE if not out.pages else Status.PARTIAL if out.errors
                  else Status.SUCCESS)
    return out


def finalize(store: Store, job_id: str) -> Job | None:
    """Assemble each document from its batches, write results, set the final status."""
    job = store.load(job_id)
    if job is None:
        return None
    by_doc: dict[int, list[Batch]] = {}
    for b in store.batches_of(job):
        by_doc.setdefault(b.doc, []).append(b)
    for i, d in enumerate(job.documents):
        if i not in by_doc:
            continue  # failed at planning: its errors are in the job record
        parts = [store.read_batch(b) for b in sorted(by_doc[i], key=lambda b: b.first)]
        if any(p is None for p in parts):
            continue  # cancelled before every batch ran
        doc = merge(parts)
        doc.errors = [e for e in d.errors if e.code == "page_out_of_range"] + doc.errors
        if doc.errors and doc.status == Status.SUCCESS:
            doc.status = Status.PARTIAL
        path = store.result_path(job_id, i, d.name)
        write_atomic(path, doc.model_dump_json(indent=2))
        d.result_path = str(path)
        d.pages_done = len(doc.pages)
        d.status = {Status.SUCCESS: JobStatus.SUCCEEDED, Status.PARTIAL: JobStatus.PARTIAL,
                    Status.FAILURE: JobStatus.FAILED}[doc.status]
        d.errors = [e for e in d.errors if e.code != "page_out_of_range"] + doc.errors
    job.pages_done = sum(d.pages_done for d in job.documents)
    states = {d.status for d in job.documents}
    if store.cancelled(job_id):
        job.status = JobStatus.CANCELLED
    elif states == {JobStatus.SUCCEEDED}:
        job.status = JobStatus.SUCCEEDED
    elif states <= {JobStatus.FAILED}:
        job.status = JobStatus.FAILED
    else:
        job.status = JobStatus.PARTIAL
    store.save(job)
    return job


def error_item(e: Exception, stage: str = "worker") -> ErrorItem:
    return ErrorItem(code="internal", message=f"{type(e).__name__}: {e}", stage=stage)
