"""Clusters across partitions and workers: two workers on four partitions end with the clusters of one.

Near-duplicates land on different partitions (items are keyed by item id), so
with two workers each sees only some of a claim's posts. The block and merge
agents must join what each worker started separately; the final clusters
(after following every alias on the claims topic) must equal those of a
single worker on the same input.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from corroborate.broker import EmbeddedBroker
from tests.conftest import pipeline_env
from tests.corroborate.workers import produce_items, start_workers, stop_workers

pytestmark = pytest.mark.broker

_PLACES = [
    "Kharkiv",
    "Mosul",
    "Aleppo",
    "Goma",
    "Sanaa",
    "Mekelle",
    "Marawi",
    "Idlib",
    "Bakhmut",
    "Khartoum",
    "Kherson",
    "Raqqa",
    "Homs",
    "Taiz",
    "Aden",
    "Benghazi",
    "Tripoli",
    "Sirte",
    "Misrata",
    "Kandahar",
    "Herat",
    "Kunduz",
    "Jalalabad",
    "Mazar",
    "Bamako",
    "Gao",
    "Timbuktu",
    "Mopti",
    "Maiduguri",
    "Kano",
    "Juba",
    "Malakal",
    "Bentiu",
    "Bangui",
    "Beni",
    "Bunia",
    "Uvira",
    "Mogadishu",
    "Kismayo",
    "Baidoa",
    "Hodeidah",
    "Marib",
    "Mariupol",
    "Odesa",
    "Sumy",
    "Zaporizhzhia",
    "Donetsk",
    "Luhansk",
    "Gaziantep",
    "Antakya",
]
_EVENTS = [
    "shelling hit the central railway station",
    "floodwater breached the northern dam overnight",
    "a convoy of aid trucks was turned back at the checkpoint",
    "the main hospital lost power after an airstrike",
    "rebels seized the airport road before dawn",
    "a curfew was imposed after clashes near the market",
    "the water treatment plant stopped working",
    "hundreds of families fled across the river",
    "the governor resigned after the bridge collapsed",
    "internet and phone lines have been cut for three days",
]


def _items() -> Iterator[bytes]:
    """Fifty claims told six ways each (wording, a retweet), shuffled as a busy stream would be.

    Claims differ in place, and some share an event; a claim and its variants are far above the
    join threshold and two claims far below it, so every correct clustering of
    this input is the same whatever the order of arrival. (Pairs near the
    threshold can fall either way depending on arrival order, on one worker as
    on two; that is online clustering, not partitioning.)
    """
    rng = random.Random(11)
    posts: list[dict[str, object]] = []
    for c, place in enumerate(_PLACES):
        event = _EVENTS[c % len(_EVENTS)]
        base = f"Officials in {place} say {event}"
        variants = [
            base,
            f"BREAKING: officials in {place} say {event}",
            f"Officials in {place} say {event} #breaking",
            f"{event.capitalize()} in {place}, officials say",
            f"Reports from {place}: {event}, officials say. Awful.",
        ]
        for v, text in enumerate(variants):
            posts.append({"id": f"p{c}-{v}", "text": text, "author": f"acct{c}-{v}"})
        posts.append(
            {
                "id": f"p{c}-rt",
                "text": f"RT @acct{c}-0: {base}",
                "author": f"acct{c}-rt",
                "retweet_of": f"p{c}-0",
            }
        )
    rng.shuffle(posts)
    for n, post in enumerate(posts):
        post["created_at"] = 1_630_900_000 + n
        yield orjson.dumps(post)


async def _final_clusters(
    bootstrap: str, topic: str, n_items: int, quiet_s: float = 6.0
) -> tuple[set[frozenset[str]], int]:
    """Clusters after every alias, and the number of aliases, from the claims topic.

    Reads until every item is there and nothing new came for ``quiet_s``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    assigned: dict[str, str] = {}
    alias: dict[str, str] = {}
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        last_new = time.monotonic()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                for rec in recs:
                    last_new = time.monotonic()
                    obj = orjson.loads(rec.value)
                    if obj.get("kind") == "alias":
                        alias[obj["alias"]] = obj["canonical"]
                    elif "item" in obj:
                        assigned.setdefault(obj["item"]["id"], obj["cluster_id"])
            if len(assigned) >= n_items and time.monotonic() - last_new > quiet_s:
                break
    finally:
        await consumer.stop()
    assert len(assigned) == n_items, f"{len(assigned)} of {n_items} items reached the claims topic"

    def resolve(cid: str) -> str:
        seen = set()
        while cid in alias and cid not in seen:
            seen.add(cid)
            cid = alias[cid]
        return cid

    groups: dict[str, set[str]] = {}
    for item, cid in assigned.items():
        groups.setdefault(resolve(cid), set()).add(item)
    return {frozenset(g) for g in groups.values()}, len(alias)


def _items_partitions(log: str, prefix: str) -> int:
    """Partitions of the items topic in a worker's last assignment."""
    assignments = [line for line in log.splitlines() if "Setting newly assigned partitions" in line]
    return assignments[-1].count(f"topic='{prefix}items'") if assignments else 0


def _run(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp: Path, workers: int
) -> tuple[set[frozenset[str]], int]:
    prefix = f"p{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_PARTITIONS="4")
    procs = start_workers(workers, env, tmp)
    try:
        time.sleep(6)  # let the group settle with every member before the burst
        lines = list(_items())
        asyncio.run(produce_items(broker.bootstrap, f"{prefix}items", lines))
        clusters, aliases = asyncio.run(_final_clusters(broker.bootstrap, f"{prefix}claims", len(lines)))
    finally:
        stop_workers(procs)
    # Each worker must have held some of the items partitions, or this proves nothing.
    held = [
        _items_partitions((tmp / f"worker{w}" / "worker.log").read_text("utf-8", errors="replace"), prefix)
        for w in range(workers)
    ]
    assert all(held) and sum(held) == 4, held
    return clusters, aliases


def test_two_workers_on_four_partitions_end_with_the_clusters_of_one(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    single, _ = _run(broker, cli_env, tmp_path / "one", workers=1)
    double, aliases = _run(broker, cli_env, tmp_path / "two", workers=2)
    # Posts of one claim were spread over both workers, so clusters had to be merged.
    assert aliases > 0
    only_double = sorted(sorted(g) for g in double - single)
    only_single = sorted(sorted(g) for g in single - double)
    assert double == single, f"two workers only: {only_double}\none worker only: {only_single}"
    # And the clusters are the claims: each generated claim is one cluster of six.
    for c in range(len(_PLACES)):
        posts = {f"p{c}-{v}" for v in range(5)} | {f"p{c}-rt"}
        assert posts in double, f"claim {c} split or mixed"


def test_a_restarted_worker_joins_new_posts_to_the_claims_it_saw_before(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The in-memory clusterer starts empty after a restart; the changelogged table
    ``exemplars`` still knows the old clusters, which the restarted worker re-learns
    before its first item, so a post of an old claim joins the old cluster."""
    prefix = f"r{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_PARTITIONS="4")
    lines = list(_items())
    half = len(lines) // 2
    first = start_workers(1, env, tmp_path / "before")
    try:
        asyncio.run(produce_items(broker.bootstrap, f"{prefix}items", lines[:half]))
        asyncio.run(_final_clusters(broker.bootstrap, f"{prefix}claims", half))
    finally:
        stop_workers(first)
    second = start_workers(1, env, tmp_path / "after")
    try:
        asyncio.run(produce_items(broker.bootstrap, f"{prefix}items", lines[half:]))
        clusters, _ = asyncio.run(_final_clusters(broker.bootstrap, f"{prefix}claims", len(lines)))
    finally:
        stop_workers(second)
    for c in range(len(_PLACES)):
        posts = {f"p{c}-{v}" for v in range(5)} | {f"p{c}-rt"}
        assert posts in clusters, f"claim {c} split across the restart"


async def _produce_to(bootstrap: str, topic: str, lines: list[tuple[int, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition, line in lines:
            await producer.send(topic, key=orjson.loads(line)["id"].encode(), value=line, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def _first_clusters(bootstrap: str, topic: str) -> dict[str, str]:
    """Item -> the cluster its first ``ClaimAssigned`` put it in (before any alias)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    first: dict[str, str] = {}
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                for rec in recs:
                    obj = orjson.loads(rec.value)
                    if "item" in obj and "kind" not in obj:
                        first.setdefault(obj["item"]["id"], obj["cluster_id"])
    finally:
        await consumer.stop()
    return first


def test_a_worker_that_takes_over_a_partition_puts_its_posts_in_the_clusters_founded_there(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Two workers, two partitions, every post of a claim on one partition; one worker stops
    and the other gains its partition while running. The survivor re-learns that
    partition's clusters (table ``exemplars``) when the rebalance hands it over, so a
    later post of a claim first seen there joins the claim's cluster at once. (A worker
    that re-learnt its clusters only at start founded a second cluster for each, merged
    back later under an alias.)"""
    prefix = f"g{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_PARTITIONS="2")
    posts = [orjson.loads(line) for line in _items()]
    claim_of = {str(p["id"]): int(str(p["id"])[1:].split("-")[0]) for p in posts}
    early = [p for p in posts if str(p["id"]).endswith(("-0", "-1"))]
    later = [p for p in posts if not str(p["id"]).endswith(("-0", "-1"))]

    def placed(batch: list[dict[str, object]]) -> list[tuple[int, bytes]]:
        return [(claim_of[str(p["id"])] % 2, orjson.dumps(p)) for p in batch]

    workers = start_workers(2, env, tmp_path)
    try:
        time.sleep(6)  # both members in the group, one partition each
        asyncio.run(_produce_to(broker.bootstrap, f"{prefix}items", placed(early)))
        asyncio.run(_final_clusters(broker.bootstrap, f"{prefix}claims", len(early)))
        stop_workers(workers[1:])
        asyncio.run(_produce_to(broker.bootstrap, f"{prefix}items", placed(later)))
        asyncio.run(_final_clusters(broker.bootstrap, f"{prefix}claims", len(posts)))
    finally:
        stop_workers(workers[:1])
    held = [
        _items_partitions(
            (tmp_path / f"worker{w}" / "worker.log").read_text("utf-8", errors="replace"), prefix
        )
        for w in range(2)
    ]
    survivor = (tmp_path / "worker0" / "worker.log").read_text("utf-8", errors="replace")
    assert held[0] == 2 and "restored" in survivor, (held, survivor[-3000:])
    first = asyncio.run(_first_clusters(broker.bootstrap, f"{prefix}claims"))
    founded = {claim_of[str(p["id"])]: first[str(p["id"])] for p in early if str(p["id"]).endswith("-0")}
    strays = sorted(str(p["id"]) for p in later if first[str(p["id"])] != founded[claim_of[str(p["id"])]])
    assert not strays, (
        f"{len(strays)} of {len(later)} later posts founded or joined another cluster: {strays}"
    )
