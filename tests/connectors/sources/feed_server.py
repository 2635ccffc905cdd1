"""A news-site server on 127.0.0.1: RSS 2.0, Atom and JSON Feed with ETag/Last-Modified.

It answers conditional GETs with 304 when the document did not change, can
be told to answer 503 with ``Retry-After`` a number of times, and serves one
document that is not well-formed XML at all.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate

import orjson
from aiohttp import web

__all__ = ["Article", "FakeFeeds"]


@dataclass(frozen=True, slots=True)
class Article:
    n: int
    title: str
    body_html: str
    link: str


def _rss(articles: list[Article]) -> bytes:
    items = "".join(
        f"<item><title>{a.title}</title><link>{a.link}</link><guid isPermaLink='false'>rss-{a.n}</guid>"
        f"<pubDate>Mon, 06 Sep 2021 05:{a.n % 60:02d}:00 GMT</pubDate>"
        f"<description><![CDATA[{a.body_html}]]></description></item>"
        for a in reversed(articles)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Wire</title>"
        f"<link>https://www.wire.example/</link><language>en-gb</language>{items}</channel></rss>"
    ).encode()


def _atom(articles: list[Article]) -> bytes:
    entries = "".join(
        f"<entry><title>{a.title}</title><link href='{a.link}'/><id>tag:daily.example,2021:{a.n}</id>"
        f"<updated>2021-09-06T05:{a.n % 60:02d}:00Z</updated><author><name>Desk</name></author>"
        f"<summary type='html'>{a.body_html.replace('<', '&lt;')}</summary></entry>"
        for a in reversed(articles)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        "<title>Daily</title><link href='https://daily.example/'/><id>urn:daily</id>"
        f"<updated>2021-09-06T06:00:00Z</updated>{entries}</feed>"
    ).encode()


def _json(articles: list[Article]) -> bytes:
    return orjson.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Blog",
            "home_page_url": "https://blog.example/",
            "language": "en",
            "items": [
                {
                    "id": f"json-{a.n}",
                    "url": a.link,
                    "title": a.title,
                    "content_html": a.body_html,
                    "date_published": f"2021-09-06T05:{a.n % 60:02d}:00Z",
                    "authors": [{"name": "Blogger"}],
                }
                for a in reversed(articles)
            ],
        }
    )


_RENDER = {
    "rss": (_rss, "application/rss+xml"),
    "atom": (_atom, "application/atom+xml"),
    "json": (_json, "application/feed+json"),
}


@dataclass
class FakeFeeds:
    feeds: dict[str, tuple[str, list[Article]]] = field(default_factory=dict)
    fail_next: Counter[str] = field(default_factory=Counter)
    hits: Counter[tuple[str, int]] = field(default_factory=Counter)

    def add(self, name: str, kind: str, *articles: Article) -> None:
        self.feeds.setdefault(name, (kind, []))[1].extend(articles)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feeds/{name}", self._feed)
        return app

    async def _feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self.fail_next[name] > 0:
            self.fail_next[name] -= 1
            self.hits[(name, 503)] += 1
            return web.Response(status=503, text="busy", headers={"Retry-After": "1"})
        if name == "broken":
            self.hits[(name, 200)] += 1
            return web.Response(body=b"<html><body><p>Service page, no feed", content_type="text/html")
        if name not in self.feeds:
            return web.Response(status=404)
        kind, articles = self.feeds[name]
        render, ctype = _RENDER[kind]
        body = render(articles)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = formatdate(1630900000 + len(articles), usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            self.hits[(name, 304)] += 1
            return web.Response(status=304, headers={"ETag": etag})
        self.hits[(name, 200)] += 1
        return web.Response(body=body, content_type=ctype, headers={"ETag": etag, "Last-Modified": modified})
