"""Mastodon streaming (server-sent events) for a hashtag or the public timeline.

The stream has no resume position, so every (re)connection is followed by a
catch-up over the REST timeline from the newest status id the checkpoint
holds (``min_id`` paging, at most ``catchup_pages`` of 40); the stream and
the catch-up overlap on purpose and the publisher drops the repeats. The
catch-up runs after the stream answered, so nothing posted in between falls
in a gap. ``:thump`` heartbeats count as life; nothing at all for
``stall_seconds`` is a stalled stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from connectors.errors import SourceConfigError, SourceError
from connectors.secrets import Secret
from connectors.sources.lines import LineTooLong, complete_lines
from connectors.sources.mastodon_mapping import MastodonPayloadError, status_items
from connectors.sources.publish import Publisher
from connectors.sources.reconnect import Failure, ReconnectPolicy, wait_or_stop
from connectors.sources.sse import EventParser
from streams.errors import InvalidItem

__all__ = ["MastodonStream"]

log = logging.getLogger("corroborate.sources.mastodon")

TIMELINES = ("hashtag", "public")


def _newer(a: str | None, b: str) -> bool:
    """Whether status id ``b`` is newer than ``a`` (ids are numeric strings of growing length)."""
    return a is None or (len(b), b) > (len(a), a)


class MastodonStream:
    def __init__(
        self,
        publisher: Publisher,
        *,
        base_url: str,
        timeline: str = "hashtag",
        tag: str | None = None,
        local: bool = False,
        token: Secret | None = None,
        topics: Sequence[str] = (),
        stall_seconds: float = 60.0,
        catchup_pages: int = 10,
        policy: ReconnectPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if timeline not in TIMELINES:
            raise SourceConfigError(f"mastodon timeline {timeline!r} is not one of {', '.join(TIMELINES)}")
        if timeline == "hashtag" and not tag:
            raise SourceConfigError("a mastodon hashtag timeline needs a tag")
        self.publisher = publisher
        self.stats = publisher.stats
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc
        self.timeline = timeline
        self.tag = (tag or "").lstrip("#")
        self.local = local
        self.token = token
        self.topics = tuple(topics)
        self.stall_seconds = stall_seconds
        self.catchup_pages = catchup_pages
        self.policy = policy or ReconnectPolicy()
        self.transport = transport
        self._clock = clock
        self.last_id: str | None = None

    def _stream_path(self) -> tuple[str, dict[str, str]]:
        if self.timeline == "hashtag":
            return "/api/v1/streaming/hashtag" + ("/local" if self.local else ""), {"tag": self.tag}
        return "/api/v1/streaming/public" + ("/local" if self.local else ""), {}

    def _timeline_path(self) -> tuple[str, dict[str, str]]:
        local = {"local": "true"} if self.local else {}
        if self.timeline == "hashtag":
            return f"/api/v1/timelines/tag/{self.tag}", local
        return "/api/v1/timelines/public", local

    async def run(self, stop: asyncio.Event) -> None:
        position = await self.publisher.open()
        self.last_id = position.get("last_id")
        headers = {"User-Agent": "corroborate"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token.reveal()}"
        timeout = httpx.Timeout(10.0, read=self.stall_seconds)
        async with (
            httpx.AsyncClient(
                base_url=self.base_url, transport=self.transport, headers=headers, timeout=timeout
            ) as client,
            self.publisher.running(),
        ):
            ever = False
            while not stop.is_set():
                failure, retry = await self._connect_once(client, stop, ever)
                if failure is None:
                    return
                ever = ever or failure is Failure.DROPPED
                delay = retry if retry is not None else self.policy.delay(failure, now=self._clock())
                log.info("source %s: %s; reconnecting in %.2fs", self.publisher.name, failure.value, delay)
                await wait_or_stop(stop, delay)

    async def _connect_once(
        self, client: httpx.AsyncClient, stop: asyncio.Event, reconnect: bool
    ) -> tuple[Failure | None, float | None]:
        path, params = self._stream_path()
        connected = False
        try:
            async with client.stream("GET", path, params=params) as resp:
                if resp.status_code in (401, 403):
                    raise SourceError(
                        f"source {self.publisher.name}: {self.host} refused the stream "
                        f"(HTTP {resp.status_code}); check the access token"
                    )
                if resp.status_code == 429:
                    self.stats.errors["http_429"] += 1
                    reset = resp.headers.get("X-RateLimit-Reset")
                    return Failure.RATE_LIMITED, _seconds_until(reset, self._clock())
                if resp.status_code >= 400:
                    self.stats.errors[f"http_{resp.status_code}"] += 1
                    return Failure.HTTP, None
                connected = True
                self.policy.succeeded()
                if reconnect:
                    self.stats.reconnects += 1
                await self.catch_up(client)
                parser = EventParser()
                async for line in complete_lines(resp.aiter_bytes()):
                    event = parser.feed(line.decode("utf-8", "replace"))
                    if event is not None and event.event == "update":
                        await self._status(event.data.encode())
                    if stop.is_set():
                        return None, None
            self.stats.errors["stream_ended"] += 1
            return Failure.DROPPED, None
        except httpx.ReadTimeout:
            self.stats.errors["stalled" if connected else "network"] += 1
            return (Failure.DROPPED if connected else Failure.NETWORK), None
        except (httpx.TransportError, LineTooLong) as exc:
            self.stats.errors["cut" if connected else "network"] += 1
            log.info("source %s: %s", self.publisher.name, type(exc).__name__)
            return (Failure.DROPPED if connected else Failure.NETWORK), None

    async def catch_up(self, client: httpx.AsyncClient) -> int:
        """Statuses newer than the checkpoint's, oldest page first; returns how many were read."""
        if self.last_id is None:
            return 0
        path, params = self._timeline_path()
        read = 0
        for _ in range(self.catchup_pages):
            resp = await client.get(path, params={**params, "min_id": self.last_id, "limit": "40"})
            if resp.status_code != 200:
                self.stats.errors[f"catchup_http_{resp.status_code}"] += 1
                break
            page = resp.json()
            if not isinstance(page, list) or not page:
                break
            before = self.last_id
            for status in sorted(page, key=lambda s: (len(str(s.get("id"))), str(s.get("id")))):
                await self._status(orjson.dumps(status))
                read += 1
            if self.last_id == before:
                break
        self.stats.notes["caught_up"] += read
        return read

    async def _status(self, raw: bytes) -> None:
        self.stats.received += 1
        try:
            status = orjson.loads(raw)
            if not isinstance(status, dict):
                raise MastodonPayloadError(f"an update of type {type(status).__name__}")
            items = status_items(status, self.host, self.topics)
        except orjson.JSONDecodeError as exc:
            await self.publisher.reject(raw, "malformed_json", str(exc)[:200])
            return
        except (MastodonPayloadError, InvalidItem) as exc:
            await self.publisher.reject(raw, "unmappable", str(exc))
            return
        status_id = str(status["id"])
        if _newer(self.last_id, status_id):
            self.last_id = status_id
        position: dict[str, Any] = {"last_id": self.last_id}
        for item in items:
            uri = item.extra.get("uri")
            await self.publisher.offer(item, keys=[f"uri:{uri}"] if uri else [], position=position)


def _seconds_until(reset: str | None, now: float) -> float | None:
    if not reset:
        return None
    with contextlib.suppress(ValueError):
        return max(1.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now)
    return None
