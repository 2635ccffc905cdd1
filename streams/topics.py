"""Topic names and layout. Every name carries a configurable prefix.

=====================  ===========  ==========  ============================================
topic                  key          cleanup     value
=====================  ===========  ==========  ============================================
``<p>items``           item id      delete      Item JSON (connectors write here)
``<p>claims``          cluster id   delete      ClaimAssigned: item + cluster, for corroboration;
                                                also ClusterAlias and EvidenceMoved (merges)
``<p>blocks``          block word   delete      BlockAnnounce: a new exemplar, to find merges
``<p>merges``          (none)       delete      MergeFound; one partition: the union is global
``<p>clusters``        cluster id   compact     ClusterUpdate: latest view of each cluster
``<p>alerts``          cluster id   compact     Alert: latest evidence state of each claim
``<p>alert-history``   cluster id   delete      Alert: every version, append-only (90 days)
``<p>delivery-state``  dest|cluster compact     what each destination has of each claim
``<p>delivery-dead``   dest|cluster delete      alerts a destination refused after the last attempt
``<p>deadletter``      as received  delete      original bytes; reason and origin in headers
``<p>source-state``    source name  compact     a connector's checkpoint: position and recent ids
=====================  ===========  ==========  ============================================
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.partitioner import murmur2

__all__ = ["DEADLETTER_HEADERS", "TopicNames", "TopicSpec", "key_partition"]

#: Header names on dead-letter records.
DEADLETTER_HEADERS = (
    "x-error-reason",
    "x-error-detail",
    "x-error-stage",
    "x-source-topic",
    "x-source-partition",
    "x-source-offset",
)

_WEEK_MS = 7 * 24 * 3600 * 1000


def key_partition(key: bytes, partitions: int) -> int:
    """The partition a keyed record lands on, as the producer's default partitioner
    (Kafka's murmur2) puts it. Why: a stage that would send a record to a key on its
    own partition can handle it in place, in order, instead of behind whatever is
    queued there."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool
    retention_ms: int

    def config(self) -> dict[str, str]:
        """Explicit configs: the embedded broker omits defaults that clients read back."""
        return {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }


@dataclass(frozen=True, slots=True)
class TopicNames:
    prefix: str = "corroborate."

    @property
    def items(self) -> str:
        return f"{self.prefix}items"

    @property
    def claims(self) -> str:
        return f"{self.prefix}claims"

    @property
    def clusters(self) -> str:
        return f"{self.prefix}clusters"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}alerts"

    @property
    def blocks(self) -> str:
        return f"{self.prefix}blocks"

    @property
    def merges(self) -> str:
        return f"{self.prefix}merges"

    @property
    def alert_history(self) -> str:
        return f"{self.prefix}alert-history"

    @property
    def delivery_state(self) -> str:
        return f"{self.prefix}delivery-state"

    @property
    def delivery_dead(self) -> str:
        return f"{self.prefix}delivery-dead"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}deadletter"

    @property
    def source_state(self) -> str:
        return f"{self.prefix}source-state"

    def specs(self, partitions: int) -> list[TopicSpec]:
        return [
            TopicSpec(self.items, partitions, False, _WEEK_MS),
            TopicSpec(self.claims, partitions, False, _WEEK_MS),
            TopicSpec(self.blocks, partitions, False, _WEEK_MS),
            TopicSpec(self.merges, 1, False, _WEEK_MS),
            TopicSpec(self.clusters, partitions, True, -1),
            TopicSpec(self.alerts, partitions, True, -1),
            TopicSpec(self.alert_history, partitions, False, 13 * _WEEK_MS),
            TopicSpec(self.delivery_state, 1, True, -1),
            TopicSpec(self.delivery_dead, 1, False, 4 * _WEEK_MS),
            TopicSpec(self.deadletter, 1, False, 4 * _WEEK_MS),
            TopicSpec(self.source_state, 1, True, -1),
        ]
