"""Prometheus metrics. Workers are separate processes, so what they count lives in Redis
(``docvlm:metrics:*``) and is read at scrape time by a custom collector."""

from __future__ import annotations

import redis
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from workers.app import settings
from workers.store import LATENCY_BUCKETS, METRICS

REGISTRY = CollectorRegistry()
JOBS_SUBMITTED = Counter("docvlm_jobs_submitted", "Jobs submitted through this API process",
                         registry=REGISTRY)


class RedisCollector:
    def collect(self):
        r = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        try:
            pages = int(r.get(f"{METRICS}pages") or 0)
            errors = {k.decode(): int(v) for k, v in r.hgetall(f"{METRICS}errors").items()}
            lat = {k.decode(): float(v) for k, v in r.hgetall(f"{METRICS}latency").items()}
            depth = r.llen(settings.queue)
        except redis.RedisError:
            return
        yield CounterMetricFamily("docvlm_pages_processed", "Pages processed by workers",
                                  value=pages)
        fam = CounterMetricFamily("docvlm_errors", "Errors by kind", labels=["code"])
        for code, n in sorted(errors.items()):
            fam.add_metric([code], n)
        yield fam
        buckets, cum = [], 0.0
        for le in LATENCY_BUCKETS:
            cum += lat.get(str(le), 0.0)
            buckets.append((str(le), cum))
        buckets.append(("+Inf", cum + lat.get("inf", 0.0)))
        yield HistogramMetricFamily("docvlm_page_seconds", "Page latency in workers",
                                    buckets=buckets, sum_value=lat.get("sum", 0.0))
        yield GaugeMetricFamily("docvlm_queue_depth", "Tasks waiting in the queue",
                                value=depth)


REGISTRY.register(RedisCollector())


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
