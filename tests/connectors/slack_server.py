"""A Slack-compatible HTTP server on 127.0.0.1 for tests: incoming webhooks, the Web API, webhooks.

It speaks Slack's documented wire format: an incoming webhook answers ``ok``
or an HTTP error with a short text (``invalid_blocks``, ``rate_limited`` with
``Retry-After``); the Web API answers HTTP 200 with ``{"ok": false, "error"}``
for errors and HTTP 429 with ``Retry-After`` when rate limited. It enforces a
rate limit, rejects blocks past Slack's limits, keeps every message with its
metadata (``conversations.history``/``replies`` with ``include_all_metadata``)
and can be told to fail: answer 503, or cut the connection without answering.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeSlack", "block_errors"]


def block_errors(payload: dict[str, Any]) -> str | None:
    """What Slack would say about these blocks: None if it would accept them."""
    blocks = payload.get("blocks")
    if blocks is None:
        return None if payload.get("text") else "no_text"
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    total = 0
    for block in blocks:
        text = block.get("text") or {}
        if block.get("type") == "header" and len(text.get("text", "")) > 150:
            return "invalid_blocks"
        if block.get("type") == "section":
            if len(text.get("text", "")) > 3000:
                return "invalid_blocks"
            fields = block.get("fields") or []
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                return "invalid_blocks"
            total += sum(len(f.get("text", "")) for f in fields)
        total += len(text.get("text", "")) if isinstance(text, dict) else 0
        total += sum(len(e.get("text", "")) for e in block.get("elements", []) or [])
    return "msg_blocks_too_long" if total > 13_200 else None


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    at: float

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class FakeSlack:
    token: str = "fake-bot-token"
    rate: float = 50.0
    burst: float = 10.0
    retry_after: str = "1"
    webhook_posts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    hook_requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    rate_limited: int = 0
    _failures: list[tuple[str, int, int]] = field(default_factory=list)  # (path prefix, remaining, status)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _seq: int = 0

    # -- control -------------------------------------------------------------------------
    def fail_next(self, prefix: str, times: int, status: int) -> None:
        """The next ``times`` requests under ``prefix`` get ``status`` (0: connection cut, no answer)."""
        with self._lock:
            self._failures.append((prefix, times, status))

    def reset(self) -> None:
        with self._lock:
            self.webhook_posts.clear()
            self.hook_requests.clear()
            self.messages.clear()
            self._failures.clear()
            self._buckets.clear()
            self.requests = self.rate_limited = 0

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages.values() if m["channel"] == channel and not m.get("thread_ts")]

    # -- serving -------------------------------------------------------------------------
    def _failure(self, path: str) -> int | None:
        with self._lock:
            for n, (prefix, left, status) in enumerate(self._failures):
                if path.startswith(prefix) and left > 0:
                    self._failures[n] = (prefix, left - 1, status)
                    return status
        return None

    def _allowed(self, key: str) -> bool:
        with self._lock:
            bucket = self._buckets.setdefault(
                key, _Bucket(self.rate, self.burst, self.burst, time.monotonic())
            )
            ok = bucket.take()
            if not ok:
                self.rate_limited += 1
            return ok

    def _ts(self) -> str:
        with self._lock:
            self._seq += 1
            return f"{int(time.time())}.{self._seq:06d}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests += 1
        if path.startswith("/services/"):
            return self._webhook(path, body)
        if path.startswith("/api/"):
            return self._api(path[len("/api/") :], headers, body)
        if path.startswith("/hooks/"):
            with self._lock:
                self.hook_requests.append((headers, body))
            return 200, {}, b"{}"
        return 404, {}, b"not_found"

    def _webhook(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if not self._allowed(path):
            return 429, {"Retry-After": self.retry_after}, b"rate_limited"
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {}, b"invalid_payload"
        error = block_errors(payload)
        if error:
            return 400, {}, error.encode()
        with self._lock:
            self.webhook_posts[path].append(payload)
        return 200, {}, b"ok"

    def _api(self, method: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        def answer(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
            return 200, {"content-type": "application/json"}, json.dumps(data).encode()

        if headers.get("authorization") != f"Bearer {self.token}":
            return answer({"ok": False, "error": "invalid_auth"})
        if method.startswith("chat.") and not self._allowed(method):
            return 429, {"Retry-After": self.retry_after}, b""
        try:
            args = json.loads(body)
        except ValueError:
            return answer({"ok": False, "error": "invalid_json"})
        if method in ("chat.postMessage", "chat.update"):
            error = block_errors(args)
            if error:
                return answer({"ok": False, "error": error})
        if method == "chat.postMessage":
            ts = self._ts()
            with self._lock:
                self.messages[ts] = {
                    "ts": ts,
                    "channel": args["channel"],
                    "text": args.get("text"),
                    "blocks": args.get("blocks"),
                    "metadata": args.get("metadata"),
                    "thread_ts": args.get("thread_ts"),
                    "updates": 0,
                }
            return answer({"ok": True, "channel": args["channel"], "ts": ts})
        if method == "chat.update":
            with self._lock:
                message = self.messages.get(str(args.get("ts")))
                if message is None or message["channel"] != args.get("channel"):
                    return answer({"ok": False, "error": "message_not_found"})
                message.update(
                    text=args.get("text"), blocks=args.get("blocks"), updates=message["updates"] + 1
                )
            return answer({"ok": True, "channel": args["channel"], "ts": args["ts"]})
        if method in ("conversations.history", "conversations.replies"):
            with self._lock:
                found = [
                    {k: v for k, v in m.items() if k != "metadata" or args.get("include_all_metadata")}
                    for m in sorted(self.messages.values(), key=lambda m: m["ts"], reverse=True)
                    if m["channel"] == args.get("channel")
                    and (
                        (method == "conversations.history" and not m.get("thread_ts"))
                        or (method == "conversations.replies" and m.get("thread_ts") == args.get("ts"))
                    )
                ]
            return answer({"ok": True, "messages": found[: int(args.get("limit", 100))], "has_more": False})
        return answer({"ok": False, "error": "unknown_method"})

    def start(self) -> tuple[ThreadingHTTPServer, str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                status = fake._failure(self.path)
                if status == 0:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if status is not None:
                    code, extra, out = status, {}, b"service_unavailable"
                else:
                    code, extra, out = fake.handle(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                self.send_response(code)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                # A client killed mid-request (the kill -9 tests) resets its connection.
                return

        server = Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"
