"""Replay a JSONL file of items onto the items topic.

Why lines go out as they are: the replay source is a connector, not a judge.
Validation happens once, in the cluster agent, which dead-letters a bad line
with its original bytes and a reason; the source only keys each line by its
``id`` when it can read one, so re-sends of an item land on one partition.

Pacing: ``speed=None`` sends as fast as the producer takes them; a number
replays at real-time pace scaled by that factor, from the items' ``created_at``.
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
from streams.errors import InvalidItem
from streams.records import parse_ts

__all__ = ["ProgressBar", "ReplayResult", "ReplaySource", "read_lines"]

MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class ReplayResult:
    sent: int = 0
    unkeyed: int = 0
    seconds: float = 0.0


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
    item_id = obj.get("id")
    key = str(item_id).encode() if isinstance(item_id, str | int) and item_id != "" else None
    try:
        ts = parse_ts(obj.get("created_at"), "created_at") if obj.get("created_at") else None
    except InvalidItem:
        ts = None
    return key, ts


class ProgressBar:
    """A one-line progress bar on a terminal; a line every few seconds elsewhere."""

    def __init__(self, total_bytes: int, stream: IO[str] | None = None, *, label: str = "replay") -> None:
        self.total = max(total_bytes, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._started = time.monotonic()
        self._last = 0.0

    def update(self, done_bytes: int, count: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < (0.2 if self.tty else 5.0):
            return
        self._last = now
        frac = min(1.0, done_bytes / self.total)
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
        path: Path,
        *,
        bootstrap: str,
        topic: str,
        speed: float | None = None,
        progress: ProgressBar | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.path = path
        self.bootstrap = bootstrap
        self.topic = topic
        self.speed = speed
        self.progress = progress
        self._sleep = sleep

    async def run(self) -> ReplayResult:
        result = ReplayResult()
        started = time.monotonic()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=5,
            max_request_size=MAX_LINE_BYTES,
            max_batch_size=1024 * 1024,
        )
        await producer.start()
        try:
            first_ts: float | None = None
            done_bytes = 0
            for line in read_lines(self.path):
                key, ts = _key_and_ts(line)
                if self.speed and ts is not None:
                    if first_ts is None:
                        first_ts = ts
                    due = started + (ts - first_ts) / self.speed
                    delay = due - time.monotonic()
                    if delay > 0:
                        await self._sleep(delay)
                await producer.send(self.topic, value=line, key=key)
                result.sent += 1
                result.unkeyed += key is None
                done_bytes += len(line) + 1
                if self.progress:
                    self.progress.update(done_bytes, result.sent)
            await producer.flush()
        finally:
            await producer.stop()
        result.seconds = time.monotonic() - started
        if self.progress:
            self.progress.update(self.progress.total, result.sent, final=True)
        return result
