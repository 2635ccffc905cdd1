"""Thin faust agents: move bytes between topics, call ``streams.stages``.

Why raw bytes and not ``faust.Record``: decoding is part of validation (a bad
record must reach the dead-letter topic with its original bytes and a reason),
and orjson on bytes is several times cheaper than faust's codec path.

Delivery is at-least-once: an agent's offset is committed after its sends are
handed to the producer, so a crash replays the uncommitted tail. Stages are
idempotent to that (a seen item id changes nothing; an alert is identified by
cluster id and version; a union already made changes nothing). Two more rules
make a restarted worker go on as an undisturbed one would: the matcher's state
is logged as it changes (table ``exemplars``) and rebuilt from that log, and an
agent waits until its sends are delivered before it writes the table that
remembers them (a table may be ahead of the committed offset after a kill -9,
and a replayed record that changes nothing must not have lost its effects).

Clusters across workers::

    items -[cluster]-> claims, clusters, blocks (one record per block key of each new exemplar)
    blocks -[block]-> merges (two clusters of one claim; table ``blocks`` keeps recent exemplars)
    merges -[merge]-> claims: ClusterAlias (one partition, table ``unions``)
    claims -[corroborate]-> alerts; an alias hands its evidence to its canonical cluster

Contradictions across clusters: the cluster and block agents send a
ClusterLink to each of two clusters that clash; each side answers with an
OpposingSummary of its supporting origins (again whenever they change), which
the other counts as denying. The expiry timer sends a QuietCheck for alerted
claims that went quiet; the record's owner decides and raises QUIET.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import signal
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import faust
import orjson

from streams._acks import Halt, records_in_hand
from streams._failures import PROCESSING_FAILED, failure_text, halts_worker
from streams.app import AppConfig
from streams.domain.blocking import BlockEntry
from streams.domain.merging import ClusterRef, UnionFind
from streams.domain.normalise import load_aliases
from streams.domain.policy import ClaimEvidence
from streams.domain.registry import load_registry
from streams.domain.watermark import Watermark
from streams.messages import (
    Alert,
    BlockAnnounce,
    ClaimAssigned,
    ClusterAlias,
    ClusterExemplars,
    ClusterLink,
    ClusterUpdate,
    EvidenceMoved,
    ExactText,
    MergeFound,
    OpposingSummary,
    QuietCheck,
    SchemaError,
    decode_claims_record,
)
from streams.stages import (
    PREFETCH_BATCH,
    BlockStage,
    ClusterOutput,
    ClusterStage,
    CorroborationStage,
    DeadLetter,
)
from streams.topics import key_partition

__all__ = ["Pipeline", "PipelineStats", "register_pipeline", "run_guarded", "run_sweep"]

log = logging.getLogger("corroborate.agents")
T = TypeVar("T")

EVIDENCE_CACHE_SIZE = 50_000
#: The longest the cluster agent waits to fill a batch of ``PREFETCH_BATCH`` items (s).
CLUSTER_BATCH_WAIT = 0.01
#: Records decoded or clusters restored between two yields to the event loop.
RESTORE_CHUNK = 5000
_DECODE_ERRORS = (SchemaError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError)


@dataclass
class _MatcherLog:
    """What a batch of the cluster agent sent, and the ``exemplars`` changelog records
    (partition, key, value; None deletes) to write once those are delivered."""

    sent: list[Awaitable[Any]] = field(default_factory=list)
    records: list[tuple[int, bytes, bytes | None]] = field(default_factory=list)


class _UnionTable(MutableMapping[str, tuple[str, float]]):
    """The ``unions`` or ``aliases`` table seen as ``cluster id -> (parent, parent first_seen)``."""

    def __init__(self, table: Any) -> None:
        self._t = table

    def __getitem__(self, key: str) -> tuple[str, float]:
        raw = self._t[key.encode()]
        if not raw.startswith(b"["):  # an ``aliases`` entry of an earlier version: the id alone
            return raw.decode(), 0.0
        parent, first = orjson.loads(raw)
        return str(parent), float(first)

    def __setitem__(self, key: str, value: tuple[str, float]) -> None:
        self._t[key.encode()] = orjson.dumps(list(value))

    def __delitem__(self, key: str) -> None:
        del self._t[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return (k.decode() for k in self._t)

    def __len__(self) -> int:
        return len(self._t)


def _alias_record(alias: ClusterRef, canonical: ClusterRef, score: float) -> ClusterAlias:
    return ClusterAlias(alias.cluster_id, canonical.cluster_id, score, alias.first_seen, canonical.first_seen)


@dataclass(slots=True)
class PipelineStats:
    """Counters for health and tests; read by the CLI's progress line."""

    items_in: int = 0
    claims_out: int = 0
    merges_found: int = 0
    clusters_merged: int = 0
    contradictions_found: int = 0
    """Contradiction links sent (two per pair of clusters, one to each)."""
    dead_lettered: int = 0
    alerts_out: int = 0
    clusters_expired: int = 0
    dead_reasons: dict[str, int] = field(default_factory=dict)
    alerts_by_state: dict[str, int] = field(default_factory=dict)
    evidence_forgotten: int = 0
    """Evidence of claims that never alerted, deleted once their cluster went quiet."""
    timer_at: float | None = None
    """Monotonic time the sweep timer last completed a sweep (liveness: timers must fire)."""
    sweep_failures: int = 0
    """Sweeps that raised; the worker logs each and goes on (see ``run_sweep``)."""
    sweep_error: str | None = None
    """The last sweep's error, None once a sweep completes again."""
    worked_at: float | None = None
    """Monotonic time the cluster or corroborate agent last took a record: a replay that
    waits for the stream to go idle must not stop while items are still queued."""
    halted: str | None = None
    """Why an agent stopped the worker (an error of the broker or the machine), else None."""


@dataclass(slots=True)
class Pipeline:
    app: faust.App
    stats: PipelineStats
    cluster_stage: ClusterStage
    corroboration_stage: CorroborationStage


async def run_sweep(
    sweep: Callable[[], Awaitable[None]],
    stats: PipelineStats,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Run one sweep; a failure is logged and counted, not raised.

    Why: faust crashes the whole worker when a timer raises, so one sweep that
    met a broker hiccup (a send timing out) would stop the streams too and make
    the worker recover every table. A failed sweep leaves ``timer_at`` where it
    was, so sweeps that keep failing turn liveness red and the orchestrator
    restarts the worker then. The next sweep redoes the quiet checks (they are
    decided from the ``watch`` table, not from the last run); clusters the failed
    sweep dropped without their tombstones being logged come back on a restart
    and expire again.
    """
    try:
        await sweep()
    except Exception as exc:
        stats.sweep_failures += 1
        stats.sweep_error = f"{type(exc).__name__}: {exc}"[:300]
        log.exception("sweep failed (%d so far); the next sweep retries", stats.sweep_failures)
        return False
    stats.timer_at = clock()
    stats.sweep_error = None
    return True


async def run_guarded(
    stage: str,
    event: Any,
    work: Callable[[Any], Awaitable[None]],
    dead_letter: Callable[[DeadLetter, str, Any], Awaitable[None]],
) -> None:
    """``work`` on one faust event. A fault of this code on it dead-letters the event
    and the stream goes on; an error of the broker or the machine is raised, for
    ``records_in_hand`` to stop the worker (``streams._failures`` says why)."""
    try:
        await work(event)
    except Exception as exc:
        if halts_worker(exc):
            raise
        message = event.message
        log.exception(
            "the %s agent failed on %s[%s]@%s", stage, message.topic, message.partition, message.offset
        )
        letter = DeadLetter(event.value or b"", PROCESSING_FAILED, failure_text(exc, 1000))
        await dead_letter(letter, stage, event)


def _dead_headers(letter: DeadLetter, stage: str, message: Any) -> list[tuple[str, bytes]]:
    return [
        ("x-error-reason", letter.reason.encode()),
        ("x-error-detail", letter.detail.encode()[:1000]),
        ("x-error-stage", stage.encode()),
        ("x-source-topic", str(message.topic).encode()),
        ("x-source-partition", str(message.partition).encode()),
        ("x-source-offset", str(message.offset).encode()),
    ]


def _stop_this_process(reason: str) -> None:
    """faust's worker takes a SIGTERM as a graceful stop: agents cancelled, acked offsets committed."""
    os.kill(os.getpid(), signal.SIGTERM)


def register_pipeline(app: faust.App, config: AppConfig, *, halt: Halt = _stop_this_process) -> Pipeline:
    """Declare topics, the evidence table, agents and the expiry timer on ``app``.

    ``halt`` stops the worker when an agent meets an error of the broker or the
    machine (``streams._failures``); the records it had in hand stay uncommitted."""
    names = config.topics
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes}
    raw_ser: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    items = app.topic(names.items, partitions=config.partitions, **raw, **raw_ser)
    claims = app.topic(names.claims, partitions=config.partitions, **raw, **raw_ser)
    clusters = app.topic(names.clusters, partitions=config.partitions, **raw, **raw_ser)
    alerts = app.topic(names.alerts, partitions=config.partitions, **raw, **raw_ser)
    history = app.topic(names.alert_history, partitions=config.partitions, **raw, **raw_ser)

    async def emit(key: bytes, alert: Alert, sent: list[Awaitable[Any]]) -> None:
        """Latest state (compacted) and the append-only history of every version."""
        encoded = alert.to_json()
        sent.append(await alerts.send(key=key, value=encoded))
        sent.append(await history.send(key=key, value=encoded))
        stats.alerts_out += 1
        stats.alerts_by_state[alert.state] = stats.alerts_by_state.get(alert.state, 0) + 1
        # One line ties the alert to the items behind it (ids only: texts are not logged).
        log.info(
            "alert %s state=%s cluster=%s caused_by=%s origins=%s items=%s",
            alert.alert_id,
            alert.state,
            alert.cluster_id,
            alert.caused_by,
            ",".join(o.get("root_item", "") for o in alert.origins),
            ",".join(str(e.get("item", "")) for e in alert.evidence),
            extra={"alert_id": alert.alert_id, "cluster_id": alert.cluster_id, "caused_by": alert.caused_by},
        )

    blocks = app.topic(names.blocks, partitions=config.partitions, **raw, **raw_ser)
    merges = app.topic(names.merges, partitions=1, **raw, **raw_ser)
    deadletter = app.topic(names.deadletter, partitions=1, **raw, **raw_ser)
    evidence_table = app.Table("evidence", partitions=config.partitions, key_type=bytes, value_type=bytes)
    alias_table = app.Table("aliases", partitions=config.partitions, key_type=bytes, value_type=bytes)
    # Retired cluster -> (canonical, its first_seen), written only on the retired one's partition.
    alias_parents = _UnionTable(alias_table)
    unions_here = UnionFind(alias_parents)
    block_table = app.Table("blocks", partitions=config.partitions, key_type=bytes, value_type=bytes)
    # Written only through its changelog (``ClusterExemplars``), by the cluster agent, which
    # may not set table keys (it takes items in batches); read once, after a restart.
    exemplar_table = app.Table("exemplars", partitions=config.partitions, key_type=bytes, value_type=bytes)
    union_table = app.Table("unions", partitions=1, key_type=bytes, value_type=bytes)
    # Alerted (corroborated or contested) claims -> [last item time, last change]: the
    # expiry timer reads it to find claims that went quiet without decoding all evidence.
    watch_table = app.Table("watch", partitions=config.partitions, key_type=bytes, value_type=bytes)

    aliases = load_aliases(config.aliases_path)
    stats = PipelineStats()
    cluster_stage = ClusterStage(config.cluster, aliases=aliases)
    corroboration = CorroborationStage(
        load_registry(config.registry_path), config.policy, aliases=aliases, stance_model=config.stance_model
    )

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

    def drop_evidence(key: bytes) -> None:
        evidence_table.pop(key, None)
        decoded.pop(key, None)

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

    def halt_once(reason: str) -> None:
        if stats.halted is None:
            stats.halted = reason
            halt(reason)

    async def guarded(stage: str, event: Any, work: Callable[[Any], Awaitable[None]]) -> None:
        await run_guarded(stage, event, work, dead_letter)

    async def one_by_one(stream: Any, stage: str, work: Callable[[Any], Awaitable[None]]) -> None:
        """The loop of an agent that takes its records one at a time (all but the
        cluster agent, which batches for the encoder): each record ``guarded``, and
        acknowledged only when done (``records_in_hand``)."""
        async for event in stream.events():
            async with records_in_hand((event,), stage, halt_once):
                await guarded(stage, event, work)

    async def decode_or_dead_letter(
        decode: Callable[[bytes], T], event: Any, reason: str, stage: str
    ) -> T | None:
        """A stage record decoded, or None once its bytes are in the dead-letter topic."""
        try:
            return decode(event.value)
        except _DECODE_ERRORS as exc:
            await dead_letter(DeadLetter(event.value or b"", reason, str(exc)), stage, event)
            return None

    # Live cluster -> the partition of the ``exemplars`` changelog that holds it, and the
    # keys of its ``ExactText`` records there (deleted with it).
    home: dict[str, int] = {}
    exact_keys: dict[str, list[bytes]] = {}

    @exemplar_table.on_recover
    async def restore_clusters() -> None:
        """After every rebalance's table recovery, before the streams resume: the matcher
        holds the clusters of this worker's partitions as their log has them.

        Clusters of partitions it lost are forgotten (their new owner goes on with them);
        those of partitions it gained, or all of them after a (re)start, are rebuilt from
        the ``ClusterExemplars`` and ``ExactText`` records recovery just read. The table's
        copy is dropped after: the matcher holds them now. Done in parts, yielding to the
        loop, so that a million clusters do not stall the heartbeats into a rebalance."""
        began = time.monotonic()
        active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == names.items}
        lost = [cid for cid, partition in home.items() if partition not in active]
        if lost:
            forgotten = cluster_stage.forget(lost)
            for cid in lost:
                del home[cid]
                exact_keys.pop(cid, None)
            log.info("forgot %d clusters of partitions now served by another worker", forgotten)
        store = exemplar_table.data
        stored = list(store.items())
        store.clear()
        # faust's memory store remembers the partition of every key it recovered; these
        # are gone from the store now, so drop that too or it grows with every record.
        getattr(store, "_key_partition", {}).clear()
        records: list[ClusterExemplars] = []
        texts: list[ExactText] = []
        for n, (key, raw_record) in enumerate(stored, 1):
            try:
                if key.startswith(b"x:"):
                    texts.append(ExactText.from_json(raw_record))
                else:
                    records.append(ClusterExemplars.from_json(raw_record))
            except _DECODE_ERRORS as exc:
                log.warning("skipped an unreadable exemplars record: %s", exc)
            if n % RESTORE_CHUNK == 0:
                await asyncio.sleep(0)
        del stored
        gained: set[str] = set()
        for part in cluster_stage.restore_in_parts(records, texts, RESTORE_CHUNK):
            for record in part:
                home[record.cluster_id] = record.home
                gained.add(record.cluster_id)
            await asyncio.sleep(0)
        # The texts the stage restored with them, to delete with them.
        restored = [text for text in texts if text.cluster_id in gained]
        for text in restored:
            exact_keys.setdefault(text.cluster_id, []).append(text.key())
        if gained or lost:
            log.info(
                "restored %d clusters and %d texts from the exemplars table in %.1f s (%d live)",
                len(gained),
                len(restored),
                time.monotonic() - began,
                len(cluster_stage.clusterer),
            )

    @app.agent(items, name="cluster")
    async def cluster_agent(stream: Any) -> None:
        # Items come in small batches (at most PREFETCH_BATCH, or what arrived within
        # CLUSTER_BATCH_WAIT) only so that the sentence encoder runs once per batch
        # (``prefetch``); each item is then processed and sent in order, and faust
        # acknowledges the batch's offsets after the last one (a batch cut short by a
        # cancellation or by an error of the broker not at all: ``records_in_hand``; an
        # item the code fails on is dead-lettered: ``guarded``). faust refuses table writes
        # inside a batch, so the matcher's log goes straight to the changelog of ``exemplars``.
        async for events in stream.take_events(PREFETCH_BATCH, within=CLUSTER_BATCH_WAIT):
            async with records_in_hand(events, "cluster", halt_once):
                prefetch(events)
                batch = _MatcherLog()
                for event in events:
                    await guarded("cluster", event, functools.partial(cluster_one, batch=batch))
                await write_matcher_log(batch)

    def prefetch(events: list[Any]) -> None:
        """Encodes the batch's texts in one pass; if that fails, each item is encoded alone
        as it is processed, where a fault dead-letters only the item that caused it."""
        try:
            cluster_stage.prefetch([event.value or b"" for event in events])
        except Exception as exc:
            if halts_worker(exc):
                raise
            log.exception("encoding a batch of %d items failed; encoding them one by one", len(events))

    async def write_matcher_log(batch: _MatcherLog) -> None:
        """The batch's changelog records, once what its posts caused is delivered.

        Why wait: a log record that outlives a kill -9 while the claims or block
        announcements of its post were lost makes the replayed post "seen", and
        what it should have caused never happens (an exemplar no block agent
        heard of). Logged after delivery, a replay finds the matcher as it was
        before the batch and redoes the batch as it was done: the same records
        again, which every consumer takes as already seen."""
        if batch.sent:
            await asyncio.gather(*batch.sent)
        for partition, key, value in batch.records:
            exemplar_table.send_changelog(partition, key, value, value_serializer="raw")

    async def cluster_one(event: Any, batch: _MatcherLog) -> None:
        stats.items_in += 1
        stats.worked_at = time.monotonic()
        out = cluster_stage.process(event.value or b"", source=event.message.partition)
        if isinstance(out, DeadLetter):
            await dead_letter(out, "cluster", event)
            return
        assert isinstance(out, ClusterOutput)
        key = out.claim.cluster_id.encode()
        sent = batch.sent
        sent.append(await claims.send(key=key, value=out.claim.to_json()))
        sent.append(await clusters.send(key=key, value=out.update.to_json()))
        for announce in out.announces:
            sent.append(await blocks.send(key=announce.key.encode(), value=announce.to_json()))
        for found in out.merges:
            # To the merge agent for the union of every worker's clusters, and to the
            # claims topic right behind this claim: these two clusters are this worker's,
            # so their union is known now, and handled there in this order, a replay
            # raises the alerts it raised before (the merge agent's copy changes nothing).
            sent.append(await merges.send(key=b"merge", value=found.to_json()))
            winner, loser = sorted((found.a, found.b))
            in_order = _alias_record(loser, winner, found.score)
            sent.append(await claims.send(key=loser.cluster_id.encode(), value=in_order.to_json()))
            stats.merges_found += 1
        for link in out.links:
            sent.append(await claims.send(key=link.cluster_id.encode(), value=link.to_json()))
            stats.contradictions_found += 1
        if out.exemplars:
            cid = out.claim.cluster_id
            record = ClusterExemplars(
                cid, home.setdefault(cid, event.message.partition), out.update.representative, out.exemplars
            )
            batch.records.append((record.home, key, record.to_json()))
        for text in out.exact:
            text_key = text.key()
            exact_keys.setdefault(text.cluster_id, []).append(text_key)
            partition = home.setdefault(text.cluster_id, event.message.partition)
            batch.records.append((partition, text_key, text.to_json()))
        stats.claims_out += 1
        await announce_expired(batch)

    async def announce_expired(batch: _MatcherLog) -> None:
        """Clusters the matcher dropped (quiet): their evidence owner decides what to keep.
        Their tombstones join ``batch``, after any record of theirs it holds."""
        expired = cluster_stage.drain_expired()
        if expired:
            now = time.time()
            watermark = event_time.value(now)
            for cid in expired:
                check = QuietCheck(cid, max(watermark, cluster_stage.watermark), now, left_matcher=True)
                batch.sent.append(await claims.send(key=cid.encode(), value=check.to_json()))
                partition = home.pop(cid, None)
                if partition is not None:  # tombstones: compaction drops the cluster's records
                    for gone in (cid.encode(), *exact_keys.pop(cid, ())):
                        batch.records.append((partition, gone, None))

    block_stage = BlockStage(config.cluster)

    @app.agent(blocks, name="block")
    async def block_agent(stream: Any) -> None:
        await one_by_one(stream, "block", block_one)

    async def block_one(event: Any) -> None:
        announce = await decode_or_dead_letter(BlockAnnounce.from_json, event, "bad_block_record", "block")
        if announce is None:
            return
        key = announce.key.encode()
        stored = block_table.get(key)
        entries = [BlockEntry.from_list(v) for v in orjson.loads(stored)] if stored else []
        found, links, kept = block_stage.process(announce, entries)
        sent: list[Awaitable[Any]] = []
        for merge in found:
            sent.append(await merges.send(key=b"merge", value=merge.to_json()))
            stats.merges_found += 1
        for link in links:
            sent.append(await claims.send(key=link.cluster_id.encode(), value=link.to_json()))
            stats.contradictions_found += 1
        if sent:
            await asyncio.gather(*sent)  # delivered before the table says "seen"
        block_table[key] = orjson.dumps([e.to_list() for e in kept])

    unions_all = UnionFind(_UnionTable(union_table))  # the merge agent's: every worker's clusters

    @app.agent(merges, name="merge")
    async def merge_agent(stream: Any) -> None:
        await one_by_one(stream, "merge", merge_one)

    async def merge_one(event: Any) -> None:
        found = await decode_or_dead_letter(MergeFound.from_json, event, "bad_merge_record", "merge")
        if found is None:
            return
        merge = unions_all.union(found.a, found.b)
        if merge is not None:
            stats.clusters_merged += 1
            retired = [(merge.alias, merge.canonical)]
        else:
            # Already one set: say so again for both, in case the alias record of an
            # earlier run was lost in a crash between the table write and the send.
            root = unions_all.find(found.a)
            retired = [(r, root) for r in (found.a, found.b) if r.cluster_id != root.cluster_id]
        for alias, canonical in retired:
            retire = _alias_record(alias, canonical, found.score)
            await claims.send(key=alias.cluster_id.encode(), value=retire.to_json())
            if merge is not None:
                gone = ClusterUpdate(
                    alias.cluster_id, "", 0, 0.0, 0.0, [], {}, merged_into=canonical.cluster_id
                )
                await clusters.send(key=alias.cluster_id.encode(), value=gone.to_json())

    # Event time for quiet checks, per claims partition (the slowest active one decides).
    event_time = Watermark()

    async def handle_claims_record(
        record: ClaimAssigned | EvidenceMoved | ClusterLink | OpposingSummary | QuietCheck,
        partition: int,
    ) -> None:
        """Fold one claims-topic record into the evidence of its (canonical) cluster."""
        key = record.cluster_id.encode()
        forward = alias_parents.get(record.cluster_id)
        if forward is not None:
            # Retired by a merge: whatever was meant for it goes to the canonical cluster.
            if not isinstance(record, QuietCheck):
                await hand_on(dataclasses.replace(record, cluster_id=forward[0]), partition)
            return
        if isinstance(record, ClaimAssigned):
            event_time.observe(partition, record.item.created_at, time.time())
        handled = corroboration.handle(record, load_evidence(key))
        evidence, alert = handled.evidence, handled.alert
        if handled.forget:
            drop_evidence(key)
            stats.evidence_forgotten += 1
        if evidence is None:
            watch_table.pop(key, None)
            return
        # Effects first, and delivered, before the state that remembers them is written:
        # after a kill -9 the table can be ahead of the committed offset, and a record
        # replayed then changes nothing, so its alert must already be in Kafka. (The
        # other way round, a replay redoes an alert already sent: the same id again.)
        sent: list[Awaitable[Any]] = []
        for summary in handled.sends:
            sent.append(await claims.send(key=summary.cluster_id.encode(), value=summary.to_json()))
        if alert is not None:
            await emit(key, alert, sent)
        if sent:
            await asyncio.gather(*sent)
        save_evidence(key, evidence)
        watched = watch_table.get(key)
        if evidence.state.value in ("CORROBORATED", "CONTESTED"):
            # Rewritten only when it moved by a 48th of the quiet period: a hot claim
            # must not add a changelog record per item just to stay awake.
            seen = orjson.loads(watched) if watched is not None else None
            slack = corroboration.policy(evidence).quiet_seconds / 48
            if seen is None or max(evidence.last_seen - seen[0], evidence.touched_at - seen[1]) >= slack:
                watch_table[key] = orjson.dumps([evidence.last_seen, evidence.touched_at])
        elif watched is not None:
            watch_table.pop(key, None)

    async def hand_on(
        record: ClaimAssigned | EvidenceMoved | ClusterLink | OpposingSummary, partition: int
    ) -> None:
        """A record for another cluster (a retired one's canonical): handled here and now
        when that cluster's key is on this partition, else sent to its partition.

        Why in place: sent, it would queue behind whatever claims came meanwhile, and
        where it lands among them, and so the alert versions of the canonical
        cluster, would depend on timing; handled here, a replay of one partition
        gives the same alerts every time. The table writes land on this event's
        partition, which is the key's own."""
        key = record.cluster_id.encode()
        if key_partition(key, config.partitions) == partition:
            await handle_claims_record(record, partition)
        else:
            await claims.send(key=key, value=record.to_json())

    @app.agent(claims, name="corroborate")
    async def corroborate_agent(stream: Any) -> None:
        await one_by_one(stream, "corroborate", corroborate_one)

    async def corroborate_one(event: Any) -> None:
        stats.worked_at = time.monotonic()
        record = await decode_or_dead_letter(decode_claims_record, event, "bad_claim_record", "corroborate")
        if record is None:
            return
        if isinstance(record, ClusterAlias):
            await unite(record, event.message.partition)
        else:
            await handle_claims_record(record, event.message.partition)

    async def unite(record: ClusterAlias, partition: int) -> None:
        """One cluster's evidence and future records go to another's.

        The two named may have been merged into others already (records from the
        cluster agent and from the merge agent arrive in any order): their roots
        are united, the later one retiring into the earlier, the merge agent's rule,
        so every order ends in the same sets. The loser is retired where its key
        lives: here, or by this record passed on to its partition."""
        if record.alias_first_seen is None or record.canonical_first_seen is None:
            loser, winner = ClusterRef(0.0, record.alias), ClusterRef(0.0, record.canonical)
            if record.alias in alias_parents:
                return  # a record of an earlier version, for an alias retired already
        else:
            named = (
                ClusterRef(record.alias_first_seen, record.alias),
                ClusterRef(record.canonical_first_seen, record.canonical),
            )
            winner, loser = sorted(unions_here.find(ref, compress=False) for ref in named)
            if winner.cluster_id == loser.cluster_id:
                return  # redelivered, or one set already
        key = loser.cluster_id.encode()
        if key_partition(key, config.partitions) != partition:
            passed = _alias_record(loser, winner, record.score)
            await claims.send(key=key, value=passed.to_json())
            return
        retiring = load_evidence(key)
        if retiring is not None:
            moved, last = corroboration.retire(retiring, winner.cluster_id)
            sent: list[Awaitable[Any]] = []
            await emit(key, last, sent)
            await asyncio.gather(*sent)
            # Its evidence is handed on before the alias is written (see above).
            await hand_on(moved, partition)
            drop_evidence(key)
        alias_parents[loser.cluster_id] = (winner.cluster_id, winner.first_seen)
        watch_table.pop(key, None)

    @app.timer(config.sweep_interval)  # type: ignore[untyped-decorator]
    async def expire_clusters() -> None:
        await run_sweep(sweep, stats)

    async def sweep() -> None:
        # Wall-clock sweep: quiet clusters leave the matcher even when nothing arrives.
        cluster_stage.expire(time.time())
        swept = _MatcherLog()
        await announce_expired(swept)
        await write_matcher_log(swept)
        # Replays also expire clusters by event time as items arrive: count both.
        stats.clusters_expired = cluster_stage.clusterer.expired_total
        # Alerted claims that went quiet: ask their owner (tables are written only there).
        now, quiet = time.time(), corroboration.policies.shortest_quiet
        watermark = event_time.value(now)
        for key, raw_watch in list(watch_table.items()):
            last_seen, touched_at = orjson.loads(raw_watch)
            if watermark - last_seen >= quiet or now - touched_at >= quiet:
                check = QuietCheck(key.decode(), watermark, now)
                await claims.send(key=key, value=check.to_json())

    _ = (cluster_agent, block_agent, merge_agent, corroborate_agent, expire_clusters)
    return Pipeline(app, stats, cluster_stage, corroboration)
