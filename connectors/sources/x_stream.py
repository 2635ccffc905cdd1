"""X (Twitter) API v2 filtered stream: rules, connection, reconnection, backfill.

Rules are synchronised at start from the configuration (value and tag): rules
the file no longer has are deleted, missing ones added, so the stream matches
what the operator wrote. The connection asks for the fields and expansions
provenance needs (``x_mapping.STREAM_PARAMS``); keep-alive newlines count as
life; nothing at all for ``stall_seconds`` (X sends a keep-alive every 20 s)
means a stalled stream, which is dropped and reconnected. Back-off follows
X's guidance (``reconnect.ReconnectPolicy``), with the ``x-rate-limit-reset``
header honoured on 429.

After a restart or a reconnect, ``backfill_minutes`` (X allows up to 5 on
plans that have it) asks X to resend what was missed while away; repeats are
dropped by the publisher's memory of recent ids, which the checkpoint keeps.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from connectors.errors import SourceConfigError, SourceError
from connectors.secrets import Secret
from connectors.sources.lines import LineTooLong, complete_lines
from connectors.sources.publish import Publisher
from connectors.sources.reconnect import Failure, ReconnectPolicy, wait_or_stop
from connectors.sources.x_mapping import STREAM_PARAMS, XPayloadError, tweet_items
from streams.errors import InvalidItem

__all__ = ["XFilteredStream", "XRule", "XRules"]

log = logging.getLogger("corroborate.sources.x")

STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"


@dataclass(frozen=True, slots=True)
class XRule:
    value: str
    tag: str | None = None

    def payload(self) -> dict[str, str]:
        return {"value": self.value, **({"tag": self.tag} if self.tag else {})}


def _x_error(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}"
    errors = body.get("errors") if isinstance(body, dict) else None
    first: Any = body
    if isinstance(errors, list) and errors:
        first = errors[0]
    if isinstance(first, dict) and first.get("title"):
        detail = first.get("detail") or first.get("message") or ""
        return f"HTTP {resp.status_code}: {first['title']} {detail}".strip()
    return f"HTTP {resp.status_code}"


class XRules:
    """``/2/tweets/search/stream/rules``: list, add (with tags), delete, and sync."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def current(self) -> list[dict[str, Any]]:
        resp = await self.client.get(RULES_PATH)
        self._check(resp, "list rules")
        data = resp.json().get("data") or []
        return [r for r in data if isinstance(r, dict)]

    async def add(self, rules: Sequence[XRule]) -> list[dict[str, Any]]:
        if not rules:
            return []
        resp = await self.client.post(RULES_PATH, json={"add": [r.payload() for r in rules]})
        self._check(resp, "add rules")
        body = resp.json()
        invalid = [
            e for e in body.get("errors") or [] if isinstance(e, dict) and e.get("title") != "DuplicateRule"
        ]
        if invalid:
            first = invalid[0]
            why = f"{first.get('title')} {first.get('details') or ''}".strip()
            raise SourceConfigError(f"X refused rule {first.get('value')!r}: {why}")
        return [r for r in body.get("data") or [] if isinstance(r, dict)]

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            resp = await self.client.post(RULES_PATH, json={"delete": {"ids": list(ids)}})
            self._check(resp, "delete rules")

    async def sync(self, wanted: Sequence[XRule]) -> tuple[int, int]:
        """Make the stream's rules exactly ``wanted``; return (added, deleted)."""
        current = await self.current()
        wanted_set = {(r.value, r.tag or None) for r in wanted}
        stale = [str(r["id"]) for r in current if (r.get("value"), r.get("tag") or None) not in wanted_set]
        have = {(r.get("value"), r.get("tag") or None) for r in current}
        missing = [r for r in wanted if (r.value, r.tag or None) not in have]
        await self.delete(stale)
        await self.add(missing)
        return len(missing), len(stale)

    @staticmethod
    def _check(resp: httpx.Response, what: str) -> None:
        if resp.status_code in (401, 403):
            raise SourceError(
                f"X refused to {what} ({_x_error(resp)}): check the bearer token and the app's access"
            )
        if resp.status_code == 429 or resp.status_code >= 500:
            reset = resp.headers.get("x-rate-limit-reset")
            raise RulesUnavailable(resp.status_code, float(reset) if reset and reset.isdigit() else None)
        if resp.status_code >= 400:
            raise SourceError(f"X could not {what}: {_x_error(resp)}")


class RulesUnavailable(SourceError):
    """The rules endpoint answered 429 or 5xx: try again later."""

    def __init__(self, status: int, reset_at: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reset_at = reset_at


class XFilteredStream:
    def __init__(
        self,
        publisher: Publisher,
        *,
        token: Secret,
        rules: Sequence[XRule] = (),
        base_url: str = "https://api.x.com",
        stall_seconds: float = 30.0,
        backfill_minutes: int = 0,
        policy: ReconnectPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.publisher = publisher
        self.stats = publisher.stats
        self.token = token
        self.rules = tuple(rules)
        self.base_url = base_url.rstrip("/")
        self.stall_seconds = stall_seconds
        self.backfill_minutes = max(0, min(int(backfill_minutes), 5))
        self.policy = policy or ReconnectPolicy()
        self.transport = transport
        self._clock = clock
        self._position: dict[str, Any] = {}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            transport=self.transport,
            headers={"Authorization": f"Bearer {self.token.reveal()}", "User-Agent": "corroborate"},
            timeout=httpx.Timeout(10.0, read=self.stall_seconds),
        )

    def _params(self, position: dict[str, Any]) -> dict[str, str]:
        params = dict(STREAM_PARAMS)
        last = position.get("last_at")
        if self.backfill_minutes and isinstance(last, int | float):
            away = max(0.0, self._clock() - float(last))
            minutes = min(self.backfill_minutes, math.ceil(away / 60.0) + 1)
            params["backfill_minutes"] = str(minutes)
        return params

    async def run(self, stop: asyncio.Event) -> None:
        position = self._position = await self.publisher.open()
        async with self._client() as client, self.publisher.running():
            if self.rules and not await self._sync_rules(client, stop):
                return
            ever_connected = False
            while not stop.is_set():
                failure, reset_at = await self._connect_once(client, position, stop, ever_connected)
                if failure is None:
                    break
                ever_connected = ever_connected or failure is Failure.DROPPED
                position = self._position
                delay = self.policy.delay(failure, now=self._clock(), reset_at=reset_at)
                log.info("source %s: %s; reconnecting in %.2fs", self.publisher.name, failure.value, delay)
                await wait_or_stop(stop, delay)

    async def _sync_rules(self, client: httpx.AsyncClient, stop: asyncio.Event) -> bool:
        """Bring the rules in line, retrying while X is unreachable; False if stopped first."""
        while True:
            try:
                added, deleted = await XRules(client).sync(self.rules)
                log.info(
                    "source %s: rules in sync (%d added, %d deleted)", self.publisher.name, added, deleted
                )
                self.policy.succeeded()
                return True
            except httpx.TransportError:
                self.stats.errors["rules_network"] += 1
                delay = self.policy.delay(Failure.NETWORK)
            except RulesUnavailable as exc:
                self.stats.errors[f"rules_http_{exc.status}"] += 1
                failure = Failure.RATE_LIMITED if exc.status == 429 else Failure.HTTP
                delay = self.policy.delay(failure, now=self._clock(), reset_at=exc.reset_at)
            if stop.is_set() or await wait_or_stop(stop, delay):
                return False

    async def _connect_once(
        self, client: httpx.AsyncClient, position: dict[str, Any], stop: asyncio.Event, reconnect: bool
    ) -> tuple[Failure | None, float | None]:
        """One connection, read until it ends; the failure to back off from (None: stopped)."""
        connected = False
        try:
            async with client.stream("GET", STREAM_PATH, params=self._params(position)) as resp:
                if resp.status_code == 429:
                    await resp.aread()
                    self.stats.errors["http_429"] += 1
                    reset = resp.headers.get("x-rate-limit-reset")
                    return Failure.RATE_LIMITED, float(reset) if reset and reset.isdigit() else None
                if resp.status_code in (401, 403):
                    await resp.aread()
                    raise SourceError(
                        f"source {self.publisher.name}: X refused the stream ({_x_error(resp)}); "
                        "check the bearer token"
                    )
                if resp.status_code >= 400:
                    await resp.aread()
                    self.stats.errors[f"http_{resp.status_code}"] += 1
                    return Failure.HTTP, None
                connected = True
                self.policy.succeeded()
                if reconnect:
                    self.stats.reconnects += 1
                async for line in complete_lines(resp.aiter_bytes()):
                    if line.strip():
                        await self._line(line)
                    if stop.is_set():
                        return None, None
            self.stats.errors["stream_ended"] += 1
            return Failure.DROPPED, None
        except httpx.ReadTimeout:
            self.stats.errors["stalled"] += 1
            return (Failure.DROPPED if connected else Failure.NETWORK), None
        except (httpx.TransportError, LineTooLong) as exc:
            self.stats.errors["cut" if connected else "network"] += 1
            log.info("source %s: %s", self.publisher.name, type(exc).__name__)
            return (Failure.DROPPED if connected else Failure.NETWORK), None

    async def _line(self, line: bytes) -> None:
        self.stats.received += 1
        try:
            payload = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            await self.publisher.reject(line, "malformed_json", str(exc)[:200])
            return
        if not isinstance(payload, dict):
            await self.publisher.reject(line, "not_an_object", type(payload).__name__)
            return
        if "data" not in payload and payload.get("errors"):
            first = payload["errors"][0] if isinstance(payload["errors"], list) else {}
            title = str(first.get("title") or "error") if isinstance(first, dict) else "error"
            self.stats.errors[title] += 1
            log.warning("source %s: X says %s", self.publisher.name, title)
            return
        try:
            items = tweet_items(payload)
        except (XPayloadError, InvalidItem) as exc:
            await self.publisher.reject(line, "unmappable", str(exc))
            return
        self._position = {"last_at": self._clock(), "last_id": items[-1].id}
        for item in items:
            await self.publisher.offer(item, position=self._position)
