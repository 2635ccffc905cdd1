"""Prometheus metrics of a worker, read from the counters the stages already keep.

Why a collector over the existing counters instead of metric objects in the
stages: ``streams`` and ``connectors`` stay free of any metrics library (they
are used by batch tools and tests too), and a scrape reads the numbers as
they are at that moment, with nothing to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from connectors.delivery.engine import DeliveryStats
from connectors.sources.stats import SourceStats
from corroborate.health import Progress
from streams.agents import PipelineStats

__all__ = ["WorkerCollector", "worker_registry"]


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _labelled(kind: Callable[..., Any], name: str, doc: str, label: str, values: dict[str, int]) -> Metric:
    family = kind(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    assert isinstance(family, Metric)
    return family


class WorkerCollector(Collector):
    def __init__(
        self,
        *,
        pipeline: PipelineStats | None = None,
        clusters_live: Callable[[], int] | None = None,
        items_tracked: Callable[[], int] | None = None,
        progress: Progress | None = None,
        lag: Callable[[], dict[tuple[str, int], int]] | None = None,
        sources: Callable[[], Sequence[SourceStats]] = list,
        delivery: Callable[[], DeliveryStats | None] = lambda: None,
    ) -> None:
        self.pipeline = pipeline
        self.clusters_live = clusters_live
        self.items_tracked = items_tracked
        self.progress = progress
        self.lag = lag
        self.sources = sources
        self.delivery = delivery

    def collect(self) -> Iterator[Metric]:
        yield from self._pipeline()
        yield from self._sources()
        yield from self._delivery()

    def _pipeline(self) -> Iterator[Metric]:
        p = self.pipeline
        if p is not None:
            yield _counter("corroborate_items_in", "Items read by the cluster stage", p.items_in)
            yield _counter("corroborate_claims_out", "Items assigned to a claim cluster", p.claims_out)
            yield _labelled(
                CounterMetricFamily,
                "corroborate_dead_lettered",
                "Records sent to the dead-letter topic",
                "reason",
                p.dead_reasons,
            )
            yield _labelled(
                CounterMetricFamily,
                "corroborate_alerts",
                "Alerts emitted, by state",
                "state",
                p.alerts_by_state,
            )
            yield _counter(
                "corroborate_merges_found", "Pairs of clusters found to be one claim", p.merges_found
            )
            yield _counter("corroborate_clusters_merged", "Clusters retired into another", p.clusters_merged)
            yield _counter("corroborate_contradictions", "Contradiction links sent", p.contradictions_found)
            yield _counter(
                "corroborate_clusters_expired",
                "Clusters expired after their quiet period",
                p.clusters_expired,
            )
            yield _counter(
                "corroborate_sweep_failures",
                "Sweeps of the expiry timer that raised (logged; the next sweep retries)",
                p.sweep_failures,
            )
        if self.clusters_live is not None:
            yield GaugeMetricFamily(
                "corroborate_clusters_live", "Claim clusters in the matcher", value=self.clusters_live()
            )
        if self.items_tracked is not None:
            # The one part of the matcher's memory that max_clusters does not bound: a
            # claim kept live by a stream of retweets keeps every item id it was given.
            yield GaugeMetricFamily(
                "corroborate_items_tracked",
                "Item ids the matcher remembers (redeliveries, retweet parents)",
                value=self.items_tracked(),
            )
        if self.progress is not None:
            yield GaugeMetricFamily(
                "corroborate_records_waiting",
                "Records fetched and not yet processed",
                value=self.progress.waiting(),
            )
            yield GaugeMetricFamily(
                "corroborate_ready", "1 once tables are recovered", value=float(self.progress.ready)
            )
        if self.lag is not None:
            lag = GaugeMetricFamily(
                "corroborate_consumer_lag",
                "Records behind the end of the partition",
                labels=["topic", "partition"],
            )
            for (topic, partition), value in sorted(self.lag().items()):
                lag.add_metric([topic, str(partition)], value)
            yield lag

    def _sources(self) -> Iterator[Metric]:
        stats = list(self.sources())
        if not stats:
            return
        received = CounterMetricFamily(
            "corroborate_source_received", "Payloads read from the source", labels=["source"]
        )
        produced = CounterMetricFamily(
            "corroborate_source_produced", "Items acknowledged by Kafka", labels=["source"]
        )
        reconnects = CounterMetricFamily(
            "corroborate_source_reconnects", "New connections after the first", labels=["source"]
        )
        dropped = CounterMetricFamily(
            "corroborate_source_dropped", "Payloads not produced", labels=["source", "reason"]
        )
        errors = CounterMetricFamily(
            "corroborate_source_errors", "Failures that lost nothing", labels=["source", "kind"]
        )
        for s in stats:
            received.add_metric([s.name], s.received)
            produced.add_metric([s.name], s.produced)
            reconnects.add_metric([s.name], s.reconnects)
            for reason, n in sorted(s.dropped.items()):
                dropped.add_metric([s.name, reason], n)
            for kind, n in sorted(s.errors.items()):
                errors.add_metric([s.name, kind], n)
        yield from (received, produced, reconnects, dropped, errors)

    def _delivery(self) -> Iterator[Metric]:
        d = self.delivery()
        if d is None:
            return
        for name, doc, values in (
            ("corroborate_delivery_delivered", "Alert versions delivered", d.delivered),
            ("corroborate_delivery_retries", "Attempts repeated", d.retries),
            ("corroborate_delivery_rate_limited", "Answers of 429", d.rate_limited),
            ("corroborate_delivery_dead", "Alert versions dead-lettered", d.dead),
        ):
            yield _labelled(CounterMetricFamily, name, doc, "destination", dict(values))
        yield _counter(
            "corroborate_delivery_bad_records", "alert-history records that are not alerts", d.bad_records
        )
        yield HistogramMetricFamily(
            "corroborate_delivery_latency_seconds",
            "From an alert's emission to its delivery",
            buckets=d.latency.cumulative(),
            sum_value=d.latency.total,
        )


def worker_registry(collector: WorkerCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
