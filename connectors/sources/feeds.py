"""Polling many RSS, Atom and JSON feeds, each at its own interval.

Each poll is a conditional GET (``If-None-Match`` with the last ``ETag``,
``If-Modified-Since`` with the last ``Last-Modified``), so a feed that did not
change costs a 304 and nothing else. Validators and the time of the last poll
are the position the checkpoint keeps, with the recent entry keys (canonical
URL and guid), so a restart neither re-emits a feed's 20 visible entries nor
polls every feed at once. A failed poll backs off (5xx and network errors
exponentially, 429 by ``Retry-After``) without delaying the other feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.sources.feed_mapping import FeedError, entry_item, entry_keys, parse_feed
from connectors.sources.publish import Publisher
from connectors.sources.reconnect import wait_or_stop

__all__ = ["FeedPoller", "FeedSpec"]

log = logging.getLogger("corroborate.sources.feeds")

MAX_FEED_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FeedSpec:
    url: str
    interval: float = 300.0
    outlet: str | None = None
    """The outlet's domain when the feed's own link does not say it (aggregators, proxies)."""
    topics: tuple[str, ...] = ()


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    return None


class FeedPoller:
    def __init__(
        self,
        publisher: Publisher,
        feeds: Sequence[FeedSpec],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 20.0,
        max_backoff: float = 3600.0,
    ) -> None:
        self.publisher = publisher
        self.stats = publisher.stats
        self.feeds = tuple(feeds)
        self.transport = transport
        self._clock = clock
        self.timeout = timeout
        self.max_backoff = max_backoff
        self._state: dict[str, dict[str, Any]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        position = await self.publisher.open()
        self._state = {url: dict(v) for url, v in (position.get("feeds") or {}).items()}
        headers = {"User-Agent": "corroborate (+https://github.com/corroborate)", "Accept": _ACCEPT}
        async with (
            httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout, headers=headers, follow_redirects=True
            ) as client,
            self.publisher.running(),
        ):
            tasks = [asyncio.create_task(self._follow(client, spec, stop)) for spec in self.feeds]
            try:
                await stop.wait()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, client: httpx.AsyncClient, spec: FeedSpec, stop: asyncio.Event) -> None:
        failures = 0
        state = self._state.setdefault(spec.url, {})
        last = state.get("polled_at")
        # After a restart, a feed polled a moment ago waits out its interval.
        wait = (
            0.0
            if not isinstance(last, int | float)
            else max(0.0, float(last) + spec.interval - self._clock())
        )
        while True:
            if await wait_or_stop(stop, wait):
                return
            try:
                delay = await self.poll(client, spec)
            except Exception:  # one feed's surprise must not end its polling, nor touch the others
                log.exception("feed %s: poll failed", spec.url)
                self.stats.errors["unexpected"] += 1
                delay = 0.0
            if delay is None:
                failures = 0
                wait = spec.interval
            else:
                failures += 1
                backoff = min(self.max_backoff, 5.0 * 2 ** (failures - 1)) * random.uniform(1.0, 1.1)
                wait = delay if delay > 0 else backoff

    async def poll(self, client: httpx.AsyncClient, spec: FeedSpec) -> float | None:
        """Poll once; None when done, else seconds to wait before trying again (0: back off)."""
        state = self._state.setdefault(spec.url, {})
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("modified"):
            headers["If-Modified-Since"] = str(state["modified"])
        try:
            resp = await client.get(spec.url, headers=headers)
        except httpx.TransportError as exc:
            self.stats.errors["network"] += 1
            log.info("feed %s: %s", spec.url, type(exc).__name__)
            return 0.0
        now = self._clock()
        if resp.status_code == 304:
            self.stats.notes["not_modified"] += 1
            state["polled_at"] = now
            await self._advance()
            return None
        if resp.status_code == 429 or resp.status_code == 503:
            self.stats.errors[f"http_{resp.status_code}"] += 1
            return _retry_after(resp.headers.get("Retry-After"), now) or 0.0
        if resp.status_code >= 400:
            self.stats.errors[f"http_{resp.status_code}"] += 1
            log.warning("feed %s: HTTP %d", spec.url, resp.status_code)
            return 0.0
        body = resp.content[:MAX_FEED_BYTES]
        self.stats.notes["documents"] += 1
        try:
            doc = parse_feed(body, resp.headers.get("Content-Type", ""))
        except FeedError as exc:
            await self.publisher.reject(body, "invalid_feed", f"{spec.url}: {exc}")
            return 0.0
        if not doc.wellformed:
            self.stats.errors["not_wellformed"] += 1
        self.stats.received += len(doc.entries)
        for entry in reversed(doc.entries):  # feeds list the newest first
            try:
                item = entry_item(
                    entry, doc, feed_url=spec.url, outlet=spec.outlet, now=now, topics=spec.topics
                )
            except FeedError as exc:
                await self.publisher.reject(body[:4096], "unmappable_entry", f"{spec.url}: {exc}")
                continue
            if item is None:
                self.stats.dropped["empty_entry"] += 1
                continue
            await self.publisher.offer(
                item, keys=entry_keys(entry, spec.url)[1:] + entry_keys(entry, spec.url)[:1]
            )
        state.update(etag=resp.headers.get("ETag"), modified=resp.headers.get("Last-Modified"), polled_at=now)
        await self._advance()
        return None

    async def _advance(self) -> None:
        await self.publisher.advance({"feeds": self._state})
        await self.publisher.flush()


_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"
