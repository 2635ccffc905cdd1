"""Liveness by progress, readiness after recovery, and the metrics endpoint of a real worker."""

from __future__ import annotations

import logging
import socket
import subprocess
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from corroborate.health import HealthServer, Progress
from tests.conftest import CLI


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_worker_holding_records_it_does_not_complete_is_not_alive() -> None:
    clock, timer = Clock(), [1000.0]
    progress = Progress(stall_seconds=60, timer_every=10, timer_at=lambda: timer[0], clock=clock)
    progress.on_fetched("items", 0, 10)
    progress.on_done("items", 0, 10)
    clock.now += 600
    timer[0] = clock.now
    assert progress.liveness().ok, "idle with nothing waiting is alive"
    progress.on_fetched("items", 0, 15)
    clock.now += 30
    timer[0] = clock.now
    assert progress.liveness().ok
    clock.now += 31
    timer[0] = clock.now
    verdict = progress.liveness()
    assert not verdict.ok and "5 records of items[0] behind" in verdict.reason
    progress.on_done("items", 0, 15)
    assert progress.liveness().ok
    assert progress.lag(lambda t, p: 20) == {("items", 0): 4}


def test_a_silent_timer_fails_liveness_once_ready() -> None:
    clock = Clock()
    progress = Progress(stall_seconds=60, timer_every=10, timer_at=lambda: None, clock=clock)
    clock.now += 100
    assert progress.liveness().ok, "not ready yet: recovery may take long"
    progress.ready_when = lambda: True
    verdict = progress.liveness()
    assert not verdict.ok and "sweep timer" in verdict.reason


def test_sweeps_that_keep_failing_fail_liveness_with_the_last_error() -> None:
    clock, timer = Clock(), [1000.0]
    error: list[str | None] = [None]
    progress = Progress(
        stall_seconds=60, timer_every=10, timer_at=lambda: timer[0], timer_error=lambda: error[0], clock=clock
    )
    progress.ready_when = lambda: True
    clock.now += 20
    error[0] = "KafkaTimeoutError: send timed out"
    assert progress.liveness().ok, "one failed sweep is retried, not a reason to restart"
    clock.now += 20
    verdict = progress.liveness()
    assert not verdict.ok and "last failure: KafkaTimeoutError: send timed out" in verdict.reason


def test_a_worker_with_one_partition_stuck_is_not_alive_while_others_go_on() -> None:
    clock, timer = Clock(), [1000.0]
    progress = Progress(stall_seconds=60, timer_every=10, timer_at=lambda: timer[0], clock=clock)
    progress.on_fetched("claims", 0, 40)
    progress.on_done("claims", 0, 10)
    for step in range(7):
        clock.now += 10
        timer[0] = clock.now
        progress.on_fetched("items", 0, step)
        progress.on_done("items", 0, step)
    verdict = progress.liveness()
    assert not verdict.ok and "claims[0]" in verdict.reason and "30 records" in verdict.reason
    progress.on_done("claims", 0, 40)
    assert progress.liveness().ok
    clock.now += 600
    timer[0] = clock.now
    assert progress.liveness().ok, "a partition with nothing waiting never stalls"
    # No longer fetched (faust stopped asking for it) while Kafka holds more: stalled too.
    ends = {("claims", 0): 41}
    progress.highwater = lambda topic, partition: ends.get((topic, partition))
    assert progress.liveness().ok, "caught up with the log end"
    ends[("claims", 0)] = 5041
    verdict = progress.liveness()
    assert not verdict.ok and "5000 records of claims[0] behind" in verdict.reason


def test_a_worker_in_one_rebalance_past_the_limit_is_not_alive() -> None:
    # A worker the group dropped holds no partitions, so no records wait, and its
    # timer goes on firing: only the length of the rebalance gives it away.
    clock, timer = Clock(), [1000.0]
    progress = Progress(
        stall_seconds=60, timer_every=10, timer_at=lambda: timer[0], clock=clock, rebalance_limit=300
    )
    progress.ready_when = lambda: True
    progress.on_fetched("items", 0, 15)
    progress.on_rebalance_start()
    assert progress.waiting() == 0, "a revoked partition's records are dropped, not waiting"
    clock.now += 299
    timer[0] = clock.now
    assert progress.liveness().ok, "recovering gained partitions may take a while"
    clock.now += 2
    timer[0] = clock.now
    verdict = progress.liveness()
    assert not verdict.ok and "rebalance" in verdict.reason
    progress.on_rebalance_end()
    assert progress.liveness().ok


def test_the_watch_logs_a_stall_with_the_consumer_state_and_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, timer = Clock(), [1000.0]
    progress = Progress(stall_seconds=60, timer_every=10, timer_at=lambda: timer[0], clock=clock)
    looks: list[float] = []

    def diagnose() -> dict[str, list[str]]:
        looks.append(clock.now)
        return {"held": ["claims[0]"]}

    server = HealthServer(progress, CollectorRegistry(), port=0, diagnose=diagnose)
    progress.on_fetched("claims", 0, 40)
    caplog.set_level(logging.WARNING, logger="corroborate.health")
    assert server.watch(clock.now).ok and not caplog.records
    clock.now += 61
    timer[0] = clock.now
    assert not server.watch(clock.now).ok
    assert "liveness failing: 41 records of claims[0] behind" in caplog.text and "held" in caplog.text
    server.watch(clock.now + 30)
    assert len(looks) == 1, "a lasting stall is logged once a minute, not at every look"
    server.watch(clock.now + 61)
    assert len(looks) == 2
    progress.on_done("claims", 0, 40)
    assert server.watch(clock.now + 70).ok
    assert "liveness recovered after 70s" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.broker
def test_a_running_worker_serves_livez_readyz_and_metrics(cli_env: dict[str, str]) -> None:
    port = _free_port()
    env = {**cli_env, "CORROBORATE_METRICS_PORT": str(port), "CORROBORATE_SWEEP_SECONDS": "1"}
    proc = subprocess.Popen(
        [*CLI, "replay", "--scenario", "panjshir", "--exit-when-idle", "8", "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = ""
    ready = live = consumer = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                live = httpx.get(f"http://127.0.0.1:{port}/livez", timeout=2)
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                consumer = httpx.get(f"http://127.0.0.1:{port}/debug/consumer", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            # Both alert states of the scenario, whichever comes first: a claim's
            # contest can be decided after the corroboration.
            if ready.status_code == 200 and all(
                f'corroborate_alerts_total{{state="{state}"}}' in metrics
                for state in ("CORROBORATED", "CONTESTED")
            ):
                break
            time.sleep(0.2)
    finally:
        _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err[-2000:]
    assert ready is not None and ready.status_code == 200
    assert live is not None and live.status_code == 200 and live.json()["ok"]
    for name in (
        "corroborate_items_in_total",
        "corroborate_claims_out_total",
        "corroborate_clusters_live",
        "corroborate_items_tracked",
        "corroborate_consumer_lag",
        "corroborate_records_waiting",
        'corroborate_alerts_total{state="CONTESTED"}',
    ):
        assert name in metrics, name
    assert "health and metrics on :" in err
    # What the consumer holds, read from faust's and aiokafka's private state: a version
    # that renamed an attribute shows here, not first during a stall.
    assert consumer is not None and consumer.status_code == 200
    state = consumer.json()
    assert "unreadable" not in state["faust"] and "unreadable" not in state["aiokafka"], state
    assert any(tp.endswith("items[0]") for tp in state["aiokafka"]["assignment"]), state
    assert state["faust"]["flow_active"] is True


@pytest.mark.broker
def test_json_logs_tie_each_alert_to_its_items(cli_env: dict[str, str]) -> None:
    import orjson

    env = {**cli_env, "CORROBORATE_LOG_FORMAT": "json"}
    done = subprocess.run(
        [*CLI, "replay", "--scenario", "panjshir", "--exit-when-idle", "5", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [orjson.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([line for line in done.stderr.splitlines() if line.strip()]), (
        "all JSON"
    )
    alerts = [entry for entry in lines if "alert_id" in entry]
    assert alerts and all(a["alert_id"].startswith(a["cluster_id"] + ":") and a["caused_by"] for a in alerts)
    assert any("worker ready" in entry["msg"] for entry in lines)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2), st.integers(0, 50)), max_size=60))
def test_the_running_count_of_waiting_records_equals_counting_them(
    events: list[tuple[bool, int, int]],
) -> None:
    progress = Progress(stall_seconds=60, timer_every=10, timer_at=lambda: None, clock=Clock())
    for fetched, partition, offset in events:
        (progress.on_fetched if fetched else progress.on_done)("items", partition, offset)
        counted = sum(max(0, off - progress.done.get(k, -1)) for k, off in progress.fetched.items())
        assert progress.waiting() == counted
