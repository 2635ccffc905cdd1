"""Mastodon statuses (``/api/v1`` Status entities) to items, with boosts and replies.

Ids are the instance's own (``mastodon:HOST:ID``): a status's ``reblog.id``
and ``in_reply_to_id`` are ids on the instance we read, so provenance links
stay resolvable. The same status reached through two instances has two local
ids but one ``uri``, which the connector passes as a repeat key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.sources.boundary import shapes_checked
from connectors.sources.html_text import html_text
from streams.records import MAX_TEXT_CHARS, Item, parse_ts

__all__ = ["MastodonPayloadError", "status_items"]


class MastodonPayloadError(ValueError):
    """JSON that is not a Status entity; the message says what is missing."""


def _status_item(status: Mapping[str, Any], host: str, topics: Sequence[str]) -> Item:
    status_id, created = status.get("id"), status.get("created_at")
    account = status.get("account")
    if (
        not isinstance(status_id, str | int)
        or not isinstance(created, str)
        or not isinstance(account, Mapping)
    ):
        raise MastodonPayloadError("status without id, created_at or account")
    reblog = status.get("reblog")
    shown = reblog if isinstance(reblog, Mapping) else status
    text, links = html_text(str(shown.get("content") or ""))
    if shown.get("spoiler_text"):
        text = f"{shown['spoiler_text']}: {text}"
    if shown is not status:
        author = (shown.get("account") or {}).get("acct", "")
        text = f"RT @{author}: {text}"
    cited = [u for u in links if "/tags/" not in u and "/@" not in u]
    card = shown.get("card")
    if isinstance(card, Mapping) and isinstance(card.get("url"), str):
        cited.insert(0, card["url"])
    extra: dict[str, Any] = {"uri": status.get("uri")}
    if isinstance(account.get("followers_count"), int):
        extra["followers"] = account["followers_count"]
    if isinstance(account.get("created_at"), str):
        extra["account_created_at"] = account["created_at"]
    if account.get("bot") is True:
        extra["bot"] = True
    if topics:
        extra["topics"] = list(topics)
    reply = status.get("in_reply_to_id")
    return Item(
        id=f"mastodon:{host}:{status_id}",
        text=text[:MAX_TEXT_CHARS],
        created_at=parse_ts(created, "created_at"),
        platform="mastodon",
        author=str(account.get("acct") or account.get("username") or ""),
        url=status.get("url") if isinstance(status.get("url"), str) else None,
        lang=status.get("language") if isinstance(status.get("language"), str) else None,
        retweet_of=f"mastodon:{host}:{reblog['id']}"
        if isinstance(reblog, Mapping) and reblog.get("id")
        else None,
        reply_to=f"mastodon:{host}:{reply}" if isinstance(reply, str | int) and reply != "" else None,
        urls=tuple(dict.fromkeys(cited))[:50],
        extra=extra,
    )


@shapes_checked(MastodonPayloadError, "a field")
def status_items(status: Mapping[str, Any], host: str, topics: Sequence[str] = ()) -> list[Item]:
    """A boost yields the boosted status first (an origin of its own), then the boost.

    A status whose fields have other types than Mastodon documents is a
    :class:`MastodonPayloadError`, never a crash.
    """
    out = []
    reblog = status.get("reblog")
    if isinstance(reblog, Mapping):
        out.append(_status_item(reblog, host, topics))
    out.append(_status_item(status, host, topics))
    return out
