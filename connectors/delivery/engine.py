"""The delivery engine: alerts from Kafka to every routed destination, then the offset commit.

Why commit only after delivery: a crash then re-reads what it had not
finished, so nothing is lost; the per-destination record of the highest
alert version delivered for each claim (a compacted topic, read back on
start) turns the re-read into no-ops, except for a destination that cannot
tell whether a post went through (see ``destinations``).

It reads the append-only history topic, not the compacted alerts topic: a
deliverer that fell behind must still deliver every version, and compaction
may already have dropped the middle ones from ``alerts``.

Per destination, alerts are sent in order (per claim, as they were raised)
through a token bucket; destinations work in parallel, and a batch is
committed when every destination has finished it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.delivery.config import DeliveryConfig
from connectors.delivery.destinations import (
    Delivered,
    Destination,
    Failed,
    RetryAfter,
    make_destination,
)
from connectors.delivery.throttle import TokenBucket, backoff
from streams.messages import Alert, SchemaError
from streams.topics import TopicNames

__all__ = ["LATENCY_BUCKETS", "DeliveryEngine", "DeliveryStats", "LatencyHistogram", "redact"]

log = logging.getLogger("corroborate.delivery")

#: 429s in a row for one alert before it is dead-lettered (the server is not recovering).
MAX_RATE_LIMITED = 30
#: httpx logs every request's URL at INFO and httpcore traces at DEBUG; a webhook URL is
#: a credential, so those loggers only ever speak from WARNING up here.
_URL_LOGGERS = ("httpx", "httpcore")


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every credential value replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass(slots=True)
class DeliveryStats:
    delivered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    already: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Alert versions skipped because the destination's record had them (redelivery)."""
    retries: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rate_limited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    dead: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bad_records: int = 0
    committed: int = 0
    latency: LatencyHistogram = field(default_factory=lambda: LatencyHistogram())
    """Seconds from the alert's emission to its delivery, every destination together."""


#: Upper bounds (seconds) of the delivery latency buckets, as Prometheus expects them.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, float("inf"))


@dataclass(slots=True)
class LatencyHistogram:
    """Cumulative-ready counts per bucket, a sum and a count: what a Prometheus histogram carries."""

    counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    total: float = 0.0
    n: int = 0

    def observe(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break
        self.total += seconds
        self.n += 1

    def cumulative(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, count in zip(LATENCY_BUCKETS, self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return out


class DeliveryEngine:
    def __init__(
        self,
        config: DeliveryConfig,
        *,
        bootstrap: str,
        topics: TopicNames,
        group_id: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        batch: int = 200,
        session_timeout: float = 30.0,
        state_ttl_days: float = 30.0,
    ) -> None:
        self.config = config
        self.bootstrap = bootstrap
        self.topics = topics
        self.group_id = group_id
        self._transport = transport
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._batch = batch
        self._session_ms = int(session_timeout * 1000)
        self._state_ttl = state_ttl_days * 86400.0
        self.destinations: dict[str, Destination] = {
            name: make_destination(cfg, wall) for name, cfg in config.destinations.items()
        }
        self._buckets = {
            name: TokenBucket(cfg.rate_per_second, cfg.burst, clock)
            for name, cfg in config.destinations.items()
        }
        self._secrets = config.secrets()
        for name in _URL_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        self.state: dict[str, dict[str, Any]] = {}
        self.stats = DeliveryStats()
        self.ready = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None

    # -- state ---------------------------------------------------------------------------
    async def _restore(self) -> None:
        """Read the compacted delivery-state topic to its end: what each destination has."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = consumer.partitions_for_topic(self.topics.delivery_state) or set()
            tps = [TopicPartition(self.topics.delivery_state, p) for p in parts]
            if not tps:
                return
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)

            async def behind() -> bool:
                for tp in tps:
                    if await consumer.position(tp) < ends[tp]:
                        return True
                return False

            while await behind():
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for rec in records:
                        if rec.key is None:
                            continue
                        if rec.value is None:
                            self.state.pop(rec.key.decode(), None)
                        else:
                            self.state[rec.key.decode()] = orjson.loads(rec.value)
        finally:
            await consumer.stop()

    async def _record(self, key: str, record: dict[str, Any]) -> None:
        assert self._producer is not None
        record = {**record, "at": self._wall()}
        await self._producer.send_and_wait(
            self.topics.delivery_state, key=key.encode(), value=orjson.dumps(record)
        )
        self.state[key] = record

    async def _prune(self) -> int:
        """Forget claims no destination has heard of for ``state_ttl_days`` (tombstones, then compaction).

        Why: the record of every claim ever delivered would otherwise grow for
        ever, in memory and on the topic. A claim that wakes up after that gets
        a new Slack message instead of an update of one a month old.
        """
        assert self._producer is not None
        horizon = self._wall() - self._state_ttl
        stale = [k for k, r in self.state.items() if float(r.get("at", horizon)) < horizon]
        for key in stale:
            await self._producer.send_and_wait(self.topics.delivery_state, key=key.encode(), value=None)
            del self.state[key]
        return len(stale)

    # -- delivery ------------------------------------------------------------------------
    async def _dead(self, name: str, alert: Alert, key: str, record: dict[str, Any], reason: str) -> None:
        assert self._producer is not None
        reason = redact(reason, self._secrets)
        self.stats.dead[name] += 1
        log.warning("delivery of %s to %s dead-lettered: %s", alert.alert_id, name, reason)
        await self._producer.send_and_wait(
            self.topics.delivery_dead,
            key=key.encode(),
            value=alert.to_json(),
            headers=[("x-error-reason", reason.encode()[:1000]), ("x-destination", name.encode())],
        )
        # From the current record: an intent journalled by the failed attempt must survive.
        await self._record(key, {**self.state.get(key, record), "version": alert.version, "dead": reason})

    async def deliver_one(self, name: str, alert: Alert, client: httpx.AsyncClient) -> None:
        destination, bucket = self.destinations[name], self._buckets[name]
        max_attempts = self.config.destinations[name].max_attempts
        key = f"{name}|{alert.cluster_id}"
        record = dict(self.state.get(key, {}))
        if int(record.get("version", 0)) >= alert.version:
            self.stats.already[name] += 1
            return

        async def journal(snapshot: dict[str, Any]) -> None:
            await self._record(key, snapshot)

        failures = limited = 0
        while True:
            wait = bucket.take()
            if wait > 0:
                await self._sleep(wait)
            outcome = await destination.deliver(alert, dict(self.state.get(key, record)), client, journal)
            if isinstance(outcome, Delivered):
                await self._record(key, outcome.record)
                self.stats.delivered[name] += 1
                if alert.emitted_at:
                    self.stats.latency.observe(self._wall() - alert.emitted_at)
                return
            if isinstance(outcome, RetryAfter):
                limited += 1
                self.stats.rate_limited[name] += 1
                if limited > MAX_RATE_LIMITED:
                    await self._dead(name, alert, key, record, f"still rate limited after {limited} tries")
                    return
                bucket.hold(outcome.seconds)
                continue
            assert isinstance(outcome, Failed)
            failures += 1
            if not outcome.repeat_safe or failures >= max_attempts:
                why = "not repeated: it may have been posted" if not outcome.repeat_safe else "last attempt"
                await self._dead(name, alert, key, record, f"{outcome.reason} ({why}, attempt {failures})")
                return
            self.stats.retries[name] += 1
            log.info(
                "retrying %s to %s after %s", alert.alert_id, name, redact(outcome.reason, self._secrets)
            )
            await self._sleep(backoff(failures, rng=self._rng))

    async def _drain(self, name: str, alerts: list[Alert], client: httpx.AsyncClient) -> None:
        for alert in alerts:
            await self.deliver_one(name, alert, client)

    async def _decode(self, raw: bytes | None, key: bytes | None) -> Alert | None:
        """The alert, or None once its bytes are in the delivery dead-letter topic with the reason."""
        try:
            return Alert.from_json(raw or b"")
        except (SchemaError, orjson.JSONDecodeError, TypeError, KeyError, ValueError) as exc:
            assert self._producer is not None
            self.stats.bad_records += 1
            reason = f"not an Alert: {type(exc).__name__}: {exc}"[:500]
            log.warning("dead-lettered an alert-history record (%d bytes): %s", len(raw or b""), reason)
            await self._producer.send_and_wait(
                self.topics.delivery_dead,
                key=key,
                value=raw or b"",
                headers=[("x-error-reason", reason.encode()), ("x-destination", b"")],
            )
            return None

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; the batch in hand is finished and committed first."""
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await self._producer.start()
        consumer = AIOKafkaConsumer(
            self.topics.alert_history,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._batch,
            session_timeout_ms=self._session_ms,
            heartbeat_interval_ms=max(300, self._session_ms // 4),
        )
        try:
            await self._restore()
            pruned = await self._prune()
            if pruned:
                log.info("forgot %d claims not heard of for %.0f days", pruned, self._state_ttl / 86400)
            await consumer.start()
            limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
            async with httpx.AsyncClient(transport=self._transport, limits=limits) as client:
                self.ready.set()
                while not stop.is_set():
                    batch = await consumer.getmany(timeout_ms=200, max_records=self._batch)
                    if not batch:
                        continue
                    queues: dict[str, list[Alert]] = defaultdict(list)
                    for records in batch.values():
                        for rec in records:
                            alert = await self._decode(rec.value, rec.key)
                            if alert is None:
                                continue
                            for name in self.config.targets(alert):
                                queues[name].append(alert)
                    await asyncio.gather(*(self._drain(n, a, client) for n, a in queues.items()))
                    await consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batch.items()})
                    self.stats.committed += sum(len(r) for r in batch.values())
        finally:
            await consumer.stop()
            await self._producer.stop()
