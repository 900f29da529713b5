"""Queue throughput: pages/s through Redis + Celery with 1 and 2 worker processes, against
in-process ``docvlm.extract`` on the same files, in one run.

    python benchmarks/bench_queue.py [--docs 20] [--pages 3] [--mode text]

Starts its own redis-server (a free port, append-only) and ``docvlm worker`` processes; the
documents are generated (born-digital text pages). The per-page overhead of the queue is the
difference of seconds per page between the queue and in-process runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--mode", default="text", help="extraction mode (default: text)")
    args = ap.parse_args()
    from workers.local import RedisServer, Worker, free_port

    tmp = Path(tempfile.mkdtemp(prefix="docvlm-bench-"))
    port = free_port()
    env = {"DOCVLM_REDIS_URL": f"redis://127.0.0.1:{port}/0",
           "DOCVLM_RESULT_DIR": str(tmp / "results"),
           "DOCVLM_QUEUE": f"bench-{uuid.uuid4().hex[:6]}", "OMP_NUM_THREADS": "1"}
    os.environ.update(env)
    from docvlm.pipeline import ExtractOptions, extract
    from schemas import JobOptions
    from tests.conftest import make_text_pdf
    from workers import client

    files = [make_text_pdf(tmp / f"doc{i:03d}.pdf", pages=args.pages) for i in range(args.docs)]
    n_pages = args.docs * args.pages
    t0 = time.perf_counter()
    for f in files:
        extract(f, ExtractOptions(mode=args.mode))
    t_local = time.perf_counter() - t0
    print(f"{args.docs} documents x {args.pages} pages, mode {args.mode}")
    print(f"  in-process extract:      {n_pages / t_local:6.2f} pages/s "
          f"({t_local / n_pages * 1000:.0f} ms/page)")
    server = RedisServer(port, tmp / "redis")
    server.start()
    try:
        for n in (1, 2):
            workers = [Worker(f"b{n}{k}", tmp / f"b{n}{k}.log", env) for k in range(n)]
            try:
                t0 = time.perf_counter()
                jobs = [client.submit([f], JobOptions(mode=args.mode)) for f in files]
                done = [client.wait(j.id, timeout=1800, poll=0.1) for j in jobs]
                dt = time.perf_counter() - t0
            finally:
                for w in workers:
                    w.stop()
            ok = sum(j.status.value == "succeeded" for j in done)
            print(f"  queue, {n} worker process{'es' if n > 1 else '  '}: {n_pages / dt:6.2f} "
                  f"pages/s ({dt / n_pages * 1000:.0f} ms/page; {ok}/{len(jobs)} jobs "
                  f"succeeded; overhead {(dt / n_pages - t_local / n_pages) * 1000 * n:+.0f} "
                  f"ms/page per process)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
