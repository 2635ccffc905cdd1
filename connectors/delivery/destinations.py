"""What delivering one alert to one destination means, and whether a failed attempt may be repeated.

Why each destination decides repeatability itself: the answer depends on the
other side.

* **Slack incoming webhook**: a POST is not idempotent (a repeat posts twice)
  and Slack gives no way to ask what was posted. It is repeated only when
  Slack cannot have posted it: the connection failed before the request was
  sent, or Slack answered 429 (``rate_limited``, after ``Retry-After``). After
  a read timeout, a cut connection or a 5xx it may have been posted, so it is
  not repeated (unless the destination sets ``repeat_on_5xx``) and goes to the
  dead-letter topic. A crash between a post and its record repeats it once
  after the restart: that window is the only source of repeats.
* **Slack Web API**: ``chat.update`` sets the message to a state, so a repeat is
  harmless. ``chat.postMessage`` (first message of a claim, and thread
  replies) is not; before posting we record the intent, and the message
  carries metadata with the alert id. After a failure or a crash with an
  intent recorded, we look the message up (``conversations.history`` /
  ``conversations.replies`` with metadata) before posting again, so every
  attempt may be repeated.
* **Generic webhook**: the body is signed and carries ``Idempotency-Key`` (the
  alert id); a receiver that keeps the keys it handled makes repeats
  harmless, so timeouts and 5xx are repeated.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from connectors.delivery.blocks import alert_message, evidence_reply
from connectors.delivery.config import DestinationConfig
from connectors.delivery.signing import SIGNATURE_HEADER, sign
from streams.messages import Alert

__all__ = [
    "Delivered",
    "Destination",
    "Failed",
    "Journal",
    "Outcome",
    "RetryAfter",
    "SignedWebhook",
    "SlackWebApi",
    "SlackWebhook",
    "make_destination",
]

Journal = Callable[[dict[str, Any]], Awaitable[None]]
"""Persists the destination's record of a claim before an attempt that cannot be undone."""


@dataclass(frozen=True, slots=True)
class Delivered:
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RetryAfter:
    seconds: float
    reason: str = "rate_limited"


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str
    repeat_safe: bool


Outcome = Delivered | RetryAfter | Failed


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _unsent(exc: httpx.HTTPError) -> bool:
    """The request never reached the server (safe to send again whatever it was)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


@dataclass(slots=True)
class SlackWebhook:
    config: DestinationConfig

    async def deliver(
        self, alert: Alert, record: dict[str, Any], client: httpx.AsyncClient, journal: Journal
    ) -> Outcome:
        assert self.config.url is not None
        body = orjson.dumps(alert_message(alert).payload())
        try:
            response = await client.post(
                self.config.url.reveal(),
                content=body,
                headers={"content-type": "application/json"},
                timeout=self.config.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            return Failed(f"{type(exc).__name__} (webhook)", repeat_safe=_unsent(exc))
        if response.status_code == 200:
            return Delivered({**record, "version": alert.version})
        if response.status_code == 429:
            return RetryAfter(_retry_after(response))
        reason = f"HTTP {response.status_code}: {response.text[:200]}"
        return Failed(reason, repeat_safe=response.status_code >= 500 and self.config.repeat_on_5xx)


_ORIGINS_KEPT = 100

_RETRYABLE_API_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


class _ApiError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, repeat_safe: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.repeat_safe = repeat_safe


@dataclass(slots=True)
class SlackWebApi:
    config: DestinationConfig
    history_pages: int = 5

    async def _call(self, client: httpx.AsyncClient, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.config.token is not None
        try:
            response = await client.post(
                f"{self.config.base_url}/{method}",
                content=orjson.dumps(payload),
                headers={
                    "content-type": "application/json; charset=utf-8",
                    "authorization": f"Bearer {self.config.token.reveal()}",
                },
                timeout=self.config.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise _ApiError(f"{type(exc).__name__} ({method})", repeat_safe=True) from None
        if response.status_code == 429:
            raise _ApiError(f"{method} rate_limited", retry_after=_retry_after(response), repeat_safe=True)
        if response.status_code >= 500:
            raise _ApiError(f"{method} HTTP {response.status_code}", repeat_safe=True)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise _ApiError(f"{method}: HTTP {response.status_code}, not JSON", repeat_safe=True) from None
        if not isinstance(data, dict) or not data.get("ok"):
            error = str(data.get("error", "unknown_error")) if isinstance(data, dict) else "unknown_error"
            raise _ApiError(f"{method}: {error}", repeat_safe=error in _RETRYABLE_API_ERRORS)
        return data

    def _metadata(self, alert: Alert) -> dict[str, Any]:
        return {
            "event_type": "corroborate_alert",
            "event_payload": {"cluster_id": alert.cluster_id, "alert_id": alert.alert_id},
        }

    async def _find(
        self, client: httpx.AsyncClient, key: str, value: str, thread_ts: str | None
    ) -> str | None:
        """The ts of a message of ours whose metadata has ``key == value`` (a post we may have made)."""
        method = "conversations.replies" if thread_ts else "conversations.history"
        cursor = ""
        for _ in range(self.history_pages):
            payload: dict[str, Any] = {
                "channel": self.config.channel,
                "limit": 200,
                "include_all_metadata": True,
            }
            if thread_ts:
                payload["ts"] = thread_ts
            if cursor:
                payload["cursor"] = cursor
            data = await self._call(client, method, payload)
            for message in data.get("messages", []):
                meta = (message.get("metadata") or {}).get("event_payload") or {}
                if meta.get(key) == value:
                    return str(message["ts"])
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return None

    async def _post_once(
        self,
        client: httpx.AsyncClient,
        record: dict[str, Any],
        journal: Journal,
        intent: str,
        key: str,
        value: str,
        payload: dict[str, Any],
        thread_ts: str | None,
    ) -> str:
        """Post unless a message with this metadata is already there; journals the intent first."""
        if record.get(intent) == value:
            found = await self._find(client, key, value, thread_ts)
            if found is not None:
                return found
        record[intent] = value
        await journal(dict(record))
        data = await self._call(client, "chat.postMessage", payload)
        return str(data["ts"])

    async def deliver(
        self, alert: Alert, record: dict[str, Any], client: httpx.AsyncClient, journal: Journal
    ) -> Outcome:
        record = dict(record)
        message = alert_message(alert)
        channel = self.config.channel
        try:
            if not record.get("ts"):
                ts = await self._post_once(
                    client,
                    record,
                    journal,
                    "posting",
                    "cluster_id",
                    alert.cluster_id,
                    {"channel": channel, **message.payload(), "metadata": self._metadata(alert)},
                    None,
                )
                record.update(ts=ts, channel=channel, replied=alert.version)
                record.pop("posting", None)
            else:
                try:
                    await self._call(
                        client, "chat.update", {"channel": channel, "ts": record["ts"], **message.payload()}
                    )
                except _ApiError as exc:
                    if not exc.reason.endswith("message_not_found"):
                        raise
                    # Someone deleted the claim's message: the claim gets a new one.
                    record = {k: v for k, v in record.items() if k not in ("ts", "replied", "origins")}
                    return await self.deliver(alert, record, client, journal)
                if int(record.get("replied", 0)) < alert.version:
                    reply = evidence_reply(alert, record.get("origins", []))
                    await self._post_once(
                        client,
                        record,
                        journal,
                        "replying",
                        "alert_id",
                        alert.alert_id,
                        {
                            "channel": channel,
                            "thread_ts": record["ts"],
                            **reply.payload(),
                            "metadata": self._metadata(alert),
                        },
                        str(record["ts"]),
                    )
                    record["replied"] = alert.version
                    record.pop("replying", None)
        except _ApiError as exc:
            if exc.retry_after is not None:
                return RetryAfter(exc.retry_after, exc.reason)
            return Failed(exc.reason, repeat_safe=exc.repeat_safe)
        record["version"] = alert.version
        # What the thread already told, to say only what is new next time (bounded).
        record["origins"] = [str(o.get("origin_id")) for o in alert.origins][:_ORIGINS_KEPT]
        return Delivered(record)


@dataclass(slots=True)
class SignedWebhook:
    config: DestinationConfig
    clock: Callable[[], float] = time.time

    async def deliver(
        self, alert: Alert, record: dict[str, Any], client: httpx.AsyncClient, journal: Journal
    ) -> Outcome:
        assert self.config.url is not None and self.config.secret is not None
        body = alert.to_json()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self.config.secret.reveal().encode(), int(self.clock()), body),
            "Idempotency-Key": alert.alert_id,
        }
        try:
            response = await client.post(
                self.config.url.reveal(), content=body, headers=headers, timeout=self.config.timeout_seconds
            )
        except httpx.HTTPError as exc:
            return Failed(f"{type(exc).__name__} (webhook)", repeat_safe=True)
        if 200 <= response.status_code < 300:
            return Delivered({**record, "version": alert.version})
        if response.status_code == 429:
            return RetryAfter(_retry_after(response))
        return Failed(f"HTTP {response.status_code}", repeat_safe=response.status_code >= 500)


Destination = SlackWebhook | SlackWebApi | SignedWebhook


def make_destination(config: DestinationConfig, clock: Callable[[], float] = time.time) -> Destination:
    if config.kind == "slack-webhook":
        return SlackWebhook(config)
    if config.kind == "slack-api":
        return SlackWebApi(config)
    return SignedWebhook(config, clock)
