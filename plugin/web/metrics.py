"""``/metrics``: Prometheus text format.

Counters and histograms are kept per process; under gunicorn (``PROMETHEUS_MULTIPROC_DIR``
set by ``mentorbridge serve`` before anything imports prometheus_client) every worker writes
them to that directory and a scrape sums them. Outbox figures are read from the store at
scrape time, so every worker reports the same truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxStatement
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.store.webhook_models import WebhookEvent

__all__ = ["CONTENT_TYPE", "exposition", "observe_event", "observe_request"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Deliveries the flush-latency quantiles are taken over: the most recent ones.
LATENCY_WINDOW = 1000

_REGISTRY = CollectorRegistry()
_EVENTS = Counter(
    "mentorbridge_webhook_events",
    "Webhook deliveries, by event type and what became of them.",
    ["type", "outcome"],
    registry=_REGISTRY,
)
_REQUESTS = Histogram(
    "mentorbridge_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=_REGISTRY,
)


def observe_event(event_type: str, outcome: str) -> None:
    """Count one webhook delivery (``type`` is ``unknown`` when it never got parsed)."""
    _EVENTS.labels(event_type, outcome).inc()


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    _REQUESTS.labels(route, method, str(status)).observe(seconds)


def exposition(store: Store) -> bytes:
    """Everything, in Prometheus text format."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_StoreFigures(store))
    return generate_latest(registry)


class _ThisProcess(Collector):
    def collect(self) -> Iterator[Metric]:
        return _REGISTRY.collect()


class _StoreFigures(Collector):
    """Outbox depth, dead letters, delivery latency and held events, read at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        status = SqlOutbox(self.store).status(now=now)
        depth = GaugeMetricFamily(
            "mentorbridge_outbox_statements",
            "Statements in the outbox, by state (pending is the depth still to deliver).",
            labels=["state"],
        )
        for state, number in (
            ("pending", status.pending),
            ("delivered", status.delivered),
            ("dead", status.dead),
        ):
            depth.add_metric([state], number)
        yield depth
        yield GaugeMetricFamily(
            "mentorbridge_outbox_dead_letters",
            "Statements the LRS rejected, parked until an admin retries them.",
            value=status.dead,
        )
        age = (now - status.oldest_pending).total_seconds() if status.oldest_pending else 0.0
        yield GaugeMetricFamily(
            "mentorbridge_outbox_oldest_pending_age_seconds",
            "How long the oldest undelivered statement has waited (0 when none waits).",
            value=max(age, 0.0),
        )
        latency = GaugeMetricFamily(
            "mentorbridge_outbox_flush_latency_seconds",
            f"From queued to delivered, over the last {LATENCY_WINDOW} deliveries.",
            labels=["quantile"],
        )
        for quantile, seconds in self._latency_quantiles((0.5, 0.9, 0.99)):
            latency.add_metric([str(quantile)], seconds)
        yield latency
        with self.store.reading() as session:
            held = session.scalar(
                select(func.count()).select_from(WebhookEvent).where(WebhookEvent.status == "held")
            )
        yield GaugeMetricFamily(
            "mentorbridge_webhook_events_held",
            "Events waiting for the HRIS mirror to know a worker they name.",
            value=held or 0,
        )

    def _latency_quantiles(self, quantiles: tuple[float, ...]) -> list[tuple[float, float]]:
        table = OutboxStatement
        with self.store.reading() as session:
            rows = session.execute(
                select(table.created_at, table.delivered_at)
                .where(table.state == "delivered")
                .order_by(table.id.desc())
                .limit(LATENCY_WINDOW)
            ).all()
        waits = sorted(
            (delivered - created).total_seconds() for created, delivered in rows if delivered
        )
        if not waits:
            return []
        return [(q, waits[min(len(waits) - 1, int(q * len(waits)))]) for q in quantiles]
