"""RSS 2.0, Atom and JSON Feed documents to items.

RSS and Atom go through ``feedparser`` (a well-kept parser that copes with the
broken XML real feeds serve); JSON Feed (jsonfeed.org, 1.0 and 1.1), which
feedparser does not read, is mapped here directly. Both become
:class:`FeedEntry`, then an :class:`~streams.records.Item` whose id hangs on
the article's canonical URL when it has one, so the same article in two feeds
(syndicated wire copy, a section feed and the front page) is one item.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import feedparser
import orjson

from connectors.sources.boundary import shapes_checked
from connectors.sources.html_text import html_text
from connectors.sources.urls import canonical_url
from streams.domain.registry import domain_of
from streams.errors import InvalidItem
from streams.records import MAX_TEXT_CHARS, Item, parse_ts

__all__ = ["FeedDocument", "FeedEntry", "FeedError", "entry_item", "entry_keys", "parse_feed"]


class FeedError(ValueError):
    """A body that is no feed at all (invalid XML with nothing recoverable, bad JSON Feed)."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    guid: str | None
    link: str | None
    title: str
    summary_html: str
    published: float | None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class FeedDocument:
    link: str | None
    language: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    wellformed: bool = True
    problem: str = ""


def _struct_ts(value: Any) -> float | None:
    try:
        return float(calendar.timegm(value)) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


@shapes_checked(FeedError, "a JSON Feed field")
def _json_feed(body: bytes) -> FeedDocument:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("JSON without a jsonfeed.org version")
    entries = []
    for raw in doc.get("items") or []:
        if not isinstance(raw, dict):
            continue
        published = None
        for key in ("date_published", "date_modified"):
            if isinstance(raw.get(key), str):
                try:
                    published = parse_ts(raw[key], key)
                    break
                except InvalidItem:
                    continue
        authors = raw.get("authors") or ([raw["author"]] if isinstance(raw.get("author"), dict) else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
        content = raw.get("content_html") or raw.get("content_text") or raw.get("summary") or ""
        entries.append(
            FeedEntry(
                guid=str(raw["id"]) if raw.get("id") is not None else None,
                link=raw.get("url") or raw.get("external_url"),
                title=str(raw.get("title") or ""),
                summary_html=str(content),
                published=published,
                author=author,
            )
        )
    return FeedDocument(doc.get("home_page_url"), doc.get("language"), entries)


def parse_feed(body: bytes, content_type: str = "") -> FeedDocument:
    """Parse any of the three formats; :class:`FeedError` when nothing could be read."""
    head = body.lstrip()[:1]
    if "json" in content_type or head == b"{":
        return _json_feed(body)
    try:
        parsed = feedparser.parse(body)
    except Exception as exc:  # feedparser raises what its decoders raise (seen: UnicodeDecodeError)
        raise FeedError(f"the feed parser gave up: {type(exc).__name__}: {exc}") from None
    bozo = bool(parsed.get("bozo"))
    problem = str(parsed.get("bozo_exception") or "") if bozo else ""
    if bozo and not parsed.entries:
        raise FeedError(f"not a readable feed: {problem or 'no entries'}")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not RSS, Atom or JSON Feed")
    meta = parsed.get("feed") or {}
    entries = []
    for raw in parsed.entries:
        content = raw.get("content") or []
        body_html = content[0].get("value", "") if content else raw.get("summary", "")
        entries.append(
            FeedEntry(
                guid=raw.get("id") or raw.get("guid"),
                link=raw.get("link"),
                title=raw.get("title", ""),
                summary_html=body_html or "",
                published=_struct_ts(raw.get("published_parsed") or raw.get("updated_parsed")),
                author=raw.get("author"),
            )
        )
    return FeedDocument(meta.get("link"), meta.get("language"), entries, wellformed=not bozo, problem=problem)


def _compose(title: str, summary: str) -> str:
    title = title.strip()
    if not summary or summary.startswith(title):
        return (summary or title)[:MAX_TEXT_CHARS]
    if not title:
        return summary[:MAX_TEXT_CHARS]
    joiner = " " if title.endswith((".", "!", "?", ":")) else ". "
    return (title + joiner + summary)[:MAX_TEXT_CHARS]


def entry_keys(entry: FeedEntry, feed_url: str) -> list[str]:
    """Keys by which a repeat of ``entry`` is known: its canonical link, and its guid in this feed."""
    keys = []
    if entry.link:
        keys.append("url:" + canonical_url(entry.link))
    if entry.guid:
        keys.append(f"guid:{feed_url}|{entry.guid}")
    return keys


@shapes_checked(FeedError, "an entry field")
def entry_item(
    entry: FeedEntry,
    doc: FeedDocument,
    *,
    feed_url: str,
    outlet: str | None,
    now: float,
    topics: Sequence[str] = (),
) -> Item | None:
    """The item of one entry, or None when it has neither text nor an identity."""
    summary, links = html_text(entry.summary_html)
    title, _ = html_text(entry.title)
    text = _compose(title, summary)
    keys = entry_keys(entry, feed_url)
    if not text or not keys:
        return None
    link = canonical_url(entry.link) if entry.link else None
    outlet = outlet or domain_of(doc.link) or domain_of(feed_url)
    own = domain_of(link) or outlet
    cited = tuple(u for u in links if domain_of(u) not in (own, outlet))
    digest = hashlib.blake2b(keys[0].encode(), digest_size=10).hexdigest()
    extra: dict[str, Any] = {"feed": feed_url}
    if entry.guid:
        extra["guid"] = entry.guid
    if topics:
        extra["topics"] = list(topics)
    lang = (doc.language or "")[:2].lower() or None
    return Item(
        id=f"news:{digest}",
        text=text,
        created_at=entry.published if entry.published is not None else now,
        platform="news",
        author=(entry.author or outlet or "").strip(),
        outlet=outlet,
        url=entry.link.strip() if entry.link else None,
        lang=lang,
        urls=cited[:50],
        extra=extra,
    )
