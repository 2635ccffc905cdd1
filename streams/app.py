"""The faust application: configuration value object and factory.

Why these broker settings: a faust worker on the embedded broker took ~31 s
to become ready with defaults, because the broker answers a JoinGroup only
after half the consumer's session timeout and faust's default session timeout
is 60 s. With a 4 s session and 1 s heartbeats it is ready in about 3 s. Short
sessions make rebalances likelier on a loaded real cluster, so they are set
per broker (see ``corroborate.config``), not globally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import faust
from mode.utils.queues import FlowControlEvent

from streams._transport import RefetchingFlowControl, SeekSafeConsumer, make_transport_class
from streams.domain.clustering import ClusterConfig
from streams.domain.policy import PolicyBook, PolicyConfig
from streams.domain.stance import StanceModel
from streams.topics import TopicNames

__all__ = ["AppConfig", "create_app"]

#: Largest record the pipeline moves. Larger than any valid item on purpose:
#: an oversized item must reach the validating agent and the dead-letter
#: topic with its bytes, not be refused silently by a producer.
MAX_RECORD_BYTES = 16 * 1024 * 1024
#: Most a fetch takes from one partition. Kafka's default, not MAX_RECORD_BYTES: faust
#: hands a fetched batch to the streams in order, so one partition's 16 MiB of items
#: (50,000 posts) had to reach the cluster agent before the claims fetched beside it
#: reached the corroborate agent, and alerts waited minutes under load (measured
#: here; the rest of that stall was the poll size, see ``MAX_POLL_RECORDS``). A larger
#: record still comes whole: the broker returns the first batch of a partition even
#: when it is larger than this (KIP-74).
FETCH_PARTITION_BYTES = 1024 * 1024
#: Records a stream's queue holds before faust blocks the consumer (faust's default).
STREAM_BUFFER = 4096
#: Most records one poll hands to faust. faust stops fetching a partition whose stream
#: queue is past ``STREAM_BUFFER / 1.25`` (mode's pressure mark), but delivers the rest
#: of a batch already polled, *waiting* on a full queue, and it delivers every
#: partition from one loop. A poll of 1 MiB of items (thousands) overran the items
#: queue, and the loop then waited on the cluster agent, so claims polled beside them
#: did not reach the corroborate agent for up to two minutes (measured here: claims 4,014
#: behind, none done for 110 s, while items flowed). A poll no larger than the headroom
#: above the mark always fits, the items partition is set aside, and the next polls
#: bring the other partitions.
MAX_POLL_RECORDS = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class AppConfig:
    """Everything the stream application needs; built by ``corroborate.config``."""

    bootstrap_servers: str
    app_id: str = "corroborate"
    topics: TopicNames = field(default_factory=TopicNames)
    partitions: int = 4
    state_dir: Path = Path(".corroborate")
    session_timeout: float = 4.0
    heartbeat_interval: float = 1.0
    fetch_max_wait_ms: int = 10
    registry_path: str | None = None
    aliases_path: str | None = None
    stance_model: StanceModel | None = None
    """None: the bundled model."""
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    policy: PolicyConfig | PolicyBook = field(default_factory=PolicyConfig)
    sweep_interval: float = 60.0
    replication_factor: int = 1
    """Of the changelog topics faust creates (the pipeline's own come from ``corroborate topics``)."""
    group_instance_id: str | None = None
    """Static group membership (KIP-345): a restarted worker with the same id gets its
    partitions back without a rebalance of the whole group, within the session timeout."""


def create_app(config: AppConfig, **overrides: Any) -> faust.App:
    transport_cls = make_transport_class(config.fetch_max_wait_ms, config.bootstrap_servers)
    config.state_dir.mkdir(parents=True, exist_ok=True)  # faust creates only the last level

    class _App(faust.App):
        def _new_transport(self) -> Any:
            return transport_cls(self.conf.broker_consumer, self)

        @cached_property
        def flow_control(self) -> FlowControlEvent:
            return RefetchingFlowControl(loop=self.loop, on_cleared=self._refetch_cleared)

        def _refetch_cleared(self, offsets: Mapping[Any, int]) -> None:
            consumer = self.consumer
            if isinstance(consumer, SeekSafeConsumer):
                consumer.refetch(offsets)

    settings: dict[str, Any] = {
        "broker": f"kafka://{config.bootstrap_servers}",
        "store": "memory://",
        "datadir": str(config.state_dir / "faust"),
        "topic_partitions": config.partitions,
        "topic_replication_factor": config.replication_factor,
        "consumer_group_instance_id": config.group_instance_id,
        "broker_session_timeout": config.session_timeout,
        "broker_heartbeat_interval": config.heartbeat_interval,
        "broker_rebalance_timeout": max(config.session_timeout, 4.0),
        "broker_request_timeout": max(config.session_timeout * 2, 40.0),
        "consumer_auto_offset_reset": "earliest",
        "producer_max_request_size": MAX_RECORD_BYTES,
        "consumer_max_fetch_size": FETCH_PARTITION_BYTES,
        "stream_buffer_maxsize": STREAM_BUFFER,
        "broker_max_poll_records": MAX_POLL_RECORDS,
        "producer_acks": -1,
        "producer_linger": 0.002,
        "web_enabled": False,
        "stream_wait_empty": False,
        "table_cleanup_interval": 60.0,
        # Tables hold orjson bytes the stages encode themselves.
        "table_key_serializer": "raw",
        "table_value_serializer": "raw",
    }
    settings.update(overrides)
    return _App(config.app_id, **settings)
