"""``POST /items``: partners and other scrapers push items over HTTP.

Why 202 only after Kafka acknowledged: a partner that got 202 may forget the
items, so the answer waits for ``acks=all`` (the publisher's flush). Why
per-line errors: one bad line in a batch of 500 must not cost the other 499;
each rejected line is named in the response (line number, reason, detail) and
kept on the dead-letter topic with its reason, and the good lines go on. A
resubmitted batch is idempotent: repeated ids are answered as accepted again
(``repeated``) and not produced twice.

Bodies are ``application/json`` (one item object, or an array of them) or
NDJSON (``application/x-ndjson``, ``application/jsonl``; one item a line).
Authentication is ``Authorization: Bearer TOKEN`` against named tokens from
the environment or files; the token's name is stamped on each item
(``submitted_by``) so an analyst can see which partner sent it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from connectors.secrets import Secret
from connectors.sources.publish import Publisher
from streams.errors import InvalidItem
from streams.records import MAX_ITEM_BYTES, Item

__all__ = ["IngestServer"]

log = logging.getLogger("corroborate.sources.ingest")

_NDJSON = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "text/plain")


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response(
        {"error": message, **extra}, status=status, dumps=lambda o: orjson.dumps(o).decode()
    )


class IngestServer:
    def __init__(
        self,
        publisher: Publisher,
        *,
        tokens: Mapping[str, Secret],
        host: str = "127.0.0.1",
        port: int = 8088,
        max_body_bytes: int = 4 * 1024 * 1024,
        max_items: int = 5000,
    ) -> None:
        self.publisher = publisher
        self.stats = publisher.stats
        self.tokens = dict(tokens)
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.max_items = max_items
        self.bound_port: int | None = None
        self.ready = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body_bytes + 1)
        app.router.add_post("/items", self._items)
        app.router.add_get("/healthz", self._health)
        return app

    async def run(self, stop: asyncio.Event) -> None:
        await self.publisher.open()
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            async with self.publisher.running():
                site = web.TCPSite(runner, self.host, self.port)
                await site.start()
                self.bound_port = runner.addresses[0][1]
                log.info(
                    "source %s: listening on http://%s:%d/items",
                    self.publisher.name,
                    self.host,
                    self.bound_port,
                )
                self.ready.set()
                await stop.wait()
        finally:
            await runner.cleanup()

    def _client(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        for name, secret in self.tokens.items():
            if hmac.compare_digest(presented.strip().encode(), secret.reveal().encode()):
                return name
        return None

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.snapshot())

    async def _items(self, request: web.Request) -> web.Response:
        client = self._client(request)
        if client is None:
            self.stats.dropped["unauthorised"] += 1
            resp = _error(401, "missing or wrong bearer token")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="corroborate"'
            return resp
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            self.stats.dropped["too_large"] += 1
            return _error(413, f"body of {request.content_length} bytes > {self.max_body_bytes}")
        received = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            received.extend(chunk)
            if len(received) > self.max_body_bytes:  # chunked, no length: stop reading here
                self.stats.dropped["too_large"] += 1
                return _error(413, f"body larger than {self.max_body_bytes} bytes")
        body = bytes(received)
        ctype = request.content_type
        lines: list[bytes | InvalidItem] | web.Response
        if ctype == "application/json":
            lines = self._json_lines(body)
        elif ctype in _NDJSON:
            lines = list(body.split(b"\n"))
        else:
            return _error(415, f"content type {ctype!r}: send application/json or application/x-ndjson")
        if isinstance(lines, web.Response):
            return lines
        numbered = [
            (n, line if isinstance(line, InvalidItem) else line.strip())
            for n, line in enumerate(lines, 1)
            if isinstance(line, InvalidItem) or line.strip()
        ]
        if not numbered:
            return _error(400, "no items in the body")
        if len(numbered) > self.max_items:
            return _error(413, f"{len(numbered)} items in one request > {self.max_items}; split the batch")
        accepted: list[str] = []
        repeated: list[str] = []
        rejected: list[dict[str, Any]] = []
        for n, raw in numbered:
            self.stats.received += 1
            try:
                if isinstance(raw, InvalidItem):
                    raise raw
                item = self._item(raw, client)
            except InvalidItem as exc:
                rejected.append({"line": n, "error": exc.reason, "detail": exc.detail})
                kept = raw if isinstance(raw, bytes) else b""  # too deep to re-encode: the reason says so
                await self.publisher.reject(kept, exc.reason, f"ingest line {n} from {client}: {exc.detail}")
                continue
            if await self.publisher.offer(item):
                accepted.append(item.id)
            else:
                repeated.append(item.id)
        await self.publisher.flush()
        out = {"accepted": accepted, "repeated": repeated, "rejected": rejected}
        status = 202 if accepted or repeated else 400
        return web.json_response(out, status=status, dumps=lambda o: orjson.dumps(o).decode())

    @staticmethod
    def _json_lines(body: bytes) -> list[bytes | InvalidItem] | web.Response:
        """The items of a JSON body, one per array element; an element that cannot be
        re-encoded (nested deeper than the encoder goes) is an error of its own line."""
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return _error(400, f"body is not JSON: {exc}")
        if not isinstance(doc, list):
            return [body]
        out: list[bytes | InvalidItem] = []
        for element in doc:
            try:
                out.append(orjson.dumps(element))
            except TypeError as exc:
                out.append(InvalidItem("too_deep", str(exc)))
        return out

    @staticmethod
    def _item(raw: bytes, client: str) -> Item:
        if len(raw) > MAX_ITEM_BYTES:
            raise InvalidItem("too_large", f"{len(raw)} bytes > {MAX_ITEM_BYTES}")
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidItem("malformed_json", str(exc)[:200]) from None
        if not isinstance(obj, dict):
            raise InvalidItem("not_an_object", f"a JSON {type(obj).__name__}")
        obj["submitted_by"] = client  # the token says who sent it, not the body
        return Item.from_dict(obj)
