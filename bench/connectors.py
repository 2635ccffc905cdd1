"""``make bench``: items/s of each connector path, next to a raw producer in the same run.

Each path takes items from its source's wire format to the items topic with
``acks=all``, through the code the service runs: the replay source for JSONL
and the data sets' own formats, the HTTP ingest endpoint fed NDJSON batches
by a client, and the X, feed and Mastodon connectors reading local servers
that speak those services' formats (``tests/connectors/sources``). The
baseline is a bare aiokafka producer sending the same number of encoded
items with ``acks=all``: the ceiling of the transport on this machine. Each
figure is the median of ``--reps`` runs, on fresh topics.

Then the two data sets replay end to end through the real pipeline
(``corroborate run`` as a subprocess): items/s from the replay's first item
until the evidence table's changelog holds as many updates as items.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from bench.datasets import SHARED
from bench.pipeline import _consumer, _count_until, _Worker
from bench.synthetic import synthetic_items
from connectors.secrets import Secret
from connectors.sources.checkpoint import KafkaCheckpoints
from connectors.sources.feeds import FeedPoller, FeedSpec
from connectors.sources.ingest import IngestServer
from connectors.sources.mastodon import MastodonStream
from connectors.sources.outlet import KafkaOutlet
from connectors.sources.publish import Publisher
from connectors.sources.replay import ReplaySource, replay_input
from connectors.sources.x_stream import XFilteredStream
from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.topics import TopicNames
from tests.connectors.sources.conftest import serve
from tests.connectors.sources.feed_server import Article, FakeFeeds
from tests.connectors.sources.mastodon_server import TOKEN as MD_TOKEN
from tests.connectors.sources.mastodon_server import FakeMastodon, status
from tests.connectors.sources.x_server import TOKEN as X_TOKEN
from tests.connectors.sources.x_server import FakeX, Step, tweet_line

ROOT = Path(__file__).resolve().parent.parent

Path_ = Callable[[str, TopicNames, int], Awaitable[int]]
"""(bootstrap, topics, n) -> items produced; timed by the caller."""


async def _baseline(bootstrap: str, topics: TopicNames, n: int) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for key, value in synthetic_items(n, seed=3):
            await producer.send(topics.items, value=value, key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return n


async def _replay_jsonl(bootstrap: str, topics: TopicNames, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.jsonl"
        path.write_bytes(b"\n".join(value for _, value in synthetic_items(n, seed=3)) + b"\n")
        return (await ReplaySource(replay_input(path), bootstrap=bootstrap, topic=topics.items).run()).sent


def _dataset(fmt: str, sub: str) -> Path_:
    async def run(bootstrap: str, topics: TopicNames, n: int) -> int:
        source = replay_input(SHARED / sub, fmt)
        return (await ReplaySource(source, bootstrap=bootstrap, topic=topics.items).run()).sent

    return run


class _Wired:
    def __init__(self, bootstrap: str, topics: TopicNames, name: str) -> None:
        self.outlet = KafkaOutlet(bootstrap, items_topic=topics.items, deadletter_topic=topics.deadletter)
        self.checkpoints = KafkaCheckpoints(bootstrap, topics.source_state)
        self.name = name

    async def __aenter__(self) -> Publisher:
        await self.outlet.start()
        return Publisher(self.name, self.outlet, self.checkpoints)

    async def __aexit__(self, *exc: object) -> None:
        await self.outlet.stop()
        await self.checkpoints.close()


async def _until_produced(publisher: Publisher, n: int, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while publisher.stats.produced < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{publisher.name}: {publisher.stats.produced}/{n} produced in {limit}s")
        await asyncio.sleep(0.01)


async def _run_until_produced(source: Any, publisher: Publisher, n: int) -> int:
    """Run a streaming source until ``n`` items are acknowledged; stop it cleanly."""
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(stop))
    await _until_produced(publisher, n)
    stop.set()
    await task
    return publisher.stats.produced


async def _ingest(bootstrap: str, topics: TopicNames, n: int) -> int:
    async with _Wired(bootstrap, topics, "ingest") as publisher:
        server = IngestServer(publisher, tokens={"bench": Secret("bench-token")}, port=0, max_items=500)
        stop = asyncio.Event()
        task = asyncio.create_task(server.run(stop))
        await server.ready.wait()
        lines = [value for _, value in synthetic_items(n, seed=3)]
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.bound_port}",
            headers={"Authorization": "Bearer bench-token", "Content-Type": "application/x-ndjson"},
            timeout=60,
        ) as client:
            for start in range(0, n, 500):
                resp = await client.post("/items", content=b"\n".join(lines[start : start + 500]))
                resp.raise_for_status()
        stop.set()
        await task
        return publisher.stats.produced


async def _x(bootstrap: str, topics: TopicNames, n: int) -> int:
    fake = FakeX()
    fake.queue([*(Step("line", tweet_line(i)) for i in range(1, n + 1)), Step("hold")])
    async with serve(fake.app()) as base, _Wired(bootstrap, topics, "x") as publisher:
        stream = XFilteredStream(publisher, token=Secret(X_TOKEN), base_url=base)
        return await _run_until_produced(stream, publisher, n)


async def _feeds(bootstrap: str, topics: TopicNames, n: int) -> int:
    fake = FakeFeeds()
    per_feed = 100
    feeds = max(1, n // per_feed)
    for f in range(feeds):
        fake.add(
            f"f{f}",
            ("rss", "atom", "json")[f % 3],
            *(
                Article(
                    i,
                    f"Story {f}-{i} about the offensive",
                    f"<p>Body of {f}-{i}</p>",
                    f"https://s{f}.example/{i}",
                )
                for i in range(per_feed)
            ),
        )
    async with serve(fake.app()) as base, _Wired(bootstrap, topics, "feeds") as publisher:
        poller = FeedPoller(publisher, [FeedSpec(f"{base}/feeds/f{f}", interval=3600) for f in range(feeds)])
        return await _run_until_produced(poller, publisher, feeds * per_feed)


async def _mastodon(bootstrap: str, topics: TopicNames, n: int) -> int:
    fake = FakeMastodon()
    fake.scripts.append([*(("update", status(i)) for i in range(1, n + 1)), ("hold", None)])
    async with serve(fake.app()) as base, _Wired(bootstrap, topics, "mastodon") as publisher:
        stream = MastodonStream(publisher, base_url=base, tag="panjshir", token=Secret(MD_TOKEN))
        return await _run_until_produced(stream, publisher, n)


PATHS: dict[str, Path_] = {
    "baseline: raw producer, acks=all": _baseline,
    "replay jsonl": _replay_jsonl,
    "replay crisislext26 (all events)": _dataset("crisislext26", "crisislext26"),
    "replay rumoureval2019 (train+dev)": _dataset("rumoureval", "rumoureval2019"),
    "http ingest (NDJSON, 500 a request)": _ingest,
    "x filtered stream": _x,
    "feeds (rss/atom/json, 100 entries each)": _feeds,
    "mastodon sse": _mastodon,
}


async def measure(bootstrap: str, n: int, reps: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, path in PATHS.items():
        if ("crisislext26" in label and not (SHARED / "crisislext26").exists()) or (
            "rumoureval" in label and not (SHARED / "rumoureval2019").exists()
        ):
            out[label] = {"skipped": "shared data absent"}
            continue
        rates = []
        for _ in range(reps):
            topics = TopicNames(f"cb{uuid.uuid4().hex[:6]}.")
            await ensure_topics(bootstrap, topics.specs(4))
            t0 = time.perf_counter()
            count = await path(bootstrap, topics, n)
            rates.append(count / (time.perf_counter() - t0))
        out[label] = {
            "items": count,
            "items_per_s": [round(r) for r in rates],
            "median": round(statistics.median(rates)),
        }
        print(f"{label:45s} {count:7d} items  median {statistics.median(rates):9,.0f}/s", flush=True)
    base = out["baseline: raw producer, acks=all"]["median"]
    for values in out.values():
        if "median" in values:
            values["ratio_to_baseline"] = round(values["median"] / base, 3)
    return out


async def end_to_end(bootstrap: str, state: Path, fmt: str, sub: str) -> dict[str, Any]:
    """A data set replayed through ``corroborate run``: items/s until the evidence changelog caught up."""
    source = replay_input(SHARED / sub, fmt)
    worker = _Worker(bootstrap, state)
    try:
        await asyncio.sleep(1.0)
        consumer = await _consumer(bootstrap, worker.changelog)
        try:
            t0 = time.perf_counter()
            counter = asyncio.create_task(_count_until(consumer, source.total, 900))
            result = await ReplaySource(source, bootstrap=bootstrap, topic=worker.names.items).run()
            t1 = await counter
            return {
                "items": result.sent,
                "replay_items_per_s": round(result.sent / result.seconds),
                "pipeline_items_per_s": round(result.sent / (t1 - t0), 1),
            }
        finally:
            await consumer.stop()
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "connectors.json")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-end-to-end", action="store_true")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "command": "python -m bench.connectors",
    }
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker:
        report["paths"] = asyncio.run(measure(broker.bootstrap, args.items, args.reps))
        if not args.no_end_to_end:
            e2e = {}
            for fmt, sub in (("rumoureval", "rumoureval2019"), ("crisislext26", "crisislext26")):
                if (SHARED / sub).exists():
                    e2e[fmt] = asyncio.run(end_to_end(broker.bootstrap, Path(tmp), fmt, sub))
                    print(f"end to end {fmt}: {e2e[fmt]}", flush=True)
            report["end_to_end"] = e2e
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
