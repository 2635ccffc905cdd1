"""``corroborate deliver``: the delivery engine as a process of its own.

Why a process of its own: delivery scales and fails apart from the stream
workers (Slack down must not slow clustering), and a deployment restarts it
without touching them. It needs the cluster's Kafka (``KAFKA_BOOTSTRAP_SERVERS``):
an embedded broker lives inside one ``corroborate run``, which starts the
engine itself when ``CORROBORATE_DELIVERY`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from connectors.delivery.config import DeliveryConfig
from connectors.delivery.engine import DeliveryEngine
from corroborate.config import Settings
from corroborate.errors import ConfigError
from corroborate.health import process_health
from corroborate.logs import configure_logging
from corroborate.metrics import WorkerCollector, worker_registry
from streams.topics import TopicNames

__all__ = ["deliver", "make_engine"]

log = logging.getLogger("corroborate.delivery")


def make_engine(settings: Settings, config: DeliveryConfig, bootstrap: str) -> DeliveryEngine:
    return DeliveryEngine(
        config,
        bootstrap=bootstrap,
        topics=TopicNames(settings.topic_prefix),
        group_id=f"{settings.app_id}-delivery",
        # A restarted deliverer waits for its dead predecessor's session to end before
        # it gets the partitions back: as short as the stream workers' own.
        session_timeout=settings.session_timeout or (4.0 if settings.embedded else 30.0),
    )


async def _run(engine: DeliveryEngine, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    registry = worker_registry(WorkerCollector(delivery=lambda: engine.stats))
    started = time.monotonic()
    server = await process_health(
        settings.metrics_port, registry, lambda: time.monotonic() - started > 1.0, settings.stall_seconds
    )
    try:
        await engine.run(stop)
    finally:
        if server is not None:
            await server.stop()


def deliver(settings: Settings) -> int:
    """Deliver alerts until SIGTERM/Ctrl-C: the batch in hand is finished and committed first."""
    if settings.bootstrap_servers is None:
        raise ConfigError(
            "corroborate deliver needs the cluster's Kafka: set KAFKA_BOOTSTRAP_SERVERS "
            "(with the embedded broker, set CORROBORATE_DELIVERY and use corroborate run)"
        )
    config = settings.delivery_config()
    if config is None:
        raise ConfigError("corroborate deliver needs CORROBORATE_DELIVERY: the destinations and routes file")
    configure_logging(settings)
    engine = make_engine(settings, config, settings.bootstrap_servers)
    log.info("delivering to %s", ", ".join(config.destinations) or "nowhere")
    asyncio.run(_run(engine, settings))
    stats = engine.stats
    log.info(
        "stopped: delivered %s, already there %s, dead-lettered %s",
        dict(stats.delivered),
        dict(stats.already),
        dict(stats.dead),
    )
    return 0
