"""Create the pipeline's topics before any worker starts.

Why up front and not by faust on demand: compaction and retention must be set
explicitly (the embedded broker does not report defaults that clients read
back), and a replay source may start producing before faust has declared the
topic it consumes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.topics import TopicSpec

__all__ = ["ensure_topics"]


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec]) -> list[str]:
    """Create missing topics; return the names created. Existing topics are left alone."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(s.name, s.partitions, 1, topic_configs=s.config())
            for s in specs
            if s.name not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                await admin.create_topics(new)
        return [t.name for t in new]
    finally:
        await admin.close()
