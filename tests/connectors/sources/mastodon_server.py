"""A Mastodon-compatible server on 127.0.0.1: hashtag streaming (SSE) and the tag timeline.

It speaks Mastodon's documented formats: ``event: update`` with a Status
entity as ``data``, ``:thump`` heartbeats, ``event: delete``, Bearer tokens,
and ``/api/v1/timelines/tag/:tag`` with ``min_id`` paging (the page
immediately newer than ``min_id``, newest first). Each stream connection plays
the next script a test queued; a script that ends closes the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = ["TOKEN", "FakeMastodon", "status"]

TOKEN = "md-test-token"


def status(n: int, *, boost_of: int | None = None, reply_to: int | None = None) -> dict[str, Any]:
    account = {
        "id": str(n % 4),
        "username": f"user{n % 4}",
        "acct": f"user{n % 4}@social.example",
        "followers_count": 10 * n,
        "created_at": "2019-05-01T00:00:00.000Z",
        "bot": n % 4 == 3,
    }
    out: dict[str, Any] = {
        "id": str(1000 + n),
        "uri": f"https://social.example/users/user{n % 4}/statuses/{1000 + n}",
        "url": f"https://social.example/@user{n % 4}/{1000 + n}",
        "created_at": f"2021-09-06T05:{n % 60:02d}:00.000Z",
        "account": account,
        "content": f"<p>Panjshir update {n}: resistance says the fight continues "
        f"<a href='https://social.example/tags/panjshir' class='mention hashtag'>#<span>panjshir</span></a> "
        f"<a href='https://news.example/a/{n}'>news.example/a/{n}</a></p>",
        "spoiler_text": "",
        "language": "en",
        "in_reply_to_id": None if reply_to is None else str(1000 + reply_to),
        "reblog": None,
    }
    if boost_of is not None:
        out["content"] = ""
        out["reblog"] = status(boost_of)
    return out


@dataclass
class FakeMastodon:
    timeline: list[dict[str, Any]] = field(default_factory=list)
    scripts: list[list[tuple[str, Any]]] = field(default_factory=list)
    connections: int = 0
    catchups: list[str] = field(default_factory=list)

    def post(self, *statuses: dict[str, Any]) -> None:
        self.timeline.extend(statuses)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/streaming/hashtag", self._stream)
        app.router.add_get("/api/v1/timelines/tag/{tag}", self._tag_timeline)
        return app

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def _tag_timeline(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "The access token is invalid"}, status=401)
        min_id = int(request.query.get("min_id", "0"))
        limit = int(request.query.get("limit", "20"))
        self.catchups.append(str(min_id))
        newer = sorted((s for s in self.timeline if int(s["id"]) > min_id), key=lambda s: int(s["id"]))[
            :limit
        ]
        return web.json_response(list(reversed(newer)))

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": "The access token is invalid"}, status=401)
        self.connections += 1
        script = self.scripts.pop(0) if self.scripts else [("hold", None)]
        if script and script[0][0] == "status":
            return web.json_response({"error": "Service unavailable"}, status=script[0][1])
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            for kind, arg in script:
                if kind == "update":
                    await resp.write(b"event: update\ndata: " + orjson.dumps(arg) + b"\n\n")
                elif kind == "delete":
                    await resp.write(f"event: delete\ndata: {arg}\n\n".encode())
                elif kind == "thump":
                    await resp.write(b":thump\n")
                elif kind == "wait":
                    await asyncio.sleep(arg)
                elif kind == "hold":
                    while request.transport is not None and not request.transport.is_closing():
                        await resp.write(b":thump\n")
                        await asyncio.sleep(0.1)
                    return resp
            await resp.write_eof()
        return resp
