"""The data contract between connectors, agents and downstream consumers.

Records are plain frozen dataclasses serialised with orjson, not
``faust.Record``: connectors, batch tools and tests use them without faust,
and agents decode a whole batch of raw bytes at once. Every record carries a
schema version ``v``; a reader rejects versions it does not know instead of
guessing.

Item JSON (one object a line in replay files)::

    {"id": "tw:1434", "platform": "twitter", "author": "HabibKhanT",
     "outlet": null, "url": "https://x.com/...", "text": "...",
     "created_at": "2021-09-06T05:12:00Z", "lang": "en",
     "retweet_of": null, "quote_of": null, "reply_to": null,
     "urls": [], "verified": true}

Only ``id``, ``text`` and ``created_at`` are required; unknown fields are kept
in ``extra`` and written back unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.errors import InvalidItem

__all__ = [
    "ITEM_SCHEMA_VERSION",
    "MAX_ITEM_BYTES",
    "MAX_TEXT_CHARS",
    "Item",
    "conversation_key",
    "decode_item",
    "format_ts",
    "parse_ts",
]

ITEM_SCHEMA_VERSION = 1
#: Longest text accepted. Wire copy runs to a few thousand characters; anything
#: far longer is a scraper bug or an attack and would stall the matcher.
MAX_TEXT_CHARS = 20_000
#: Largest encoded item accepted, checked before parsing.
MAX_ITEM_BYTES = 256 * 1024

_KNOWN_FIELDS = frozenset(
    {
        "v",
        "id",
        "platform",
        "author",
        "outlet",
        "url",
        "text",
        "created_at",
        "ingested_at",
        "lang",
        "retweet_of",
        "quote_of",
        "reply_to",
        "urls",
        "verified",
    }
)
_OPTIONAL_STR = ("outlet", "url", "lang", "retweet_of", "quote_of", "reply_to")


def parse_ts(value: object, field_name: str) -> float:
    """ISO 8601 (``Z`` or offset; naive means UTC) or epoch seconds, to epoch seconds."""
    if isinstance(value, bool):
        raise InvalidItem("bad_timestamp", f"{field_name} is a boolean")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise InvalidItem("bad_timestamp", f"{field_name} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidItem("bad_timestamp", f"{field_name}={value[:40]!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def conversation_key(obj: Mapping[str, Any]) -> str | None:
    """The key an item is partitioned by: the conversation it belongs to.

    Why not its own id: the matcher places a retweet, reply or quote in the
    cluster of the post it answers only if it has seen that post, and it sees
    posts in order only within a partition (and only on the worker holding it).
    Keyed by the post they hang on, a thread's items share a partition, so a
    reply is read after its parent, by the same worker. The connector's
    conversation id (``conversation``, ``thread``) is preferred, since a reply to
    a reply names only its direct parent; without one, the direct parent.
    """
    for name in ("conversation", "thread", "retweet_of", "quote_of", "reply_to"):
        value = obj.get(name)
        if isinstance(value, str) and value:
            return value
    item_id = obj.get("id")  # ids may come as numbers; decode_item accepts both
    if isinstance(item_id, bool) or not isinstance(item_id, str | int) or item_id == "":
        return None
    return str(item_id)


def format_ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Item:
    """One post or wire item, as every connector delivers it."""

    id: str
    text: str
    created_at: float
    platform: str = "unknown"
    author: str = ""
    outlet: str | None = None
    url: str | None = None
    lang: str | None = None
    retweet_of: str | None = None
    quote_of: str | None = None
    reply_to: str | None = None
    urls: tuple[str, ...] = ()
    verified: bool | None = None
    ingested_at: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update(
            v=ITEM_SCHEMA_VERSION,
            id=self.id,
            platform=self.platform,
            author=self.author,
            outlet=self.outlet,
            url=self.url,
            text=self.text,
            created_at=format_ts(self.created_at),
            lang=self.lang,
            retweet_of=self.retweet_of,
            quote_of=self.quote_of,
            reply_to=self.reply_to,
            urls=list(self.urls),
            verified=self.verified,
        )
        if self.ingested_at is not None:
            out["ingested_at"] = format_ts(self.ingested_at)
        return out

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def partition_key(self) -> bytes:
        """What connectors key this item by on the items topic (``conversation_key``)."""
        fields = {**self.extra, "retweet_of": self.retweet_of, "quote_of": self.quote_of}
        fields.update(reply_to=self.reply_to, id=self.id)
        return (conversation_key(fields) or self.id).encode()

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Item:
        """Validate a parsed JSON object; raise :class:`InvalidItem` with the first fault."""
        version = obj.get("v", ITEM_SCHEMA_VERSION)
        if version != ITEM_SCHEMA_VERSION:
            raise InvalidItem("unsupported_version", f"v={version!r}, this reader knows v=1")
        item_id = obj.get("id")
        if item_id is None:
            raise InvalidItem("missing_field", "id")
        if isinstance(item_id, int) and not isinstance(item_id, bool):
            item_id = str(item_id)
        if not isinstance(item_id, str) or not item_id.strip():
            raise InvalidItem("bad_field", "id must be a non-empty string")
        if len(item_id) > 256:
            raise InvalidItem("bad_field", "id longer than 256 characters")
        text = obj.get("text")
        if text is None:
            raise InvalidItem("missing_field", "text")
        if not isinstance(text, str):
            raise InvalidItem("bad_field", f"text must be a string, got {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidItem("text_too_long", f"{len(text)} characters > {MAX_TEXT_CHARS}")
        if "created_at" not in obj or obj["created_at"] is None:
            raise InvalidItem("missing_field", "created_at")
        created_at = parse_ts(obj["created_at"], "created_at")
        ingested = obj.get("ingested_at")
        strings: dict[str, str | None] = {}
        for name in _OPTIONAL_STR:
            value = obj.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if value is not None and not isinstance(value, str):
                raise InvalidItem("bad_field", f"{name} must be a string or null")
            strings[name] = value or None
        platform = obj.get("platform") or "unknown"
        author = obj.get("author") or ""
        if not isinstance(platform, str) or not isinstance(author, str):
            raise InvalidItem("bad_field", "platform and author must be strings")
        urls = obj.get("urls") or []
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise InvalidItem("bad_field", "urls must be a list of strings")
        verified = obj.get("verified")
        if verified is not None and not isinstance(verified, bool):
            raise InvalidItem("bad_field", "verified must be a boolean or null")
        return cls(
            id=item_id,
            text=text,
            created_at=created_at,
            platform=platform,
            author=author,
            urls=tuple(urls[:50]),
            verified=verified,
            ingested_at=None if ingested is None else parse_ts(ingested, "ingested_at"),
            extra={k: v for k, v in obj.items() if k not in _KNOWN_FIELDS},
            **strings,
        )

    def stamped(self, now: float | None = None) -> Item:
        """The same item with ``ingested_at`` set, as a connector hands it over."""
        if self.ingested_at is not None:
            return self
        return Item(**{**_fields(self), "ingested_at": time.time() if now is None else now})


def _fields(item: Item) -> dict[str, Any]:
    return {name: getattr(item, name) for name in Item.__dataclass_fields__}


def decode_item(raw: bytes) -> Item:
    """Bytes off the wire to an :class:`Item`, or :class:`InvalidItem` saying why not."""
    if len(raw) > MAX_ITEM_BYTES:
        raise InvalidItem("too_large", f"{len(raw)} bytes > {MAX_ITEM_BYTES}")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = "not_utf8" if "utf-8" in str(exc).lower() else "malformed_json"
        raise InvalidItem(reason, str(exc)[:200]) from None
    if not isinstance(obj, dict):
        raise InvalidItem("not_an_object", f"top level is {type(obj).__name__}")
    return Item.from_dict(obj)
