"""Connector checkpoints on a compacted topic, keyed by source name.

Why Kafka and not a local file: connectors run as stateless pods that a
scheduler moves between machines; the checkpoint must live where the items
do. The topic has one partition and is compacted, so it holds the latest
checkpoint of every source and is read to its end once at start.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

__all__ = ["CheckpointStore", "KafkaCheckpoints", "MemoryCheckpoints"]


class CheckpointStore(Protocol):
    async def load(self, source: str) -> dict[str, Any] | None: ...

    async def save(self, source: str, state: dict[str, Any]) -> None:
        """Return only when the checkpoint is durable."""


class MemoryCheckpoints:
    """For batch tools and tests that need no restart."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}

    async def load(self, source: str) -> dict[str, Any] | None:
        return self.states.get(source)

    async def save(self, source: str, state: dict[str, Any]) -> None:
        self.states[source] = orjson.loads(orjson.dumps(state))


class KafkaCheckpoints:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self._producer: AIOKafkaProducer | None = None

    async def load(self, source: str) -> dict[str, Any] | None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            tp = TopicPartition(self.topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            latest: bytes | None = None
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    if record.key == source.encode():
                        latest = record.value
            return None if latest is None else dict(orjson.loads(latest))
        finally:
            await consumer.stop()

    async def save(self, source: str, state: dict[str, Any]) -> None:
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", max_request_size=4 * 1024 * 1024
            )
            await self._producer.start()
        await self._producer.send_and_wait(self.topic, value=orjson.dumps(state), key=source.encode())

    async def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
