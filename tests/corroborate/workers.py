"""Real worker processes and what the end-to-end tests read of their progress.

The kill, failure and partition tests start workers, feed the items topic and
then judge the run by what reached the claims topic and what the worker group
committed. Those probes live here once, so that every test judges the same way.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams._transport import log_ends
from tests.conftest import CLI
from tests.connectors.sources.conftest import topic_records

__all__ = [
    "Worker",
    "claimed_ids",
    "group_position",
    "produce_items",
    "start_workers",
    "stop_workers",
    "wait_until",
]

#: A worker process and the file its stderr (the log) goes to.
Worker = tuple[subprocess.Popen[bytes], Path]


async def produce_items(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    """Items keyed by their id, as the connectors key them, all acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for line in lines:
            await producer.send(topic, key=orjson.loads(line)["id"].encode(), value=line)
        await producer.flush()
    finally:
        await producer.stop()


def start_workers(
    n: int,
    env: dict[str, str],
    tmp: Path,
    command: list[str] | None = None,
    within: float = 90.0,
) -> list[Worker]:
    """``n`` workers (``corroborate run`` unless ``command`` says otherwise), each with its
    own state directory, returned once every one logged "worker ready"."""
    tmp.mkdir(parents=True, exist_ok=True)
    workers = []
    for w in range(n):
        err = tmp / f"worker{w}.err"
        proc = subprocess.Popen(
            [*(command or CLI), "run", "--json"],
            env={**env, "CORROBORATE_STATE_DIR": str(tmp / f"worker{w}")},
            stdout=subprocess.DEVNULL,
            stderr=err.open("wb"),
        )
        workers.append((proc, err))
    deadline = time.monotonic() + within
    while not all(b"worker ready" in err.read_bytes() for _, err in workers):
        assert time.monotonic() < deadline, [err.read_bytes()[-2000:] for _, err in workers]
        assert all(p.poll() is None for p, _ in workers), [err.read_bytes()[-2000:] for _, err in workers]
        time.sleep(0.3)
    return workers


def stop_workers(workers: list[Worker]) -> None:
    """SIGTERM to all, then wait for each: they stop together, as in a rolling stop."""
    for proc, _ in workers:
        proc.terminate()
    for proc, _ in workers:
        proc.wait(timeout=60)


def claimed_ids(bootstrap: str, prefix: str) -> set[str]:
    """Ids of the items that reached the claims topic (alias records left out)."""
    records = [orjson.loads(v) for _, v, _ in asyncio.run(topic_records(bootstrap, f"{prefix}claims"))]
    return {r["item"]["id"] for r in records if "item" in r and "kind" not in r}


async def group_position(bootstrap: str, prefix: str, topic: str) -> tuple[int | None, int]:
    """The worker group's committed offset on ``topic`` (one partition; None if it never
    committed) and the partition's true end (``log_ends``: the embedded broker's
    ListOffsets answer can fall short)."""
    tp = TopicPartition(f"{prefix}{topic}", 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"app-{prefix}", enable_auto_commit=False
    )
    await consumer.start()
    try:
        committed = await consumer.committed(tp)
        listed = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    end = (await log_ends(bootstrap, {tp: listed}))[tp]
    return (None if committed is None else int(committed)), end


def wait_until(check: Callable[[], bool], what: str, within: float = 60.0) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` did not happen."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not within {within:.0f} s: {what}"
        time.sleep(0.3)
