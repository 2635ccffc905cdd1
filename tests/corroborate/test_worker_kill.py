"""A worker killed -9 (or stopped) mid-replay and restarted ends with the alerts of an undisturbed run.

Real broker, real worker processes. One items partition, so that an
undisturbed run is repeatable (the posts meet the matcher in one order). The
posts are the benchmarks' synthetic stream (``bench.synthetic``): 120 claims
told 3,000 times, reworded, retweeted. Enough that the kill lands while the
block agent is behind the cluster agent, which is where a restart that
re-learnt its clusters from the blocks table went wrong (half the alert ids
differed).

What may still differ: a merge of two clusters reaches the evidence of the
surviving one through two more agents, so when it lands among that claim's
posts depends on timing, with or without a kill (``make faults``, 50,000 items:
0 to 2 alert ids in 9,839 differ between two undisturbed runs; after four kills,
0 in the one run since commits wait for table writes and recovery reads each
changelog to its end). Hence a bound, not equality. What may not differ: every
item claimed, and every items and claims record committed at the end (a seek at
recovery's end once let faust drop records fetched after it, losing items and
stopping the partition's commits).
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import orjson

from bench.synthetic import synthetic_items
from corroborate.broker import EmbeddedBroker
from tests.conftest import pipeline_env
from tests.connectors.sources.conftest import topic_records
from tests.corroborate.workers import claimed_ids, group_position, produce_items, start_workers, stop_workers

ITEMS = 3000


def _alert_ids_when_idle(bootstrap: str, prefix: str, items: int, quiet: float = 12.0) -> set[str]:
    """Alert ids on ``alert-history`` once every item is claimed and neither alerts nor
    claims came for ``quiet`` s. Items still unclaimed after two minutes of that are lost."""
    deadline = time.monotonic() + 600
    seen, since = (-1, -1), time.monotonic()
    while time.monotonic() < deadline:
        alerts = [
            orjson.loads(v) for _, v, _ in asyncio.run(topic_records(bootstrap, f"{prefix}alert-history"))
        ]
        now = (len(alerts), len(claimed_ids(bootstrap, prefix)))
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet and now[1] >= items:
            return {str(a["alert_id"]) for a in alerts}
        elif time.monotonic() - since >= 120:
            raise AssertionError(f"{items - now[1]} of {items} items never claimed")
        time.sleep(1)
    raise AssertionError(f"not idle in 600 s: {len(claimed_ids(bootstrap, prefix))} of {items} items claimed")


def _uncommitted(bootstrap: str, prefix: str, topic: str) -> int:
    committed, end = asyncio.run(group_position(bootstrap, prefix, topic))
    return end - (committed or 0)


def _assert_all_committed(bootstrap: str, prefix: str, within: float = 30.0) -> None:
    """Every items and claims record committed by the worker group, within a few commit
    intervals: a record faust dropped after a seek was never acked and held the
    partition's commits back for good (see ``streams._transport.SeekSafeConsumer``)."""
    deadline = time.monotonic() + within
    while True:
        behind = {t: _uncommitted(bootstrap, prefix, t) for t in ("items", "claims")}
        if not any(behind.values()):
            return
        assert time.monotonic() < deadline, f"records not committed: {behind}"
        time.sleep(1)


def _run(
    broker: EmbeddedBroker,
    cli_env: dict[str, str],
    tmp: Path,
    *,
    kill_after: int | None,
    how: signal.Signals = signal.SIGKILL,
) -> set[str]:
    prefix = f"k{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_PARTITIONS="1")
    lines = [value for _, value in synthetic_items(ITEMS, claims=120, seed=17)]
    workers = start_workers(1, env, tmp / "first")
    try:
        asyncio.run(produce_items(broker.bootstrap, f"{prefix}items", lines))
        if kill_after is not None:
            deadline = time.monotonic() + 120
            while len(claimed_ids(broker.bootstrap, prefix)) < kill_after:
                assert time.monotonic() < deadline, "the worker did not get going"
                time.sleep(0.2)
            proc, _ = workers[0]
            proc.send_signal(how)
            proc.wait(60)
            workers = start_workers(1, env, tmp / "second")
        alert_ids = _alert_ids_when_idle(broker.bootstrap, prefix, len(lines))
        _assert_all_committed(broker.bootstrap, prefix)
        return alert_ids
    finally:
        stop_workers(workers)


def test_a_worker_killed_mid_replay_ends_with_the_alerts_of_an_undisturbed_run(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    undisturbed = _run(broker, cli_env, tmp_path / "calm", kill_after=None)
    killed = _run(broker, cli_env, tmp_path / "killed", kill_after=ITEMS // 3)
    # A graceful stop and restart loses nothing either. The bench once lost 34 of 20,000
    # items this way (faust committed the rest of the batch in hand unprocessed); this
    # smaller run did not show that loss without the fix, so tests/streams/test_acks.py
    # holds the mechanism and this the end-to-end outcome.
    stopped = _run(broker, cli_env, tmp_path / "stopped", kill_after=ITEMS // 3, how=signal.SIGTERM)
    assert len(undisturbed) >= 300, "enough alerts to compare"
    for disturbed in (killed, stopped):
        differ = undisturbed ^ disturbed
        assert len(differ) <= len(undisturbed) // 100, (
            sorted(undisturbed - disturbed)[:10],
            sorted(disturbed - undisturbed)[:10],
        )
