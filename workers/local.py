"""A local stack for tests and benchmarks: a redis-server with append-only persistence on a
port of its own, and Celery worker processes started with the ``docvlm worker`` command."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server")

    def start(self) -> None:
        if self.binary is None:
            raise RuntimeError("redis-server not found (scripts/setup.sh installs it)")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        for _ in range(200):
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: redis writes its append-only file and exits
            self.proc.wait(10)


class Worker:
    """``docvlm worker`` in its own session (so the whole process group can be stopped)."""

    def __init__(self, name: str, log: Path, env: dict[str, str], concurrency: int = 1,
                 ready_timeout: float = 120) -> None:
        self.log = Path(log)
        docvlm = str(Path(sys.executable).with_name("docvlm"))
        self.proc = subprocess.Popen(
            [docvlm, "worker", "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
             "--loglevel", "INFO"], env={**os.environ, **env}, stdout=self.log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while "ready." not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
