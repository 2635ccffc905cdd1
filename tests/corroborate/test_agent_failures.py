"""A real worker whose cluster stage raises on one item: what is lost, what is redone.

The fault is injected in the worker's own process (``ClusterStage.process``
patched before the CLI starts), so broker, faust, commits and the exit status
are the real ones. A fault of the code on a record dead-letters that record and
the stream goes on; an error of the broker or the machine stops the worker with
the records in hand uncommitted, and a restart redoes them.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import orjson

from corroborate.broker import EmbeddedBroker
from tests.conftest import item_json, pipeline_env
from tests.connectors.sources.conftest import topic_records
from tests.corroborate.workers import (
    Worker,
    claimed_ids,
    group_position,
    produce_items,
    start_workers,
    stop_workers,
    wait_until,
)

ITEMS = 30
POISON = 7

#: Runs the CLI with the cluster stage raising ``FAIL_WITH`` on the item whose id is ``FAIL_ON``.
_FAULTY_WORKER = """
import os, sys
import streams.stages as stages
from corroborate.cli import main

fail_on, fail_with = os.environ["FAIL_ON"].encode(), os.environ["FAIL_WITH"]
original = stages.ClusterStage.process

def process(self, raw, source=0):
    if b'"id":"' + fail_on + b'"' in raw:
        raise {"IndexError": IndexError, "TimeoutError": TimeoutError}[fail_with]("injected")
    return original(self, raw, source=source)

stages.ClusterStage.process = process
sys.exit(main(sys.argv[1:]))
"""


def _items() -> list[bytes]:
    # Unrelated posts, one per minute: each its own claim, no alert needed.
    words = "ferry bridge dam clinic market school airport tunnel depot harbour".split()
    return [
        item_json(
            f"f{i}", f"user{i}", f"Fire reported at the {words[i % 10]} in district {i} tonight", i % 60
        )
        for i in range(ITEMS)
    ]


def _faulty_worker(env: dict[str, str], tmp: Path, fail_with: str) -> Worker:
    """A worker whose cluster stage raises ``fail_with`` on the poisoned item."""
    [worker] = start_workers(
        1,
        {**env, "FAIL_ON": f"f{POISON}", "FAIL_WITH": fail_with},
        tmp,
        command=[sys.executable, "-c", _FAULTY_WORKER],
    )
    return worker


def _committed(bootstrap: str, prefix: str) -> int | None:
    return asyncio.run(group_position(bootstrap, prefix, "items"))[0]


def test_a_record_the_code_fails_on_is_dead_lettered_and_the_rest_go_through(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    prefix = f"f{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_PARTITIONS="1")
    proc, err = _faulty_worker(env, tmp_path / "w", "IndexError")
    try:
        asyncio.run(produce_items(broker.bootstrap, f"{prefix}items", _items()))
        others = {f"f{i}" for i in range(ITEMS) if i != POISON}
        wait_until(lambda: claimed_ids(broker.bootstrap, prefix) >= others, "the other items claimed")
        dead = asyncio.run(topic_records(broker.bootstrap, f"{prefix}deadletter"))
        assert [(h["x-error-reason"], h["x-error-detail"], h["x-source-offset"]) for _, _, h in dead] == [
            (b"processing_failed", b"IndexError: injected", str(POISON).encode())
        ]
        assert orjson.loads(dead[0][1])["id"] == f"f{POISON}", "the original bytes, to replay once fixed"
        assert f"f{POISON}" not in claimed_ids(broker.bootstrap, prefix)
        assert proc.poll() is None, "the worker goes on"
        wait_until(lambda: _committed(broker.bootstrap, prefix) == ITEMS, "all committed")
    finally:
        stop_workers([(proc, err)])


def test_an_error_of_the_broker_stops_the_worker_and_a_restart_redoes_the_batch(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    prefix = f"f{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_PARTITIONS="1")
    proc, err = _faulty_worker(env, tmp_path / "first", "TimeoutError")
    try:
        asyncio.run(produce_items(broker.bootstrap, f"{prefix}items", _items()))
        status = proc.wait(90)
    finally:
        proc.kill()
    log = err.read_bytes().decode()
    assert status == 70, log[-3000:]
    assert "stopped because the cluster agent failed: TimeoutError: injected" in log
    assert asyncio.run(topic_records(broker.bootstrap, f"{prefix}deadletter")) == [], "good items are not bad"
    committed = _committed(broker.bootstrap, prefix)
    assert committed is None or committed <= POISON, "nothing at or after the failed batch committed"

    workers = start_workers(1, env, tmp_path / "second")
    try:
        everything = {f"f{i}" for i in range(ITEMS)}
        wait_until(
            lambda: claimed_ids(broker.bootstrap, prefix) >= everything, "every item claimed after restart"
        )
        wait_until(lambda: _committed(broker.bootstrap, prefix) == ITEMS, "all committed")
    finally:
        stop_workers(workers)
