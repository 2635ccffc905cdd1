"""Source connectors as a process of their own (``corroborate connect NAME``) or inside ``run``.

Why a process of its own: connectors scale and fail apart from the stream
workers (an X outage or a slow feed must not touch clustering), so a
deployment runs each configured source as its own small process, and the
stream workers as many as the partitions allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from connectors.errors import ConnectorError, SourceConfigError
from connectors.sources.checkpoint import KafkaCheckpoints
from connectors.sources.config import SourceConfig
from connectors.sources.feeds import FeedPoller, FeedSpec
from connectors.sources.ingest import IngestServer
from connectors.sources.mastodon import MastodonStream
from connectors.sources.outlet import KafkaOutlet
from connectors.sources.publish import Publisher
from connectors.sources.reconnect import wait_or_stop
from connectors.sources.replay import ReplaySource, replay_input
from connectors.sources.stats import SourceStats
from connectors.sources.x_stream import XFilteredStream, XRule
from corroborate.admin import ensure_topics
from corroborate.config import Settings
from corroborate.errors import ConfigError
from corroborate.health import process_health
from corroborate.logs import configure_logging
from corroborate.metrics import WorkerCollector, worker_registry
from streams.topics import TopicNames

__all__ = ["Connector", "ConnectorsDone", "build_connector", "connect", "run_connectors"]

log = logging.getLogger("corroborate.connect")

STATS_EVERY = 60.0


class Connector(Protocol):
    stats: SourceStats

    async def run(self, stop: asyncio.Event) -> None: ...


class _Replay:
    """A configured replay: runs to the end of its file, then idles until stopped."""

    def __init__(self, source: ReplaySource) -> None:
        self.source = source
        self.stats = source.stats

    async def run(self, stop: asyncio.Event) -> None:
        task = asyncio.create_task(self.source.run())
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            result = task.result()
            log.info(
                "source %s: replayed %d items (%d done before)", self.source.name, result.sent, result.skipped
            )
            await stop.wait()
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        waiter.cancel()


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        return host or "0.0.0.0", int(port)
    except ValueError:
        raise SourceConfigError(f"listen={value!r} must be HOST:PORT") from None


def build_connector(
    cfg: SourceConfig,
    *,
    outlet: KafkaOutlet,
    checkpoints: KafkaCheckpoints,
    bootstrap: str,
    topics: TopicNames,
) -> Connector:
    """The connector ``cfg`` describes, wired to the items topic and the checkpoint store."""
    if cfg.kind == "replay":
        return _Replay(
            ReplaySource(
                replay_input(Path(str(cfg.get("path"))), str(cfg.get("format", "jsonl"))),
                bootstrap=bootstrap,
                topic=topics.items,
                speed=float(cfg.get("speed", 0)) or None,
                checkpoints=checkpoints if cfg.get("resume", True) else None,
                name=cfg.name,
            )
        )
    if cfg.kind == "feeds":
        default = float(cfg.get("interval", 300))
        specs = [
            FeedSpec(
                str(f["url"]), float(f.get("interval", default)), f.get("outlet"), tuple(f.get("topics", ()))
            )
            for f in cfg.get("feeds")
        ]
        publisher = Publisher(cfg.name, outlet, checkpoints, recent_cap=max(5000, 300 * len(specs)))
        return FeedPoller(publisher, specs, timeout=float(cfg.get("timeout", 20)))
    publisher = Publisher(cfg.name, outlet, checkpoints)
    if cfg.kind == "x-stream":
        assert cfg.token is not None
        return XFilteredStream(
            publisher,
            token=cfg.token,
            rules=[XRule(str(r["value"]), r.get("tag")) for r in cfg.get("rules", [])],
            base_url=str(cfg.get("base_url", "https://api.x.com")),
            stall_seconds=float(cfg.get("stall_seconds", 30)),
            backfill_minutes=int(cfg.get("backfill_minutes", 0)),
        )
    if cfg.kind == "mastodon":
        return MastodonStream(
            publisher,
            base_url=str(cfg.get("base_url")),
            timeline=str(cfg.get("timeline", "hashtag")),
            tag=cfg.get("tag"),
            local=bool(cfg.get("local", False)),
            token=cfg.token,
            topics=tuple(cfg.get("topics", ())),
            stall_seconds=float(cfg.get("stall_seconds", 60)),
            catchup_pages=int(cfg.get("catchup_pages", 10)),
        )
    host, port = _listen(str(cfg.get("listen", "127.0.0.1:8088")))
    return IngestServer(
        publisher,
        tokens=cfg.tokens,
        host=host,
        port=port,
        max_body_bytes=int(cfg.get("max_body_bytes", 4 * 1024 * 1024)),
        max_items=int(cfg.get("max_items", 5000)),
    )


async def _report(connectors: Sequence[Connector], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await wait_or_stop(stop, STATS_EVERY)
        for c in connectors:
            log.info("source stats %s", c.stats.snapshot())


@dataclass(frozen=True, slots=True)
class ConnectorsDone:
    stats: list[SourceStats]
    failed: list[str]
    """Sources that stopped with an error (each logged with its reason)."""


async def run_connectors(
    configs: Sequence[SourceConfig],
    *,
    bootstrap: str,
    topics: TopicNames,
    stop: asyncio.Event,
    running: list[SourceStats] | None = None,
) -> ConnectorsDone:
    """Run ``configs`` until ``stop``; a connector that fails is logged and the others go on.

    When every connector has failed there is nothing left to run: the call
    returns, so that ``corroborate connect`` exits non-zero and its supervisor
    (Kubernetes, systemd) restarts it or tells an operator.
    """
    outlet = KafkaOutlet(bootstrap, items_topic=topics.items, deadletter_topic=topics.deadletter)
    checkpoints = KafkaCheckpoints(bootstrap, topics.source_state)
    await outlet.start()
    try:
        failed: list[str] = []
        built: list[tuple[SourceConfig, Connector]] = []
        for cfg in configs:
            try:
                built.append(
                    (
                        cfg,
                        build_connector(
                            cfg, outlet=outlet, checkpoints=checkpoints, bootstrap=bootstrap, topics=topics
                        ),
                    )
                )
            except ConnectorError as exc:
                failed.append(cfg.name)
                log.error("source %s (%s) cannot start: %s", cfg.name, cfg.kind, exc)
        connectors = [c for _, c in built]
        if running is not None:  # the metrics endpoint reads them while they run
            running.extend(c.stats for c in connectors)
        if len(failed) == len(configs):
            stop.set()

        async def guarded(cfg: SourceConfig, connector: Connector) -> None:
            try:
                await connector.run(stop)
            except Exception as exc:
                failed.append(cfg.name)
                log.error(
                    "source %s (%s) stopped: %s",
                    cfg.name,
                    cfg.kind,
                    exc,
                    exc_info=not isinstance(exc, ConnectorError),
                )
                if len(failed) == len(configs):
                    stop.set()

        tasks = [asyncio.create_task(guarded(c, k), name=f"source-{c.name}") for c, k in built]
        tasks.append(asyncio.create_task(_report(connectors, stop)))
        await asyncio.gather(*tasks)
        return ConnectorsDone([c.stats for c in connectors], failed)
    finally:
        await outlet.stop()
        await checkpoints.close()


async def _serve(settings: Settings, configs: Sequence[SourceConfig], bootstrap: str) -> ConnectorsDone:
    topics = TopicNames(settings.topic_prefix)
    await ensure_topics(bootstrap, topics.specs(settings.partitions), settings.replication)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    running: list[SourceStats] = []
    registry = worker_registry(WorkerCollector(sources=lambda: running))
    server = await process_health(
        settings.metrics_port, registry, lambda: bool(running), settings.stall_seconds
    )
    try:
        return await run_connectors(configs, bootstrap=bootstrap, topics=topics, stop=stop, running=running)
    finally:
        if server is not None:
            await server.stop()


def connect(settings: Settings, names: Sequence[str]) -> int:
    """Run the named sources (all enabled ones when none is named) until SIGTERM/Ctrl-C."""
    if settings.bootstrap_servers is None:
        raise ConfigError(
            "corroborate connect needs the cluster's Kafka: set KAFKA_BOOTSTRAP_SERVERS "
            "(with the embedded broker, set CORROBORATE_CONNECTORS and use corroborate run)"
        )
    config = settings.connectors_config()
    if config is None:
        raise ConfigError("corroborate connect needs CORROBORATE_CONNECTORS: the sources file")
    unknown = [n for n in names if n not in config.sources]
    if unknown:
        raise ConfigError(f"no source named {', '.join(unknown)}; configured: {', '.join(config.sources)}")
    chosen = [config.sources[n] for n in names] if names else config.enabled()
    configure_logging(settings)
    log.info("connecting %s", ", ".join(c.name for c in chosen))
    done = asyncio.run(_serve(settings, chosen, settings.bootstrap_servers))
    for stats in done.stats:
        log.info("stopped: %s", stats.snapshot())
    if done.failed:
        log.error("failed: %s (reasons above)", ", ".join(done.failed))
        return 1
    return 0
