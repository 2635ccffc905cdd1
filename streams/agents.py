"""Thin faust agents: move bytes between topics, call ``streams.stages``.

Why raw bytes and not ``faust.Record``: decoding is part of validation (a bad
record must reach the dead-letter topic with its original bytes and a reason),
and orjson on bytes is several times cheaper than faust's codec path.

Delivery is at-least-once: an agent's offset is committed after its sends are
handed to the producer, so a crash replays the uncommitted tail. Stages are
idempotent to that (a seen item id changes nothing; an alert is identified by
cluster id and version).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import faust
import orjson

from streams.app import AppConfig
from streams.domain.normalise import load_aliases
from streams.domain.policy import ClaimEvidence
from streams.domain.registry import load_registry
from streams.messages import ClaimAssigned, SchemaError
from streams.stages import ClusterOutput, ClusterStage, CorroborationStage, DeadLetter

__all__ = ["Pipeline", "PipelineStats", "register_pipeline"]

log = logging.getLogger("corroborate.agents")

EVIDENCE_CACHE_SIZE = 50_000


@dataclass(slots=True)
class PipelineStats:
    """Counters for health and tests; read by the CLI's progress line."""

    items_in: int = 0
    claims_out: int = 0
    dead_lettered: int = 0
    alerts_out: int = 0
    clusters_expired: int = 0
    dead_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Pipeline:
    app: faust.App
    stats: PipelineStats
    cluster_stage: ClusterStage
    corroboration_stage: CorroborationStage


def _dead_headers(letter: DeadLetter, stage: str, message: Any) -> list[tuple[str, bytes]]:
    return [
        ("x-error-reason", letter.reason.encode()),
        ("x-error-detail", letter.detail.encode()[:1000]),
        ("x-error-stage", stage.encode()),
        ("x-source-topic", str(message.topic).encode()),
        ("x-source-partition", str(message.partition).encode()),
        ("x-source-offset", str(message.offset).encode()),
    ]


def register_pipeline(app: faust.App, config: AppConfig) -> Pipeline:
    """Declare topics, the evidence table, agents and the expiry timer on ``app``."""
    names = config.topics
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes}
    raw_ser: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    items = app.topic(names.items, partitions=config.partitions, **raw, **raw_ser)
    claims = app.topic(names.claims, partitions=config.partitions, **raw, **raw_ser)
    clusters = app.topic(names.clusters, partitions=config.partitions, **raw, **raw_ser)
    alerts = app.topic(names.alerts, partitions=config.partitions, **raw, **raw_ser)
    deadletter = app.topic(names.deadletter, partitions=1, **raw, **raw_ser)
    evidence_table = app.Table(
        "evidence",
        partitions=config.partitions,
        key_type=bytes,
        value_type=bytes,
    )

    aliases = load_aliases(config.aliases_path)
    stats = PipelineStats()
    cluster_stage = ClusterStage(config.cluster, aliases=aliases)
    corroboration = CorroborationStage(load_registry(config.registry_path), config.policy, aliases=aliases)

    # Decoded evidence, reused while the table still holds the very bytes we wrote
    # (after recovery it holds new objects, which are decoded again).
    decoded: OrderedDict[bytes, tuple[bytes, ClaimEvidence]] = OrderedDict()

    def load_evidence(key: bytes) -> ClaimEvidence | None:
        stored = evidence_table.get(key)
        if stored is None:
            return None
        cached = decoded.get(key)
        if cached is not None and cached[0] is stored:
            decoded.move_to_end(key)
            return cached[1]
        return ClaimEvidence.from_dict(orjson.loads(stored))

    def save_evidence(key: bytes, evidence: ClaimEvidence) -> None:
        encoded = orjson.dumps(evidence.to_dict())
        evidence_table[key] = encoded
        decoded[key] = (encoded, evidence)
        decoded.move_to_end(key)
        while len(decoded) > EVIDENCE_CACHE_SIZE:
            decoded.popitem(last=False)

    async def dead_letter(letter: DeadLetter, stage: str, event: Any) -> None:
        stats.dead_lettered += 1
        stats.dead_reasons[letter.reason] = stats.dead_reasons.get(letter.reason, 0) + 1
        message = event.message
        log.warning(
            "dead-lettered %s[%s]@%s: %s %s",
            message.topic,
            message.partition,
            message.offset,
            letter.reason,
            letter.detail[:200],
        )
        await deadletter.send(
            key=message.key, value=letter.raw, headers=_dead_headers(letter, stage, message)
        )

    @app.agent(items, name="cluster")
    async def cluster_agent(stream: Any) -> None:
        async for event in stream.events():
            stats.items_in += 1
            out = cluster_stage.process(event.value or b"")
            if isinstance(out, DeadLetter):
                await dead_letter(out, "cluster", event)
                continue
            assert isinstance(out, ClusterOutput)
            key = out.claim.cluster_id.encode()
            await claims.send(key=key, value=out.claim.to_json())
            await clusters.send(key=key, value=out.update.to_json())
            stats.claims_out += 1

    @app.agent(claims, name="corroborate")
    async def corroborate_agent(stream: Any) -> None:
        async for event in stream.events():
            try:
                claim = ClaimAssigned.from_json(event.value)
            except (SchemaError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                await dead_letter(
                    DeadLetter(event.value or b"", "bad_claim_record", str(exc)),
                    "corroborate",
                    event,
                )
                continue
            key = claim.cluster_id.encode()
            evidence, alert = corroboration.process(claim, load_evidence(key))
            save_evidence(key, evidence)
            if alert is not None:
                await alerts.send(key=key, value=alert.to_json())
                stats.alerts_out += 1

    @app.timer(config.sweep_interval)  # type: ignore[untyped-decorator]
    async def expire_clusters() -> None:
        # Wall-clock sweep: quiet clusters leave the matcher even when nothing arrives.
        stats.clusters_expired += cluster_stage.expire(time.time())

    _ = (cluster_agent, corroborate_agent, expire_clusters)
    return Pipeline(app, stats, cluster_stage, corroboration)
