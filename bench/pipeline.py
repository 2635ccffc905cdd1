"""``make bench``: throughput and latency of the whole pipeline next to its baselines.

Everything runs against one embedded broker started here, in one run, so the
figures compare like with like on a noisy 2-core machine; each measurement is
repeated and the median kept. Baselines: a raw aiokafka consumer (the ceiling
of the transport) and a faust agent that does nothing (the ceiling of faust's
per-event path); and the same pipeline with ``CORROBORATE_ENCODER=off`` (the
string features alone), the cost of the sentence encoder. The pipeline figure
is items/s from the first item produced to the last item folded into the
evidence table (its changelog is counted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.synthetic import synthetic_items
from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.topics import TopicNames

ROOT = Path(__file__).resolve().parent.parent


async def _produce(
    bootstrap: str, topic: str, items: list[tuple[str, bytes]], rate: float | None = None
) -> dict[str, float]:
    sent_at: dict[str, float] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2, acks=1)
    await producer.start()
    try:
        t0 = time.perf_counter()
        for i, (key, value) in enumerate(items):
            if rate:
                due = t0 + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent_at[key] = time.perf_counter()
            await producer.send(topic, value=value, key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return sent_at


async def _consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=10)
    await consumer.start()
    for _ in range(100):
        parts = consumer.partitions_for_topic(topic)
        if parts:
            break
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    return consumer


async def raw_consume_rate(bootstrap: str, n: int) -> float:
    topic = f"bench-raw-{uuid.uuid4().hex[:6]}"
    await ensure_topics(bootstrap, TopicNames(topic).specs(4)[:1])
    await _produce(bootstrap, f"{topic}items", list(synthetic_items(n)))
    consumer = await _consumer(bootstrap, f"{topic}items")
    try:
        count = 0
        t0 = time.perf_counter()
        while count < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    orjson.loads(record.value)
                count += len(records)
        return n / (time.perf_counter() - t0)
    finally:
        await consumer.stop()


def faust_noop_rate(bootstrap: str, n: int) -> float:
    topic = f"bench-noop-{uuid.uuid4().hex[:6]}"
    asyncio.run(ensure_topics(bootstrap, TopicNames(topic).specs(4)[:1]))
    asyncio.run(_produce(bootstrap, f"{topic}items", list(synthetic_items(n))))
    out = subprocess.run(
        [sys.executable, "-m", "bench._faust_noop", bootstrap, f"{topic}items", str(n)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x08", "", out.stdout)  # faust's spinner
    rates = re.findall(r"^(\d+(?:\.\d+)?)$", plain, re.MULTILINE)
    if not rates:
        raise RuntimeError(f"faust no-op worker printed no rate: {out.stderr[-500:]}")
    return float(rates[-1])


class _Worker:
    """The real pipeline (``corroborate run``) as a subprocess on the bench broker."""

    def __init__(self, bootstrap: str, state: Path, *, encoder: bool = True) -> None:
        self.prefix = f"b{uuid.uuid4().hex[:6]}."
        self.app_id = f"bench-{self.prefix}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_")}
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            CORROBORATE_TOPIC_PREFIX=self.prefix,
            CORROBORATE_APP_ID=self.app_id,
            CORROBORATE_SESSION_TIMEOUT="4",
            CORROBORATE_STATE_DIR=str(state / self.prefix),
            CORROBORATE_ENCODER="on" if encoder else "off",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "corroborate.cli", "run", "--json"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "worker ready" in self.proc.stderr.readline():
                return
        raise RuntimeError("pipeline worker did not become ready in 60 s")

    @property
    def names(self) -> TopicNames:
        return TopicNames(self.prefix)

    @property
    def changelog(self) -> str:
        return f"{self.app_id}-evidence-changelog"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


async def _count_until(consumer: AIOKafkaConsumer, n: int, limit_s: float) -> float:
    count = 0
    deadline = time.perf_counter() + limit_s
    while count < n and time.perf_counter() < deadline:
        batch = await consumer.getmany(timeout_ms=200)
        count += sum(len(r) for r in batch.values())
    return time.perf_counter() if count >= n else float("nan")


async def pipeline_throughput(bootstrap: str, state: Path, n: int, *, encoder: bool = True) -> float:
    worker = _Worker(bootstrap, state, encoder=encoder)
    try:
        await asyncio.sleep(1.0)
        consumer = await _consumer(bootstrap, worker.changelog)
        try:
            items = list(synthetic_items(n, seed=11))
            t0 = time.perf_counter()
            counter = asyncio.create_task(_count_until(consumer, n, max(300, n / 10)))
            await _produce(bootstrap, worker.names.items, items)
            t1 = await counter
            return n / (t1 - t0)
        finally:
            await consumer.stop()
    finally:
        worker.stop()


async def pipeline_latency(bootstrap: str, state: Path, rate: float, seconds: float) -> dict[str, Any]:
    worker = _Worker(bootstrap, state)
    try:
        await asyncio.sleep(1.0)
        consumer = await _consumer(bootstrap, worker.names.alerts)
        latencies: list[float] = []
        received: dict[str, float] = {}
        stop = asyncio.Event()

        async def collect() -> None:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100)
                now = time.perf_counter()
                for records in batch.values():
                    for record in records:
                        received.setdefault(orjson.loads(record.value)["caused_by"], now)

        task = asyncio.create_task(collect())
        items = list(synthetic_items(int(rate * seconds), claims=300, seed=5))
        sent = await _produce(bootstrap, worker.names.items, items, rate=rate)
        await asyncio.sleep(2.0)
        stop.set()
        await task
        await consumer.stop()
        for item_id, at in received.items():
            if item_id in sent:
                latencies.append((at - sent[item_id]) * 1000.0)
        latencies.sort()
        if not latencies:
            return {"alerts": 0}
        return {
            "alerts": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
        }
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "report.json")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-rate", type=float, default=2500.0)
    parser.add_argument("--latency-seconds", type=float, default=8.0)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="corroborate-bench-"))
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "items": args.items,
        "repeats": args.repeats,
    }
    with EmbeddedBroker(log_path=state / "broker.log") as broker:
        bs = broker.bootstrap
        runs: dict[str, list[float]] = {
            "raw_aiokafka_consume": [],
            "faust_noop_agent": [],
            "pipeline_end_to_end": [],
            "pipeline_encoder_off": [],
        }
        for r in range(args.repeats):
            runs["raw_aiokafka_consume"].append(asyncio.run(raw_consume_rate(bs, args.items * 2)))
            runs["faust_noop_agent"].append(faust_noop_rate(bs, args.items))
            runs["pipeline_end_to_end"].append(asyncio.run(pipeline_throughput(bs, state, args.items)))
            runs["pipeline_encoder_off"].append(
                asyncio.run(pipeline_throughput(bs, state, args.items, encoder=False))
            )
            print(
                f"run {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in runs.items()), file=sys.stderr
            )
        medians = {k: statistics.median(v) for k, v in runs.items()}
        report["items_per_second"] = {
            k: {"median": round(m), "runs": [round(x) for x in runs[k]]} for k, m in medians.items()
        }
        report["ratios"] = {
            "pipeline_vs_encoder_off": round(
                medians["pipeline_end_to_end"] / medians["pipeline_encoder_off"], 3
            ),
            "pipeline_vs_faust_noop": round(medians["pipeline_end_to_end"] / medians["faust_noop_agent"], 3),
            "pipeline_vs_raw_aiokafka": round(
                medians["pipeline_end_to_end"] / medians["raw_aiokafka_consume"], 4
            ),
            "faust_noop_vs_raw_aiokafka": round(
                medians["faust_noop_agent"] / medians["raw_aiokafka_consume"], 4
            ),
        }
        report["latency_item_to_alert"] = {
            "rate_items_per_s": args.latency_rate,
            **asyncio.run(pipeline_latency(bs, state, args.latency_rate, args.latency_seconds)),
        }
        report["targets"] = {
            "throughput_10k_met": medians["pipeline_end_to_end"] >= 10_000,
            "p99_under_100ms_at_2500_met": report["latency_item_to_alert"].get("p99_ms", 1e9) < 100,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
