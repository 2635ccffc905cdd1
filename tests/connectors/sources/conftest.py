"""Real things for connector tests: HTTP servers on 127.0.0.1 and topics on the embedded broker."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.sources.checkpoint import KafkaCheckpoints
from connectors.sources.outlet import KafkaOutlet
from connectors.sources.publish import Publisher
from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.topics import TopicNames

_prefixes = itertools.count(1)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port); yield its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def wait_until(predicate: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def topic_records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    """Every record of ``topic`` so far: (key, value, headers)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or {0}]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out += [(r.key, r.value, dict(r.headers)) for r in records]
        return out
    finally:
        await consumer.stop()


@dataclass
class Topics:
    bootstrap: str
    names: TopicNames
    outlet: KafkaOutlet
    checkpoints: KafkaCheckpoints

    def publisher(self, name: str, **kw: object) -> Publisher:
        return Publisher(name, self.outlet, self.checkpoints, linger=0.05, retry_seconds=0.1, **kw)  # type: ignore[arg-type]

    async def records(self, topic: str) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
        return await topic_records(self.bootstrap, topic)

    async def item_ids(self) -> list[str]:
        return [str(orjson.loads(value)["id"]) for _, value, _ in await self.records(self.names.items)]


@pytest.fixture
async def topics(broker: EmbeddedBroker) -> AsyncIterator[Topics]:
    names = TopicNames(f"src{next(_prefixes)}.")
    await ensure_topics(broker.bootstrap, names.specs(2))
    outlet = KafkaOutlet(broker.bootstrap, items_topic=names.items, deadletter_topic=names.deadletter)
    await outlet.start()
    checkpoints = KafkaCheckpoints(broker.bootstrap, names.source_state)
    try:
        yield Topics(broker.bootstrap, names, outlet, checkpoints)
    finally:
        await outlet.stop()
        await checkpoints.close()
