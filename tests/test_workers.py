"""The queue with a real Redis (a redis-server of the test's own, append-only, on a free port)
and real Celery worker processes: no eager mode, no mocks.

Environment for the workers and this process is set before ``workers`` is imported.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO, make_text_pdf
from workers.local import RedisServer, Worker, free_port

PORT = free_port()
TMP = Path(tempfile.mkdtemp(prefix="docvlm-workers-"))
ENV = {
    "DOCVLM_REDIS_URL": f"redis://127.0.0.1:{PORT}/0",
    "DOCVLM_RESULT_DIR": str(TMP / "results"),
    "DOCVLM_QUEUE": f"docvlm-test-{uuid.uuid4().hex[:8]}",
    "DOCVLM_TEST_SLOW_PAGE_S": "1.0",
    "DOCVLM_TEST_SLOW_MATCH": "slow",
    "OMP_NUM_THREADS": "1",
}
os.environ.update(ENV)
DOCVLM = str(Path(sys.executable).with_name("docvlm"))
REDIS_SERVER = shutil.which("redis-server")

pytestmark = pytest.mark.skipif(REDIS_SERVER is None,
                                reason="redis-server missing: scripts/setup.sh installs it")


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer(PORT, TMP / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workers(redis_server):
    ws = [Worker(n, TMP / f"{n}.log", ENV) for n in ("w1", "w2")]
    yield ws
    for w in ws:
        w.stop()


@pytest.fixture(scope="module")
def client(redis_server):
    from workers import client as c

    return c


def docs_dir(name: str) -> Path:
    d = TMP / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_redis_restart_keeps_accepted_jobs(redis_server, client):
    """Jobs accepted while no worker runs survive a Redis restart (append-only file)."""
    folder = docs_dir("restart")
    files = [make_text_pdf(folder / f"r{i}.pdf") for i in range(3)]
    jobs = [client.submit([f]) for f in files]
    redis_server.stop()
    redis_server.start()
    w = Worker("w3", TMP / "w3.log", ENV)
    try:
        finished = [client.wait(j.id, timeout=120) for j in jobs]
    finally:
        w.stop()
    assert [j.status.value for j in finished] == ["succeeded"] * 3


def test_submit_python_api_and_exactly_once_pages(workers, client):
    from docvlm.pipeline import extract

    pdf = make_text_pdf(docs_dir("py") / "three.pdf", pages=3)
    job = client.submit([pdf])
    done = client.wait(job.id, timeout=120)
    assert done.status.value == "succeeded", done
    assert (done.pages_total, done.pages_done) == (3, 3)
    [doc] = client.result(job.id)
    local = extract(pdf, mode="text")
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.text() == local.text()


def test_submit_result_status_through_the_cli(workers, tmp_path):
    pdf = make_text_pdf(docs_dir("cli") / "two.pdf", pages=2)
    r = subprocess.run([DOCVLM, "submit", str(pdf), "--wait", "--timeout", "120",
                        "--precision", "fp32"],
                       capture_output=True, text=True, env={**os.environ, **ENV}, timeout=200)
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.splitlines()[0]
    job = json.loads(r.stdout[len(job_id) + 1:])
    assert job["status"] == "succeeded" and job["options"]["precision"] == "fp32"
    r = subprocess.run([DOCVLM, "result", job_id, "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, env={**os.environ, **ENV})
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "out" / "two.json").read_text())
    assert [p["number"] for p in doc["pages"]] == [1, 2]
    r = subprocess.run([DOCVLM, "status", "nope"], capture_output=True, text=True,
                       env={**os.environ, **ENV})
    assert r.returncode == 2 and "no job" in r.stderr


def test_http_api_upload_status_result_and_metrics(workers):
    from fastapi.testclient import TestClient

    from workers.api import app

    api = TestClient(app)
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").status_code == 200
    pdf = make_text_pdf(docs_dir("http") / "up.pdf", pages=2)
    r = api.post("/v1/jobs", files=[("files", ("up.pdf", pdf.read_bytes(),
                                                "application/pdf"))], data={"mode": "text"})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    assert r.headers["location"] == url
    deadline = time.monotonic() + 120
    while api.get(url).json()["status"] not in ("succeeded", "partial", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    res = api.get(url + "/result").json()
    assert res["job"]["status"] == "succeeded"
    assert [p["number"] for p in res["documents"][0]["pages"]] == [1, 2]
    assert api.get("/v1/jobs/unknown").status_code == 404
    metrics = api.get("/metrics").text
    assert "docvlm_pages_processed_total" in metrics and "docvlm_queue_depth" in metrics
    assert "docvlm_page_seconds_bucket" in metrics


def test_openapi_document_is_committed_and_current():
    from workers.api import app

    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(app.openapi())), \
        "docs/openapi.json drifted: run scripts/write_openapi.py"


def test_upload_size_limit_is_a_clear_413(workers, monkeypatch):
    from fastapi.testclient import TestClient

    from workers.api import app
    from workers.app import settings

    monkeypatch.setattr(settings, "max_upload_mb", 0)
    r = TestClient(app).post("/v1/jobs", files=[("files", ("a.pdf", b"%PDF-1.4" + b"0" * 100,
                                                            "application/pdf"))])
    assert r.status_code == 413 and "MAX_UPLOAD_MB" in r.json()["detail"]


def test_page_limit_is_a_clear_422(workers, monkeypatch):
    from fastapi.testclient import TestClient

    from workers.api import app
    from workers.app import settings

    monkeypatch.setattr(settings, "max_pages", 1)
    pdf = make_text_pdf(docs_dir("limit") / "two.pdf", pages=2)
    r = TestClient(app).post("/v1/jobs", files=[("files", ("two.pdf", pdf.read_bytes(),
                                                            "application/pdf"))])
    assert r.status_code == 422 and "page limit" in r.json()["detail"]


def test_fifty_documents_two_workers_every_page_once(workers, client):
    folder = docs_dir("fifty")
    files = [make_text_pdf(folder / f"d{i:02d}.pdf", pages=1 + i % 3) for i in range(50)]
    jobs = [client.submit([f]) for f in files]
    finished = [client.wait(j.id, timeout=300) for j in jobs]
    assert all(j.status.value == "succeeded" for j in finished)
    pages = Counter()
    for j, f in zip(finished, files):
        [doc] = client.result(j.id)
        for p in doc.pages:
            pages[(f.name, p.number)] += 1
        assert j.pages_done == j.pages_total == 1 + int(f.stem[1:]) % 3
    assert len(pages) == sum(1 + i % 3 for i in range(50)) and set(pages.values()) == {1}
    logs = "".join(w.log.read_text() for w in workers)
    assert "w1@" in logs and "w2@" in logs


def test_corrupt_document_makes_the_job_partial(workers, client):
    folder = docs_dir("mixed")
    good = make_text_pdf(folder / "good.pdf", pages=2)
    bad = folder / "bad.pdf"
    bad.write_bytes(b"<html>not a pdf</html>")
    job = client.wait(client.submit([good, bad]).id, timeout=120)
    assert job.status.value == "partial"
    states = {d.name: d for d in job.documents}
    assert states["good.pdf"].status.value == "succeeded"
    assert states["bad.pdf"].status.value == "failed"
    assert states["bad.pdf"].errors[0].code == "unsupported_format"


def _running_pid(client, job_id: str, timeout: float = 60) -> int:
    """PID of the worker process running one of the job's batches (recorded in Redis)."""
    from workers.client import store

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = store().running(job_id)
        if running:
            return int(next(iter(running.values())).rsplit(":", 1)[1])
        time.sleep(0.1)
    raise AssertionError("no worker picked the batch up")


def test_worker_killed_mid_batch_is_redelivered(workers, client):
    pdf = make_text_pdf(docs_dir("kill") / "slow-kill.pdf", pages=4)  # 1 s per page
    job = client.submit([pdf])
    victim = _running_pid(client, job.id)
    time.sleep(1.5)  # inside the batch, between its pages
    os.kill(victim, signal.SIGKILL)
    done = client.wait(job.id, timeout=180)
    assert done.status.value == "succeeded"
    [doc] = client.result(job.id)
    assert [p.number for p in doc.pages] == [1, 2, 3, 4]  # none missing, none twice
    assert done.pages_done == 4


def test_cancel_a_running_job(workers, client):
    pdf = make_text_pdf(docs_dir("cancel") / "slow-cancel.pdf", pages=12)  # 3 batches
    job = client.submit([pdf])
    _running_pid(client, job.id)
    time.sleep(1.2)
    assert client.cancel(job.id).status.value == "cancelled"
    time.sleep(3.0)  # running batches stop at their next page; queued ones are skipped
    final = client.status(job.id)
    assert final.status.value == "cancelled"
    assert final.pages_done < 12
    from workers.client import store

    assert store().running(job.id) == {}  # nobody is still working on it
