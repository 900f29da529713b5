"""Worker and API configuration from environment variables prefixed ``DOCVLM_``."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCVLM_")

    redis_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "docvlm"
    result_dir: Path = Path("./docvlm-results")
    model_path: str | None = None  # None: the shipped weights
    # A page batch gets a soft limit (raises inside the task, which records the error) and a
    # hard limit (the process is killed) a little later.
    soft_time_limit_s: int = 300
    hard_time_limit_s: int = 360
    max_tasks_per_child: int = 200  # recycle workers to bound leaks in native libraries
    max_memory_per_child_mb: int = 3000
    max_upload_mb: int = 100  # HTTP uploads per job
    max_pages: int = 2000  # per document; more is refused (HTTP 422 when nothing is left)


def get_settings() -> Settings:
    return Settings()
