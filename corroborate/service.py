"""Start everything a run needs, in order, in one process.

Order matters: the broker must answer before topics are created; topics must
exist (with compaction set) before faust declares its own; the console sink
must have its end offsets before the replay sends the first item, or it could
miss an alert. Shutdown is the reverse, driven by faust's worker on SIGTERM or
Ctrl-C; the embedded broker is stopped last, in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import faust
import mode
from faust.types import TP

from connectors.console import AlertPrinter
from connectors.delivery.engine import DeliveryEngine
from connectors.sources.config import SourceConfig
from connectors.sources.replay import ProgressBar, ReplaySource, replay_input
from connectors.sources.stats import SourceStats
from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from corroborate.config import Settings
from corroborate.connect import run_connectors
from corroborate.delivery import make_engine
from corroborate.health import HealthServer, Progress, ProgressSensor
from corroborate.logs import json_logging_config
from corroborate.metrics import WorkerCollector, worker_registry
from streams.agents import Pipeline, register_pipeline
from streams.app import create_app
from streams.fetchstate import fetch_state
from streams.topics import TopicNames

__all__ = ["RunOptions", "serve"]

log = logging.getLogger("corroborate.service")

#: Exit status of a worker an agent stopped (an error of the broker or the machine):
#: ``os.EX_SOFTWARE``, so that ``restart: on-failure`` and an operator's eye both see it.
EX_HALTED = 70


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    replay: Path | None = None
    replay_format: str = "jsonl"
    speed: float | None = None
    json_lines: bool = False
    exit_when_idle: float | None = None
    progress: bool = True


_JSON_LOGS = False


def _say(msg: str) -> None:
    """A line for the operator: plain on a terminal, a JSON log line when logs are JSON."""
    if _JSON_LOGS:
        log.warning("%s", msg)  # WARNING: shown even where INFO is filtered out
        return
    sys.stderr.write(f"corroborate: {msg}\n")
    sys.stderr.flush()


class _Delivery(mode.Service):
    """The delivery engine inside ``corroborate run`` (when ``CORROBORATE_DELIVERY`` is set)."""

    def __init__(self, engine: DeliveryEngine, **kw: Any) -> None:
        super().__init__(**kw)
        self.engine = engine
        self._stop_delivery = asyncio.Event()

    @mode.Service.task
    async def _deliver(self) -> None:
        await self.engine.run(self._stop_delivery)

    async def on_stop(self) -> None:
        self._stop_delivery.set()


class _Connectors(mode.Service):
    """The configured source connectors inside ``corroborate run`` (``CORROBORATE_CONNECTORS`` set)."""

    def __init__(self, configs: list[SourceConfig], bootstrap: str, topics: TopicNames, **kw: Any) -> None:
        super().__init__(**kw)
        self.configs = configs
        self.bootstrap = bootstrap
        self.topics = topics
        self.running: list[SourceStats] = []
        self._stop_sources = asyncio.Event()

    @mode.Service.task
    async def _connect(self) -> None:
        await run_connectors(
            self.configs,
            bootstrap=self.bootstrap,
            topics=self.topics,
            stop=self._stop_sources,
            running=self.running,
        )

    async def on_stop(self) -> None:
        self._stop_sources.set()


class _Runner(mode.Service):
    """Console sink, optional replay, and the idle watcher, as one faust-managed service."""

    def __init__(
        self,
        *,
        printer: AlertPrinter,
        replay: ReplaySource | None,
        options: RunOptions,
        t0: float,
        worked_at: Callable[[], float | None] = lambda: None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.printer = printer
        self.replay = replay
        self.options = options
        self.t0 = t0
        self.worked_at = worked_at
        self.replay_done_at: float | None = None

    @mode.Service.task
    async def _sink(self) -> None:
        await self.printer.run()

    @mode.Service.task
    async def _drive(self) -> None:
        await self.printer.ready.wait()
        if self.replay is not None:
            result = await self.replay.run()
            self.replay_done_at = time.monotonic()
            _say(f"replayed {result.sent} items from {self.replay.path} in {result.seconds:.2f}s")
        else:
            self.replay_done_at = time.monotonic()
        first_reported = False
        while not self.should_stop:
            now = time.monotonic()
            if self.printer.last_alert_at is not None and not first_reported:
                first_reported = True
                _say(f"first alert {self.printer.last_alert_at - self.t0:.1f}s after start")
            idle = self.options.exit_when_idle
            if idle is not None:
                # Idle means no new alert and no record taken by the agents: a slow
                # pipeline still working through the replay is not idle.
                since = max(self.printer.last_alert_at or 0.0, self.replay_done_at, self.worked_at() or 0.0)
                if now - since >= idle:
                    _say(f"no new alert for {idle:g}s: {self.printer.printed} alert(s) printed; stopping")
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
            await asyncio.sleep(0.1)


def _observe(
    app: faust.App,
    pipeline: Pipeline,
    settings: Settings,
    rebalanced: asyncio.Event,
    engine: DeliveryEngine | None,
    connectors: _Connectors | None,
) -> None:
    """Progress-based liveness, readiness after recovery, and Prometheus metrics on the metrics port."""

    def highwater(topic: str, partition: int) -> int | None:
        try:
            return int(app.consumer.highwater(TP(topic, partition)))
        except Exception:  # not assigned (any more), or the consumer is not started
            return None

    progress = Progress(
        stall_seconds=settings.stall_seconds,
        rebalance_limit=settings.rebalance_limit,
        timer_every=settings.sweep_seconds,
        timer_at=lambda: pipeline.stats.timer_at,
        timer_error=lambda: pipeline.stats.sweep_error,
        highwater=highwater,
    )
    progress.ready_when = lambda: (
        rebalanced.is_set() and not app.in_recovery and app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
    )
    app.sensors.add(ProgressSensor(progress))

    collector = WorkerCollector(
        pipeline=pipeline.stats,
        clusters_live=lambda: len(pipeline.cluster_stage.clusterer),
        items_tracked=lambda: pipeline.cluster_stage.clusterer.items_tracked,
        progress=progress,
        lag=lambda: progress.lag(highwater),
        sources=lambda: connectors.running if connectors is not None else [],
        delivery=lambda: engine.stats if engine is not None else None,
    )
    server = HealthServer(
        progress,
        worker_registry(collector),
        port=settings.metrics_port or 0,
        diagnose=lambda: fetch_state(app),
    )
    app.service(server)  # type: ignore[arg-type]


def _create_topics(bootstrap: str, settings: Settings) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(
            ensure_topics(
                bootstrap, TopicNames(settings.topic_prefix).specs(settings.partitions), settings.replication
            )
        )
    finally:
        loop.close()
    asyncio.set_event_loop(asyncio.new_event_loop())


def serve(settings: Settings, options: RunOptions, out: IO[str] | None = None) -> int:
    """Run the service until SIGTERM/Ctrl-C, or until idle when asked. Returns an exit code."""
    global _JSON_LOGS
    t0 = time.monotonic()
    out = out or sys.stdout
    _JSON_LOGS = settings.log_format == "json"
    if _JSON_LOGS:
        logging.config.dictConfig(json_logging_config())
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    broker: EmbeddedBroker | None = None
    try:
        if settings.embedded:
            broker = EmbeddedBroker(log_path=settings.state_dir / "broker.log").start()
            bootstrap = broker.bootstrap
            _say(f"embedded broker on {bootstrap} (log {broker.log_path}) in {time.monotonic() - t0:.2f}s")
        else:
            assert settings.bootstrap_servers is not None
            bootstrap = settings.bootstrap_servers
            _say(f"using Kafka at {bootstrap}")
        _create_topics(bootstrap, settings)
        config = settings.app_config(bootstrap)
        app = create_app(config)
        pipeline = register_pipeline(app, config)
        printer = AlertPrinter(
            bootstrap=bootstrap, topic=config.topics.alerts, out=out, json_lines=options.json_lines
        )
        replay = None
        if options.replay is not None:
            source = replay_input(options.replay, options.replay_format)
            progress = ProgressBar(source.total) if options.progress else None
            replay = ReplaySource(
                source,
                bootstrap=bootstrap,
                topic=config.topics.items,
                speed=options.speed,
                progress=progress,
            )
        runner = _Runner(
            printer=printer,
            replay=replay,
            options=options,
            t0=t0,
            worked_at=lambda: pipeline.stats.worked_at,
        )
        app.service(runner)  # type: ignore[arg-type]  # faust accepts instances too
        delivery = settings.delivery_config()
        engine = None
        if delivery is not None:
            engine = make_engine(settings, delivery, bootstrap)
            app.service(_Delivery(engine))  # type: ignore[arg-type]
            _say(f"delivering alerts to {', '.join(delivery.destinations)}")
        sources = settings.connectors_config()
        connectors = None
        if sources is not None and sources.enabled():
            enabled = sources.enabled()
            connectors = _Connectors(enabled, bootstrap, config.topics)
            app.service(connectors)  # type: ignore[arg-type]
            _say(f"connecting {', '.join(c.name for c in enabled)}")
        rebalanced = asyncio.Event()
        if settings.metrics_port:
            _observe(app, pipeline, settings, rebalanced, engine, connectors)
            _say(f"health and metrics on :{settings.metrics_port} (/livez /readyz /metrics)")
        json_logs = settings.log_format == "json"
        worker = faust.Worker(
            app,
            loglevel="INFO",
            # Containers log to stderr, as JSON; a desk machine keeps a file beside its state.
            logfile=None if json_logs else str(settings.state_dir / "worker.log"),
            logging_config=json_logging_config() if json_logs else None,
            quiet=True,
            redirect_stdouts=False,
        )

        @app.on_rebalance_complete.connect  # type: ignore[arg-type]
        async def _ready(sender: Any, **_: Any) -> None:
            rebalanced.set()
            elapsed = time.monotonic() - t0
            _say(f"worker ready {elapsed:.1f}s after start (log {settings.state_dir / 'worker.log'})")

        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            status = int(exc.code or 0)
        else:
            status = 0
        if pipeline.stats.halted is not None:
            # The records it had in hand are uncommitted: its supervisor restarts it to redo them.
            _say(f"stopped because {pipeline.stats.halted}")
            return status or EX_HALTED
        return status
    finally:
        if broker is not None:
            with contextlib.suppress(Exception):
                broker.stop()
