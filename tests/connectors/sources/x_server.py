"""An X API v2 compatible server on 127.0.0.1: filtered-stream rules and the stream.

It speaks X's documented wire format: rules are ``{"data": [...], "meta":
{...}}`` with ``{"add": [...]}`` and ``{"delete": {"ids": [...]}}`` bodies and
per-rule errors; the stream is chunked newline-delimited JSON with ``\\r\\n``
keep-alives; errors are problem objects; 429 carries ``x-rate-limit-reset``.
Each stream connection plays the next script a test queued: lines, keep-alives,
silences, a status, or a cut in the middle of a line.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = ["FakeX", "Step", "tweet_line"]

TOKEN = "x-test-bearer"


def tweet_line(
    n: int, text: str | None = None, *, tag: str = "panjshir", quote_of: int | None = None
) -> bytes:
    """A stream line for tweet ``n`` by user ``u{n % 3}``, as X sends it."""
    data: dict[str, Any] = {
        "id": str(n),
        "text": text or f"Report {n}: fighting continues in the Panjshir valley, sources say",
        "author_id": str(100 + n % 3),
        "created_at": f"2021-09-06T05:{n % 60:02d}:00.000Z",
        "lang": "en",
        "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": f"https://example.org/a/{n}"}]},
    }
    includes: dict[str, Any] = {
        "users": [
            {
                "id": str(100 + n % 3),
                "username": f"u{n % 3}",
                "verified": n % 3 == 0,
                "created_at": "2015-01-01T00:00:00.000Z",
                "public_metrics": {"followers_count": 1000 * (n % 3)},
            }
        ]
    }
    if quote_of is not None:
        data["referenced_tweets"] = [{"type": "quoted", "id": str(quote_of)}]
        includes["tweets"] = [
            {
                "id": str(quote_of),
                "text": "Pakistani aircraft are bombing Panjshir",
                "author_id": "999",
                "created_at": "2021-09-06T05:00:00.000Z",
            }
        ]
        includes["users"].append({"id": "999", "username": "commando", "verified": False})
    return orjson.dumps({"data": data, "includes": includes, "matching_rules": [{"id": "1", "tag": tag}]})


@dataclass(frozen=True, slots=True)
class Step:
    """``kind``: line (``data``), keepalive, wait (``seconds``), status (``status``, ``headers``),
    cut (write half of ``data`` and drop the connection), hold (stay open until the client leaves)."""

    kind: str
    data: bytes = b""
    seconds: float = 0.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeX:
    scripts: list[list[Step]] = field(default_factory=list)
    rules: dict[str, dict[str, str]] = field(default_factory=dict)
    connections: list[dict[str, str]] = field(default_factory=list)
    rules_fail_next: int = 0
    """Answer the next rules requests 503, as X does in an incident."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def queue(self, *scripts: Sequence[Step]) -> None:
        self.scripts.extend(list(s) for s in scripts)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2/tweets/search/stream", self._stream)
        app.router.add_get("/2/tweets/search/stream/rules", self._list_rules)
        app.router.add_post("/2/tweets/search/stream/rules", self._change_rules)
        return app

    @staticmethod
    def _unauthorized(request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
            return web.json_response(body, status=401)
        return None

    async def _list_rules(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if self.rules_fail_next > 0:
            self.rules_fail_next -= 1
            return web.json_response({"title": "Service Unavailable", "status": 503}, status=503)
        data = list(self.rules.values())
        return web.json_response(
            {"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}}
        )

    async def _change_rules(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        body = await request.json()
        if "delete" in body:
            for rule_id in body["delete"].get("ids", []):
                self.rules.pop(rule_id, None)
            return web.json_response({"meta": {"summary": {"deleted": len(body["delete"].get("ids", []))}}})
        created, errors = [], []
        for rule in body.get("add", []):
            if "((" in rule["value"]:
                errors.append(
                    {
                        "value": rule["value"],
                        "title": "UnprocessableEntity",
                        "details": ["unbalanced parentheses"],
                        "type": "https://api.x.com/2/problems/invalid-rules",
                    }
                )
                continue
            rule_id = str(next(self._ids))
            self.rules[rule_id] = {"id": rule_id, **rule}
            created.append(self.rules[rule_id])
        out: dict[str, Any] = {"meta": {"summary": {"created": len(created), "invalid": len(errors)}}}
        if created:
            out["data"] = created
        if errors:
            out["errors"] = errors
        return web.json_response(out, status=201 if created else 200)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        self.connections.append(dict(request.query))
        script = self.scripts.pop(0) if self.scripts else [Step("hold")]
        first = script[0]
        if first.kind == "status":
            problem = {
                "title": "Too Many Requests" if first.status == 429 else "Service Unavailable",
                "detail": "test",
                "type": "about:blank",
                "status": first.status,
            }
            return web.json_response(problem, status=first.status, headers=first.headers)
        resp = web.StreamResponse(headers={"Content-Type": "application/json; charset=utf-8"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for step in script:
            if step.kind == "line":
                await resp.write(step.data + b"\r\n")
            elif step.kind == "keepalive":
                await resp.write(b"\r\n")
            elif step.kind == "wait":
                await asyncio.sleep(step.seconds)
            elif step.kind == "cut":
                await resp.write(step.data[: len(step.data) // 2])
                await asyncio.sleep(0.05)
                assert request.transport is not None
                request.transport.abort()
                return resp
            elif step.kind == "hold":
                with contextlib.suppress(ConnectionError):
                    while request.transport is not None and not request.transport.is_closing():
                        await resp.write(b"\r\n")
                        await asyncio.sleep(0.1)
                return resp
        await resp.write_eof()
        return resp
