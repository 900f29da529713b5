"""Batch processing: many documents through a pool of processes, with a per-document
timeout that kills a stuck worker (MuPDF on a hostile file, a runaway decode) without losing
the other documents, a progress bar on terminals, and a summary.

Each worker process loads the model once (``docvlm.passes.load_model`` caches it) and handles
one document at a time, so a crash or a timeout costs one document.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from docvlm import errors
from docvlm.pipeline import ExtractOptions, extract
from schemas import Document, SourceFile, Status

log = logging.getLogger(__name__)


@dataclass
class Summary:
    documents: int = 0
    ok: int = 0
    partial: int = 0
    failed: int = 0
    skipped: int = 0
    pages: int = 0
    seconds: float = 0.0
    statuses: list[Status] = field(default_factory=list)

    def add(self, doc: Document) -> None:
        self.documents += 1
        self.pages += len(doc.pages)
        self.statuses.append(doc.status)
        if doc.status == Status.SUCCESS:
            self.ok += 1
        elif doc.status == Status.PARTIAL:
            self.partial += 1
        else:
            self.failed += 1

    def line(self) -> str:
        rate = self.pages / self.seconds if self.seconds > 0 else 0.0
        noun = "document" if self.documents == 1 else "documents"
        return (f"{self.documents} {noun}: {self.ok} ok, {self.partial} partial, "
                f"{self.failed} failed, {self.skipped} skipped; {self.pages} pages in "
                f"{self.seconds:.1f} s ({rate:.2f} pages/s)")


def _failure(path: Path, err: errors.DocvlmError) -> Document:
    return Document(source=SourceFile(name=path.name, path=str(path)), status=Status.FAILURE,
                    errors=[err.to_item()])


def _run_one(path: str, opts: ExtractOptions) -> Document:
    return extract(path, opts)


def _warm(opts: ExtractOptions, threads: int = 1) -> None:
    """Worker initializer: imports and the model load are paid here, before any document,
    so they do not count against a document's timeout. ``threads``: this process's share of
    the cores (processes x threads <= cores: oversubscribed OpenMP threads fight)."""
    import cv2

    from docvlm.pipeline import _model_for

    cv2.setNumThreads(threads)
    ref = _model_for(opts)
    if ref is not None:
        import torch

        torch.set_num_threads(threads)
        ref.get()


def _ping() -> int:
    time.sleep(0.05)  # long enough that the pings spread over all the workers
    return os.getpid()


def _new_pool(jobs: int, opts: ExtractOptions) -> ProcessPoolExecutor:
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(jobs, mp_context=get_context("forkserver"), initializer=_warm,
                               initargs=(opts, threads))
    for fut in [pool.submit(_ping) for _ in range(jobs)]:
        fut.result()  # every worker started and initialised
    return pool


def _kill(pool: ProcessPoolExecutor) -> None:
    for p in list(getattr(pool, "_processes", {}).values()):
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_batch(files: list[Path], opts: ExtractOptions, *, jobs: int = 1,
              timeout: float | None = None, skip: Callable[[Path], bool] | None = None,
              progress: bool | None = None) -> Iterator[Document]:
    """Yield a Document per file (in completion order when ``jobs > 1``). ``skip(path)``
    True leaves a file out (``--skip-existing``); ``timeout`` seconds per document."""
    from tqdm import tqdm

    todo = [f for f in files if not (skip and skip(f))]
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(todo), unit="doc", disable=not show, file=sys.stderr)
    try:
        if jobs <= 1 and timeout is None:
            for f in todo:
                doc = extract(f, opts)
                bar.update(1)
                yield doc
            return
        yield from _pooled(todo, opts, max(1, jobs), timeout, bar)
    finally:
        bar.close()


def _pooled(todo: list[Path], opts: ExtractOptions, jobs: int, timeout: float | None,
            bar) -> Iterator[Document]:
    pending = list(todo)
    pool = _new_pool(jobs, opts)
    running: dict[Future, tuple[Path, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                f = pending.pop(0)
                running[pool.submit(_run_one, str(f), opts)] = (f, time.monotonic())
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                f, _ = running.pop(fut)
                try:
                    doc = fut.result()
                except BrokenProcessPool:  # a worker died (segfault, OOM kill)
                    broken = True
                    doc = _retry_alone(f, opts, timeout)  # one more try, alone
                except Exception as e:  # a bug: report the document, keep the batch going
                    doc = _failure(f, errors.DocvlmError(f"{type(e).__name__}: {e}", file=f,
                                                         stage="pipeline"))
                bar.update(1)
                yield doc
            now = time.monotonic()
            late = {fut for fut, (_, t0) in running.items()
                    if timeout is not None and now - t0 > timeout}
            if late or broken:
                # a stuck or dead worker cannot be cancelled: kill the pool, requeue the rest
                _kill(pool)
                for fut, (f, _) in running.items():
                    if fut in late:
                        bar.update(1)
                        yield _failure(f, errors.DocumentTimeoutError(
                            f"processing took over {timeout:g} s (--timeout)", file=f))
                    else:
                        pending.insert(0, f)
                running.clear()
                pool = _new_pool(jobs, opts)
    finally:
        _kill(pool)


def _retry_alone(f: Path, opts: ExtractOptions, timeout: float | None) -> Document:
    pool = _new_pool(1, opts)
    try:
        return pool.submit(_run_one, str(f), opts).result(timeout=timeout)
    except Exception as e:
        return _failure(f, errors.DocvlmError(
            f"the worker process died while processing the file ({type(e).__name__})",
            file=f, stage="pipeline"))
    finally:
        _kill(pool)


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
