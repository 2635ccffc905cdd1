"""X API v2 tweet payloads to items, with their provenance.

One stream line is ``{"data": TWEET, "includes": {"users": [...], "tweets":
[...]}, "matching_rules": [{"id", "tag"}]}``. The tweets it references
(retweeted, quoted, replied to) come along in ``includes.tweets`` when the
connection asks for the ``referenced_tweets.id`` expansion; they are emitted
as items of their own, before the tweet that references them, because the
quoted or retweeted post is an origin in its own right and often never
matches the rules itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.sources.boundary import shapes_checked
from streams.records import Item, parse_ts

__all__ = ["STREAM_PARAMS", "XPayloadError", "tweet_items"]

#: Fields and expansions the connection asks for: what provenance needs.
STREAM_PARAMS = {
    "tweet.fields": "created_at,author_id,lang,referenced_tweets,entities,conversation_id,public_metrics",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
    "user.fields": "username,verified,created_at,public_metrics",
}

_REF_FIELDS = {"retweeted": "retweet_of", "quoted": "quote_of", "replied_to": "reply_to"}


class XPayloadError(ValueError):
    """A stream line that is JSON but not a tweet payload; the message says what is missing."""


def _item_id(tweet_id: object) -> str:
    return f"tw:{tweet_id}"


def _urls(tweet: Mapping[str, Any]) -> tuple[str, ...]:
    out = []
    for entry in (tweet.get("entities") or {}).get("urls") or []:
        if isinstance(entry, Mapping):
            url = entry.get("unwound_url") or entry.get("expanded_url") or entry.get("url")
            if isinstance(url, str) and url and "x.com/" not in url and "twitter.com/" not in url:
                out.append(url)
    return tuple(dict.fromkeys(out))


def _tweet_item(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    tweets: Mapping[str, Mapping[str, Any]],
    extra: Mapping[str, Any],
) -> Item:
    tweet_id = tweet.get("id")
    text = tweet.get("text")
    created = tweet.get("created_at")
    if not isinstance(tweet_id, str | int) or not str(tweet_id).strip():
        raise XPayloadError("tweet without an id")
    if not isinstance(text, str):
        raise XPayloadError(f"tweet {tweet_id} without text")
    if not isinstance(created, str):
        raise XPayloadError(f"tweet {tweet_id} without created_at (ask for tweet.fields=created_at)")
    refs: dict[str, str] = {}
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, Mapping) and ref.get("type") in _REF_FIELDS and ref.get("id") is not None:
            refs[_REF_FIELDS[str(ref["type"])]] = _item_id(ref["id"])
            if ref["type"] == "retweeted":
                # A retweet's own text is cut to "RT @user: ..."; the original holds all of it.
                original = tweets.get(str(ref["id"]))
                author = users.get(str((original or {}).get("author_id")))
                if original and isinstance(original.get("text"), str) and author:
                    text = f"RT @{author.get('username')}: {original['text']}"
    user = users.get(str(tweet.get("author_id"))) or {}
    username = str(user.get("username") or tweet.get("author_id") or "")
    signals: dict[str, Any] = {}
    followers = (user.get("public_metrics") or {}).get("followers_count")
    if isinstance(followers, int) and not isinstance(followers, bool):
        signals["followers"] = followers
    if isinstance(user.get("created_at"), str):
        signals["account_created_at"] = user["created_at"]
    conversation = tweet.get("conversation_id")
    if isinstance(conversation, str | int) and str(conversation) != str(tweet_id):
        signals["conversation"] = _item_id(conversation)  # the thread's first tweet: the partition key
    verified = user.get("verified")
    return Item(
        id=_item_id(tweet_id),
        text=text,
        created_at=parse_ts(created, "created_at"),
        platform="twitter",
        author=username,
        url=f"https://x.com/{username}/status/{tweet_id}" if username else None,
        lang=tweet.get("lang") if isinstance(tweet.get("lang"), str) else None,
        urls=_urls(tweet),
        verified=verified if isinstance(verified, bool) else None,
        retweet_of=refs.get("retweet_of"),
        quote_of=refs.get("quote_of"),
        reply_to=refs.get("reply_to"),
        extra={**signals, **extra},
    )


@shapes_checked(XPayloadError, "a field")
def tweet_items(payload: Mapping[str, Any]) -> list[Item]:
    """The items of one stream line: referenced tweets first, then the matched tweet.

    The matched tweet carries the ``matching_rules`` tags as ``topics`` (alert
    routing reads them) and the rule ids as ``x_rules``. A line whose fields
    have other types than X documents is an :class:`XPayloadError`, never a crash.
    """
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise XPayloadError("no 'data' object in the stream line")
    includes = payload.get("includes") or {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, Mapping)}
    tweets = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, Mapping)}
    rules = [r for r in payload.get("matching_rules") or [] if isinstance(r, Mapping)]
    tags = sorted({str(r["tag"]) for r in rules if r.get("tag")})
    extra: dict[str, Any] = {"x_rules": [str(r.get("id")) for r in rules]}
    if tags:
        extra["topics"] = tags
    out = []
    referenced = {str(r.get("id")) for r in data.get("referenced_tweets") or [] if isinstance(r, Mapping)}
    for ref_id in sorted(referenced):
        ref = tweets.get(ref_id)
        if ref is not None:
            try:
                out.append(_tweet_item(ref, users, tweets, {"x_referenced_by": _item_id(data.get("id"))}))
            except XPayloadError:
                continue  # a referenced tweet without its fields is context, not a loss
    out.append(_tweet_item(data, users, tweets, extra))
    return out
