"""The Celery application (broker and job state on Redis; results go to the result directory).

    celery -A workers.app worker --concurrency 1 --prefetch-multiplier 1
"""

from __future__ import annotations

from celery import Celery

from workers.settings import get_settings

settings = get_settings()

app = Celery("docvlm", broker=settings.redis_url, backend=settings.redis_url,
             include=["workers.tasks"])
app.conf.update(
    # The result backend keeps only each task's short outcome ("done", "cancelled") for a
    # day; documents are files in the result directory, never blobs in Redis.
    result_expires=24 * 3600,
    # Acknowledge after the task ran, and requeue when the worker process dies, so a crash
    # mid-batch redelivers it. Safe only because tasks are idempotent (see workers.tasks).
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # Pages are long tasks: take one at a time so a busy worker does not hoard the queue.
    worker_prefetch_multiplier=1,
    task_soft_time_limit=settings.soft_time_limit_s,
    task_time_limit=settings.hard_time_limit_s,
    # Redis redelivers unacknowledged tasks after the visibility timeout: it must exceed the
    # hard time limit, or a slow task would run twice.
    broker_transport_options={"visibility_timeout": settings.hard_time_limit_s * 2},
    worker_max_tasks_per_child=settings.max_tasks_per_child,
    worker_max_memory_per_child=settings.max_memory_per_child_mb * 1024,  # in KiB
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    # One named queue, so tests and deployments sharing a Redis do not mix their tasks.
    task_default_queue=settings.queue,
    worker_hijack_root_logger=False,
)
