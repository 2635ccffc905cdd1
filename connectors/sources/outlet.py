"""Where sources put items: the items topic, and the dead-letter topic for payloads
that cannot become an item.

Why ``acks=all`` and a wait for every acknowledgement: a source advances its
checkpoint only after :meth:`KafkaOutlet.send` returns, so an item is either
in Kafka on every in-sync replica or will be read again from the source.
Items are keyed by id, so a repeated item lands on the partition that already
has it and the cluster agent (which remembers item ids) ignores it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer

from streams.records import MAX_ITEM_BYTES, Item

__all__ = ["SOURCE_HEADER", "KafkaOutlet", "Outlet"]

#: Header naming the connector that produced an item (or a dead letter).
SOURCE_HEADER = "x-source"


class Outlet(Protocol):
    async def send(self, items: Sequence[Item], source: str) -> None:
        """Return only when every item is acknowledged; raise if any was not."""

    async def dead_letter(self, raw: bytes, reason: str, detail: str, source: str) -> None: ...


class KafkaOutlet:
    def __init__(self, bootstrap: str, *, items_topic: str, deadletter_topic: str) -> None:
        self.items_topic = items_topic
        self.deadletter_topic = deadletter_topic
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=5,
            max_request_size=4 * MAX_ITEM_BYTES,
            max_batch_size=1024 * 1024,
            request_timeout_ms=30_000,
        )
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self._producer.start()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self._producer.stop()

    async def send(self, items: Sequence[Item], source: str) -> None:
        headers = [(SOURCE_HEADER, source.encode())]
        futures = [
            await self._producer.send(
                self.items_topic, value=item.to_json(), key=item.partition_key(), headers=headers
            )
            for item in items
        ]
        await asyncio.gather(*futures)

    async def dead_letter(self, raw: bytes, reason: str, detail: str, source: str) -> None:
        headers = [
            ("x-error-reason", reason.encode()),
            ("x-error-detail", detail[:500].encode("utf-8", "replace")),
            ("x-error-stage", f"connector:{source}".encode()),
            (SOURCE_HEADER, source.encode()),
        ]
        await self._producer.send_and_wait(self.deadletter_topic, value=raw[:MAX_ITEM_BYTES], headers=headers)
