"""Between a source and Kafka: drop repeats, batch, produce, then checkpoint.

Why this order: the checkpoint (position plus the keys recently produced) is
written only after Kafka acknowledged the batch, so a crash can at worst
re-read what was already produced, never skip what was not. What it re-reads
is dropped here as a repeat when the checkpoint already had it, and by the
cluster agent (which remembers item ids) in the one window a kill -9 leaves:
after the acknowledgement, before the checkpoint. A graceful stop flushes and
checkpoints, so a restart produces neither a gap nor a repeat.

Why a failed produce is retried and never dropped: a broker outage blocks the
source (back-pressure) instead of losing items; aiokafka reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from aiokafka.errors import KafkaError

from connectors.sources.checkpoint import CheckpointStore
from connectors.sources.outlet import Outlet
from connectors.sources.recent import RecentKeys
from connectors.sources.stats import SourceStats
from streams.records import Item

__all__ = ["CHECKPOINT_VERSION", "Publisher"]

log = logging.getLogger("corroborate.sources")

CHECKPOINT_VERSION = 1


class Publisher:
    def __init__(
        self,
        name: str,
        outlet: Outlet,
        checkpoints: CheckpointStore,
        *,
        recent_cap: int = 5000,
        max_batch: int = 500,
        linger: float = 0.2,
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.outlet = outlet
        self.checkpoints = checkpoints
        self.stats = SourceStats(name)
        self.recent = RecentKeys(recent_cap)
        self.position: dict[str, Any] = {}
        self.max_batch = max_batch
        self.linger = linger
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._buffer: list[Item] = []
        self._buffer_keys: list[list[str]] = []
        self._pending_keys: set[str] = set()
        self._pending_position: dict[str, Any] | None = None
        self._buffered_since: float | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> dict[str, Any]:
        """Load the checkpoint; return the source's position (empty on a first start)."""
        state = await self.checkpoints.load(self.name) or {}
        if state and state.get("v") != CHECKPOINT_VERSION:
            log.warning(
                "source %s: checkpoint version %r unknown, starting afresh", self.name, state.get("v")
            )
            state = {}
        self.position = dict(state.get("position") or {})
        self.recent = RecentKeys(self.recent.cap, state.get("recent") or ())
        return self.position

    async def offer(
        self, item: Item, *, keys: Iterable[str] = (), position: dict[str, Any] | None = None
    ) -> bool:
        """Buffer ``item`` unless it (or any of its other ``keys``) was produced recently.

        ``position`` is where the source stands once this item is durable. Returns
        whether the item was taken.
        """
        all_keys = [item.id, *keys]
        if position is not None:
            self._pending_position = position
        if self.recent.any_of(all_keys) or any(k in self._pending_keys for k in all_keys):
            self.stats.dropped["duplicate"] += 1
            return False
        # Only acknowledged items' keys enter ``recent`` (which the checkpoint saves): a key
        # saved before its item was durable would make a restart drop it as a repeat.
        self._pending_keys.update(all_keys)
        self._buffer.append(item.stamped(self._clock()))
        self._buffer_keys.append(all_keys)
        if self._buffered_since is None:
            self._buffered_since = time.monotonic()
        if len(self._buffer) >= self.max_batch:
            await self.flush()
        return True

    async def advance(self, position: dict[str, Any]) -> None:
        """Move the position without an item (a feed answered 304, a poll found nothing new)."""
        self._pending_position = position
        if not self._buffer:
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            items, self._buffer = self._buffer, []
            keys, self._buffer_keys = self._buffer_keys, []
            self._buffered_since = None
            position = self._pending_position
            self._pending_position = None
            if not items and position is None:
                return
            while items:
                try:
                    await self.outlet.send(items, self.name)
                    break
                except KafkaError as exc:
                    self.stats.errors["produce"] += 1
                    log.warning(
                        "source %s: %d items not acknowledged (%s); retrying in %.0fs",
                        self.name,
                        len(items),
                        type(exc).__name__,
                        self.retry_seconds,
                    )
                    await asyncio.sleep(self.retry_seconds)
            self.stats.produced += len(items)
            for item_keys in keys:
                for key in item_keys:
                    self.recent.add(key)
                    self._pending_keys.discard(key)
            if position is not None:
                self.position = position
            await self._save()

    async def _save(self) -> None:
        state = {"v": CHECKPOINT_VERSION, "position": self.position, "recent": self.recent.to_list()}
        while True:
            try:
                await self.checkpoints.save(self.name, state)
                return
            except KafkaError as exc:
                self.stats.errors["checkpoint"] += 1
                log.warning("source %s: checkpoint not saved (%s); retrying", self.name, type(exc).__name__)
                await asyncio.sleep(self.retry_seconds)

    async def reject(self, raw: bytes, reason: str, detail: str) -> None:
        """A payload that cannot become an item: counted, and kept on the dead-letter topic."""
        self.stats.dropped[reason] += 1
        try:
            await self.outlet.dead_letter(raw, reason, detail, self.name)
        except KafkaError as exc:
            log.warning("source %s: dead letter (%s) not written: %s", self.name, reason, type(exc).__name__)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Publisher]:
        """Flush a partly filled batch after ``linger`` seconds; flush and checkpoint on the way out."""
        ticker = asyncio.create_task(self._tick(), name=f"flush-{self.name}")
        try:
            yield self
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await asyncio.shield(self.flush())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.linger / 2)
            since = self._buffered_since
            if since is not None and time.monotonic() - since >= self.linger:
                await self.flush()
