"""The ``docvlm`` console command: the library's commands plus the queue's (``submit``,
``status``, ``result``, ``cancel``, ``worker``, ``serve``). It lives here, in the outer layer,
so that ``docvlm`` itself never imports Celery."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from docvlm import errors
from docvlm.cli import EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, add_precision_option, run
from docvlm.cli import build_parser as library_parser
from docvlm.ingest import expand_inputs, parse_page_ranges


def cmd_submit(args) -> int:
    from schemas import JobOptions, JobStatus
    from workers import client

    if args.pages:
        parse_page_ranges(args.pages, 10**9)
    files, problems = expand_inputs(args.paths)
    for p in problems:
        print(f"docvlm: {p}", file=sys.stderr)
    if not files:
        return EXIT_FAILURE
    options = JobOptions(mode=args.mode, pages=args.pages, dpi=args.dpi, password=args.password,
                         schema_path=args.schema, precision=args.precision)
    job = client.submit([f.resolve() for f in files], options)
    print(job.id)
    if not args.wait:
        return EXIT_OK
    job = client.wait(job.id, timeout=args.timeout)
    print(job.model_dump_json(indent=2))
    return {JobStatus.SUCCEEDED: EXIT_OK, JobStatus.PARTIAL: EXIT_PARTIAL}.get(job.status,
                                                                            EXIT_FAILURE)


def cmd_status(args) -> int:
    from workers import client

    print(client.status(args.job).model_dump_json(indent=2))
    return EXIT_OK


def cmd_result(args) -> int:
    from workers import client

    job = client.status(args.job)
    if not job.status.finished:
        raise errors.UsageError(f"job {args.job} is {job.status.value}: no result yet")
    docs = client.result(args.job)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    for d, meta in zip(docs, job.documents):
        if d is None:
            continue
        text = d.model_dump_json(indent=2)
        if out:
            (out / f"{Path(meta.name).stem}.json").write_text(text)
        else:
            print(d.model_dump_json())
    return EXIT_OK


def cmd_cancel(args) -> int:
    from workers import client

    print(client.cancel(args.job).status.value)
    return EXIT_OK


def cmd_worker(args) -> int:
    """Start a Celery worker: one process per core by default, one torch thread each (two
    processes with one thread beat one with two on small machines)."""
    concurrency = args.concurrency or os.cpu_count() or 1
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from workers.app import app

    argv = ["worker", "--concurrency", str(concurrency), "--prefetch-multiplier", "1",
            "--loglevel", args.loglevel, "-O", "fair", "-Q", app.conf.task_default_queue]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return EXIT_OK


def cmd_serve(args) -> int:
    import uvicorn

    uvicorn.run("workers.api:app", host=args.host, port=args.port, log_level="info")
    return EXIT_OK


def build_parser():
    parser = library_parser()
    sub = parser.commands
    p = sub.add_parser("submit", help="queue documents for the workers; prints the job id",
                       description="Submit files, folders or globs as one job.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--wait", action="store_true", help="wait for the job and print it")
    p.add_argument("--timeout", type=float, default=3600, help="seconds to --wait")
    p.add_argument("--mode", choices=("auto", "vision", "anchored", "text"), default="auto")
    p.add_argument("--pages", metavar="RANGES", help="pages, e.g. 1-3,7")
    p.add_argument("--dpi", type=int, default=200)
    p.add_argument("--password")
    p.add_argument("--schema", help="form schema for field extraction")
    add_precision_option(p)
    p.set_defaults(func=cmd_submit)
    for name, fn, text in (("status", cmd_status, "show a job's state and progress"),
                           ("cancel", cmd_cancel, "cancel a job (queued batches are skipped, "
                                                  "running ones stop between pages)")):
        q = sub.add_parser(name, help=text, description=text)
        q.add_argument("job", metavar="JOB")
        q.set_defaults(func=fn)
    q = sub.add_parser("result", help="fetch a finished job's documents",
                       description="Print the Documents as JSON Lines, or write them to -o.")
    q.add_argument("job", metavar="JOB")
    q.add_argument("-o", "--out", metavar="DIR", help="folder for one JSON file per document")
    q.set_defaults(func=cmd_result)
    w = sub.add_parser("worker", help="run a queue worker (Celery)",
                       description="Run a Celery worker on the DOCVLM_REDIS_URL broker.")
    w.add_argument("--concurrency", type=int, help="processes (default: one per core)")
    w.add_argument("--threads", type=int, default=1, help="torch threads per process")
    w.add_argument("--hostname", help="Celery node name")
    w.add_argument("--loglevel", default="INFO")
    w.set_defaults(func=cmd_worker)
    s = sub.add_parser("serve", help="run the HTTP API", description="Run the HTTP API.")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
