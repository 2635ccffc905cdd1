"""Create the pipeline's topics before any worker starts.

Why up front and not by faust on demand: compaction and retention must be set
explicitly (the embedded broker does not report defaults that clients read
back), and a replay source may start producing before faust has declared the
topic it consumes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import IO

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from corroborate.config import Settings
from corroborate.errors import ConfigError
from streams.topics import TopicNames, TopicSpec

__all__ = ["create_topics", "ensure_topics"]


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec], replication: int = 1) -> list[str]:
    """Create missing topics; return the names created. Existing topics are left alone.

    ``replication`` is 1 on the embedded broker; 3 on a production cluster, so
    that ``acks=all`` means three copies and one broker can be lost.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(s.name, s.partitions, replication, topic_configs=s.config())
            for s in specs
            if s.name not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                await admin.create_topics(new)
        return [t.name for t in new]
    finally:
        await admin.close()


def create_topics(settings: Settings, out: IO[str]) -> int:
    """``corroborate topics``: what a deployment runs once before the workers (a compose
    one-shot, a Kubernetes Job); it is idempotent, so running it again is harmless."""
    if settings.bootstrap_servers is None:
        raise ConfigError(
            "corroborate topics needs KAFKA_BOOTSTRAP_SERVERS (the embedded broker makes its own)"
        )
    specs = TopicNames(settings.topic_prefix).specs(settings.partitions)
    created = set(asyncio.run(ensure_topics(settings.bootstrap_servers, specs, settings.replication)))
    for spec in specs:
        cleanup = "compact" if spec.compacted else "delete"
        state = "created" if spec.name in created else "exists"
        fields = (
            spec.name,
            f"{spec.partitions} partitions",
            cleanup,
            f"replication {settings.replication}",
            state,
        )
        out.write("\t".join(fields) + "\n")
    return 0
