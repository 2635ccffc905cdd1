"""Is the worker alive, is it ready, and what it has done: ``/livez``, ``/readyz``, ``/metrics``.

Why liveness by progress and not by the process being up: faust workers are
known to sit in rebalance loops or "slowly die" with the process running
(faust-streaming #602, #594). A worker is alive when records it fetched get
processed (offsets move) and its timers fire; one with a partition behind
(records fetched, or records in Kafka past the last it completed) that
completes none of it for ``stall_seconds``, or whose sweep timer is silent for three
periods, or which has been in one rebalance longer than ``rebalance_limit``, is
not, and the orchestrator should restart it. The last one was seen here: a
worker the group dropped (its session expired on an overloaded machine) logged
"will rejoin" and never did; holding no partitions, it had no records waiting
and its timer went on firing, so the other two checks called it alive for as
long as anyone cared to look. Readiness comes
after the first rebalance completed and the tables were recovered from their
changelogs; before that the worker must not get traffic that depends on them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
import mode
import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

__all__ = ["HealthServer", "Progress", "ProgressSensor", "Verdict", "process_health"]


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str


class Progress:
    """Fetched and completed offsets per partition, and when a record last completed."""

    def __init__(
        self,
        *,
        stall_seconds: float,
        timer_every: float,
        timer_at: Callable[[], float | None],
        timer_error: Callable[[], str | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        rebalance_limit: float = 900.0,
        highwater: Callable[[str, int], int | None] | None = None,
    ) -> None:
        self.stall_seconds = stall_seconds
        self.rebalance_limit = rebalance_limit
        self.rebalancing_since: float | None = None
        self.timer_every = timer_every
        self._timer_at = timer_at
        self._timer_error = timer_error
        self._clock = clock
        self.fetched: dict[tuple[str, int], int] = {}
        self.done: dict[tuple[str, int], int] = {}
        self._moved_at: dict[tuple[str, int], float] = {}
        """When each partition last completed a record, or began to wait for one."""
        self.started = clock()
        self.last_done = clock()
        """When any record last completed (for the verdict's text)."""
        self._waiting = 0
        self.highwater = highwater
        """The log end of a partition (None when not known): a partition no longer
        fetched is behind it without holding a record."""
        self.ready_when: Callable[[], bool] = lambda: False
        """Set by the service: rebalanced, and tables recovered from their changelogs."""

    @property
    def ready(self) -> bool:
        return self.ready_when()

    def on_fetched(self, topic: str, partition: int, offset: int) -> None:
        """Called for every record (a sensor hook): constant work, the count kept running."""
        key = (topic, partition)
        before = self.fetched.get(key, -1)
        if offset > before:
            done = self.done.get(key, -1)
            if before <= done:
                self._moved_at[key] = self._clock()  # its stall clock starts when work arrives
            self._waiting += max(0, offset - done) - max(0, before - done)
            self.fetched[key] = offset

    def on_done(self, topic: str, partition: int, offset: int) -> None:
        key = (topic, partition)
        before = self.done.get(key, -1)
        if offset > before:
            self._waiting -= max(0, min(offset, self.fetched.get(key, -1)) - before)
            self.done[key] = offset
        self.last_done = self._moved_at[key] = self._clock()

    def on_rebalance_start(self) -> None:
        """Partitions are being revoked: the records held are dropped, and which
        partitions this worker reads is open until the rebalance ends."""
        if self.rebalancing_since is None:
            self.rebalancing_since = self._clock()
        self.fetched.clear()
        self.done.clear()
        self._moved_at.clear()
        self._waiting = 0

    def on_rebalance_end(self) -> None:
        self.rebalancing_since = None

    def lag(self, highwater: Callable[[str, int], int | None]) -> dict[tuple[str, int], int]:
        """Records behind the end of each partition this worker has read from."""
        out = {}
        for (topic, partition), fetched in self.fetched.items():
            end = highwater(topic, partition)
            if end is not None and end >= 0:
                out[(topic, partition)] = max(0, end - self.done.get((topic, partition), fetched) - 1)
        return out

    def waiting(self) -> int:
        """Records fetched and not yet completed, over all partitions."""
        return self._waiting

    def stalled_partition(self, now: float) -> tuple[tuple[str, int], int, float] | None:
        """A partition behind (records fetched and waiting, or, with ``highwater`` set,
        records in Kafka past the last completed) that completed none for
        ``stall_seconds``: how many records, and how long.

        Why per partition, and why the log end: seen here, the corroborate and block
        agents stopped for good while the cluster agent went on, their partitions
        no longer fetched (nothing waiting) and tens of thousands of records behind.
        A worker-wide clock, reset by every record any agent completes, never ran
        out (it was the only check before)."""
        lags = self.lag(self.highwater) if self.highwater is not None else {}
        for key, fetched in self.fetched.items():
            behind = max(fetched - self.done.get(key, -1), lags.get(key, 0))
            since = now - self._moved_at.get(key, now)
            if behind > 0 and since > self.stall_seconds:
                return key, behind, since
        return None

    def liveness(self) -> Verdict:
        now = self._clock()
        if self.rebalancing_since is not None and now - self.rebalancing_since > self.rebalance_limit:
            return Verdict(
                False,
                f"in one rebalance for {now - self.rebalancing_since:.0f}s "
                f"(limit {self.rebalance_limit:g}s): out of its group, or stuck recovering",
            )
        stalled = self.stalled_partition(now)
        if stalled is not None:
            (topic, partition), count, since = stalled
            return Verdict(
                False,
                f"{count} records of {topic}[{partition}] behind, none completed for {since:.0f}s",
            )
        timer_at = self._timer_at()
        since_timer = now - (timer_at if timer_at is not None else self.started)
        limit = max(3 * self.timer_every, 30.0)
        if self.ready and since_timer > limit:
            error = self._timer_error()
            return Verdict(
                False,
                f"the sweep timer has not completed a sweep for {since_timer:.0f}s "
                f"(every {self.timer_every:g}s)" + ("" if error is None else f"; last failure: {error}"),
            )
        return Verdict(
            True, f"{self.waiting()} records waiting; last completed {now - self.last_done:.0f}s ago"
        )


class ProgressSensor(faust.Sensor):
    """Feeds :class:`Progress` from faust's own hooks: a record in, a record fully processed."""

    def __init__(self, progress: Progress, **kw: Any) -> None:
        super().__init__(**kw)
        self.progress = progress

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.progress.on_fetched(tp.topic, tp.partition, offset)

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        self.progress.on_done(tp.topic, tp.partition, offset)

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        self.progress.on_rebalance_start()
        return {}

    def on_rebalance_end(self, app: Any, state: dict[str, Any]) -> None:
        self.progress.on_rebalance_end()


class HealthServer(mode.Service):
    """``/livez``, ``/readyz`` and ``/metrics`` on ``port``, for probes and Prometheus, and
    ``/debug/consumer``: what the stream consumer holds and waits on, for an operator.

    It also judges liveness itself every ``watch_every`` seconds and logs when it
    turns, with ``diagnose()`` (what the consumer holds) while it fails: a stall
    leaves a line in the log even where no probe asks, and that line says where
    the records stopped.
    """

    def __init__(
        self,
        progress: Progress,
        registry: CollectorRegistry,
        *,
        port: int,
        host: str = "0.0.0.0",
        watch_every: float = 10.0,
        diagnose: Callable[[], Any] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.progress = progress
        self.registry = registry
        self.host = host
        self.port = port
        self.watch_every = watch_every
        self.diagnose = diagnose
        self._runner: web.AppRunner | None = None
        self._failing_since: float | None = None
        self._logged_at = 0.0

    def watch(self, now: float) -> Verdict:
        """One look: logs a failing verdict (again each minute it lasts) and a recovery."""
        verdict = self.progress.liveness()
        if verdict.ok:
            if self._failing_since is not None:
                log.warning("liveness recovered after %.0fs: %s", now - self._failing_since, verdict.reason)
            self._failing_since = None
            return verdict
        if self._failing_since is None:
            self._failing_since = now
        elif now - self._logged_at < 60.0:
            return verdict
        self._logged_at = now
        state = self.diagnose() if self.diagnose is not None else None
        log.warning("liveness failing: %s; consumer: %s", verdict.reason, state)
        return verdict

    @mode.Service.task
    async def _watch(self) -> None:
        while not self.should_stop:
            await self.sleep(self.watch_every)
            self.watch(time.monotonic())

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/livez", self._live)
        app.router.add_get("/readyz", self._ready)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/debug/consumer", self._consumer)
        return app

    async def on_start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _live(self, request: web.Request) -> web.Response:
        verdict = self.progress.liveness()
        return web.json_response(
            {"ok": verdict.ok, "reason": verdict.reason}, status=200 if verdict.ok else 503
        )

    async def _ready(self, request: web.Request) -> web.Response:
        ready = self.progress.ready
        return web.json_response({"ready": ready}, status=200 if ready else 503)

    async def _consumer(self, request: web.Request) -> web.Response:
        if self.diagnose is None:
            raise web.HTTPNotFound(text="this process has no stream consumer")
        return web.json_response(self.diagnose(), dumps=lambda v: orjson.dumps(v, default=str).decode())

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def process_health(
    port: int | None, registry: CollectorRegistry, ready: Callable[[], bool], stall_seconds: float
) -> HealthServer | None:
    """Health of a single-purpose process (``connect``, ``deliver``): alive while its event loop
    answers, ready once ``ready()``; started here, stopped by the caller. None without a port."""
    if not port:
        return None
    progress = Progress(stall_seconds=stall_seconds, timer_every=60.0, timer_at=time.monotonic)
    progress.ready_when = ready
    server = HealthServer(progress, registry, port=port)
    await server.start()
    return server
