"""Replay a file onto the items topic: JSONL items, or a public data set in its own format.

Why JSONL lines go out as they are: the replay source is a connector, not a
judge. Validation happens once, in the cluster agent, which dead-letters a bad
line with its original bytes and a reason; the source only keys each line by
its ``id`` when it can read one, so re-sends of an item land on one partition.
The data-set formats (``crisislext26``, ``rumoureval``) are mapped to items
here (``connectors.sources.datasets``), in time order.

Pacing: ``speed=None`` sends as fast as the producer takes them; a number
replays at real-time pace scaled by that factor, from the items' ``created_at``.

Resuming: with a checkpoint store, the count of records acknowledged is saved
every ``checkpoint_every`` records (after a flush) and at the end, and a
restarted replay of the same file skips what was acknowledged: no gap, and
at most one unsaved stretch sent twice after a kill -9 (the cluster agent
ignores an item id it already has).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson
from aiokafka import AIOKafkaProducer

from connectors.errors import SourceError
from connectors.sources.checkpoint import CheckpointStore
from connectors.sources.datasets import crisislext26_items, rumoureval_items
from connectors.sources.outlet import SOURCE_HEADER
from connectors.sources.stats import SourceStats
from streams.errors import InvalidItem
from streams.records import Item, conversation_key, parse_ts

__all__ = [
    "FORMATS",
    "ProgressBar",
    "ReplayInput",
    "ReplayResult",
    "ReplaySource",
    "read_lines",
    "replay_input",
]

MAX_LINE_BYTES = 16 * 1024 * 1024
FORMATS = ("jsonl", "crisislext26", "rumoureval")

#: (key, value, created_at or None, size in progress units)
Record = tuple[bytes | None, bytes, float | None, int]


@dataclass(slots=True)
class ReplayResult:
    sent: int = 0
    unkeyed: int = 0
    skipped: int = 0
    """Records a resumed replay did not send again (acknowledged before the restart)."""
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ReplayInput:
    label: str
    total: int
    """Progress units: bytes for JSONL, items for data sets."""
    records: Callable[[], Iterator[Record]]


def read_lines(path: Path) -> Iterator[bytes]:
    """Non-empty lines of ``path`` as bytes, undecoded (a non-UTF-8 line is still an item to judge)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot open replay file {path}: {exc.strerror}") from exc
    with handle:
        for line in handle:
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield line


def _key_and_ts(line: bytes) -> tuple[bytes | None, float | None]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    found = conversation_key(obj)
    key = found.encode() if found else None
    try:
        ts = parse_ts(obj.get("created_at"), "created_at") if obj.get("created_at") else None
    except InvalidItem:
        ts = None
    return key, ts


def _jsonl(path: Path) -> ReplayInput:
    def records() -> Iterator[Record]:
        for line in read_lines(path):
            key, ts = _key_and_ts(line)
            yield key, line, ts, len(line) + 1

    return ReplayInput(str(path), path.stat().st_size, records)


def _items(label: str, items: list[Item]) -> ReplayInput:
    def records() -> Iterator[Record]:
        for item in items:
            yield item.partition_key(), item.to_json(), item.created_at, 1

    return ReplayInput(label, len(items), records)


def replay_input(path: Path, fmt: str = "jsonl") -> ReplayInput:
    """What to replay: ``path`` read as ``fmt`` (one of :data:`FORMATS`)."""
    if not path.exists():
        raise SourceError(f"replay file {path} does not exist")
    if fmt == "jsonl":
        return _jsonl(path)
    if fmt == "crisislext26":
        return _items(str(path), crisislext26_items(path))
    if fmt == "rumoureval":
        return _items(str(path), rumoureval_items(path))
    raise SourceError(f"replay format {fmt!r} is not one of {', '.join(FORMATS)}")


class ProgressBar:
    """A one-line progress bar on a terminal; a line every few seconds elsewhere."""

    def __init__(self, total: int, stream: IO[str] | None = None, *, label: str = "replay") -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._started = time.monotonic()
        self._last = 0.0

    def update(self, done: int, count: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < (0.2 if self.tty else 5.0):
            return
        self._last = now
        frac = min(1.0, done / self.total)
        rate = count / max(now - self._started, 1e-6)
        bar = "#" * int(frac * 30)
        text = f"{self.label} [{bar:<30}] {frac:6.1%} {count} items {rate:,.0f}/s"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class ReplaySource:
    def __init__(
        self,
        source: ReplayInput,
        *,
        bootstrap: str,
        topic: str,
        speed: float | None = None,
        progress: ProgressBar | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        checkpoints: CheckpointStore | None = None,
        name: str = "replay",
        checkpoint_every: int = 1000,
    ) -> None:
        self.source = source
        self.bootstrap = bootstrap
        self.topic = topic
        self.speed = speed
        self.progress = progress
        self._sleep = sleep
        self.checkpoints = checkpoints
        self.name = name
        self.checkpoint_every = checkpoint_every
        self.stats = SourceStats(name)

    @property
    def path(self) -> str:
        return self.source.label

    async def _resume_from(self) -> int:
        if self.checkpoints is None:
            return 0
        state = await self.checkpoints.load(self.name) or {}
        position = state.get("position") or {}
        return int(position.get("done", 0)) if position.get("label") == self.source.label else 0

    async def _save(self, done: int) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.save(
                self.name, {"v": 1, "position": {"label": self.source.label, "done": done}, "recent": []}
            )

    async def _stop_cleanly(self, producer: AIOKafkaProducer, done: int) -> None:
        await producer.flush()
        await self._save(done)

    async def run(self) -> ReplayResult:
        result = ReplayResult()
        started = time.monotonic()
        skip = sent_upto = await self._resume_from()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=5,
            max_request_size=MAX_LINE_BYTES,
            max_batch_size=1024 * 1024,
        )
        await producer.start()
        headers = [(SOURCE_HEADER, self.name.encode())]
        try:
            first_ts: float | None = None
            done_units = done = 0
            sent_upto = skip
            for key, value, ts, size in self.source.records():
                done += 1
                done_units += size
                if done <= skip:
                    result.skipped += 1
                    continue
                self.stats.received += 1
                if self.speed and ts is not None:
                    if first_ts is None:
                        first_ts = ts
                    due = started + (ts - first_ts) / self.speed
                    delay = due - time.monotonic()
                    if delay > 0:
                        await self._sleep(delay)
                await producer.send(self.topic, value=value, key=key, headers=headers)
                sent_upto = done
                result.sent += 1
                result.unkeyed += key is None
                if self.checkpoints is not None and done % self.checkpoint_every == 0:
                    await producer.flush()
                    self.stats.produced = result.sent
                    await self._save(done)
                if self.progress:
                    self.progress.update(done_units, result.sent)
            await producer.flush()
            self.stats.produced = result.sent
            await self._save(done)
        except asyncio.CancelledError:
            # A graceful stop: what was sent is acknowledged and saved, so a restart neither
            # skips nor repeats. (A kill -9 repeats at most the unsaved stretch.)
            await asyncio.shield(self._stop_cleanly(producer, sent_upto))
            raise
        finally:
            await producer.stop()
        result.seconds = time.monotonic() - started
        if self.progress:
            self.progress.update(self.progress.total, result.sent, final=True)
        return result
