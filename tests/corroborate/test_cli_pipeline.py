"""The whole pipeline through the CLI, on real brokers (embedded or the session one)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from corroborate.broker import EmbeddedBroker
from tests.conftest import CLI, SCENARIO, pipeline_env
from tests.connectors.slack_server import FakeSlack
from tests.corroborate.workers import produce_items

pytestmark = pytest.mark.broker


def _replay(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "replay", *args, "--json", "--exit-when-idle", "5", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _latest(stdout: str) -> dict[str, dict[str, object]]:
    latest: dict[str, dict[str, object]] = {}
    for line in stdout.splitlines():
        alert = orjson.loads(line)
        latest[alert["cluster_id"]] = alert
    return latest


def test_demo_scenario_on_the_embedded_default(cli_env: dict[str, str]) -> None:
    done = _replay(["--scenario", "panjshir"], cli_env)
    assert done.returncode == 0, done.stderr[-2000:]
    alerts = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len({a["alert_id"] for a in alerts}) == len(alerts), "an alert was printed twice"
    latest = _latest(done.stdout)
    final = {cid: a for cid, a in latest.items() if a["state"] != "merged"}
    # Items of one claim on different partitions may first form two clusters; the
    # later one is then merged into the earlier and says so in its last alert.
    for alias in (a for a in latest.values() if a["state"] == "merged"):
        assert alias["merged_into"] in final, alias
    states = sorted(a["state"] for a in final.values())
    # One corroborated claim; the Taliban's claim and the NRF's denial contested, as one
    # cluster or as two that contradict each other, depending on arrival order.
    assert states[-1] == "CORROBORATED" and set(states[:-1]) == {"CONTESTED"}, done.stderr[-2000:]
    corroborated = next(a for a in final.values() if a["state"] == "CORROBORATED")
    supporting = sorted(o["source"] for o in corroborated["origins"] if o["stance"] == "support")  # type: ignore[union-attr]
    assert corroborated["independent_origins"] == 4
    assert supporting == ["acct:afgcommando_mod", "aditya-raj-kaul", "cnn-news18", "habib-khan"]
    for contested in (a for a in final.values() if a["state"] == "CONTESTED"):
        sides = {(o["source"], o["stance"]) for o in contested["origins"]}  # type: ignore[union-attr]
        assert {("taliban", "support"), ("nrf", "deny")} <= sides or {
            ("taliban", "deny"),
            ("nrf", "support"),
        } <= sides
    assert "first alert" in done.stderr


async def _read_topic(bootstrap: str, topic: str, expect: int, wait_s: float = 20.0) -> list[object]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        max_partition_fetch_bytes=32 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[object] = []
        deadline = time.monotonic() + wait_s
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


def test_bad_input_is_dead_lettered_and_the_stream_goes_on(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix)
    bad = [
        b'{"id": "bad-1", "text": "unterminated',
        b'{"id": "bad-2", "text": "caf\xe9 latin-1", "created_at": "2021-09-06T05:00:00Z"}',
        b'{"id": "bad-3", "created_at": "2021-09-06T05:00:00Z"}',
        b'{"id": "bad-4", "created_at": "2021-09-06T05:00:00Z", "text": "'
        + b"a" * (10 * 1024 * 1024)
        + b'"}',
    ]
    lines = SCENARIO.read_bytes().splitlines()
    mixed = lines[:5] + bad[:2] + lines[5:15] + bad[2:] + lines[15:]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(mixed) + b"\n")
    done = _replay([str(path)], env)
    assert done.returncode == 0, done.stderr[-2000:]
    states = sorted(a["state"] for a in _latest(done.stdout).values() if a["state"] != "merged")
    assert states[-1] == "CORROBORATED" and set(states[:-1]) == {"CONTESTED"}
    records = asyncio.run(_read_topic(broker.bootstrap, f"{prefix}deadletter", expect=4))
    reasons = {}
    for rec in records:
        headers = dict(rec.headers)  # type: ignore[attr-defined]
        reasons[headers["x-error-reason"].decode()] = rec
        assert headers["x-source-topic"].decode() == f"{prefix}items"
    assert set(reasons) == {"malformed_json", "not_utf8", "missing_field", "too_large"}
    assert reasons["too_large"].value == bad[3]  # type: ignore[attr-defined]
    assert reasons["not_utf8"].value == bad[1]  # type: ignore[attr-defined]
    alerts = asyncio.run(_read_topic(broker.bootstrap, f"{prefix}alerts", expect=2))
    assert all(rec.key.decode().startswith("c") for rec in alerts)  # type: ignore[attr-defined]


def test_sigterm_stops_the_service_and_its_broker(cli_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [*CLI, "run"], env=cli_env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert proc.stderr is not None
    broker_line = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "embedded broker on" in line:
            broker_line = line
        if "worker ready" in line:
            break
    port = int(broker_line.split("127.0.0.1:")[1].split()[0])
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert time.monotonic() - started < 30
    from corroborate.broker import metadata_ready

    assert not metadata_ready("127.0.0.1", port, timeout=0.3)
    assert os.path.exists(Path(cli_env["CORROBORATE_STATE_DIR"]) / "worker.log")


def test_contradicting_claims_are_linked_and_alerted_claims_go_quiet(
    cli_env: dict[str, str], broker: EmbeddedBroker
) -> None:
    """Through the real agents: a denial that forms its own cluster contests the claim it
    denies (links and summaries between partitions), and once event time moves on past
    the quiet period, the timer's quiet checks make both claims QUIET.

    The later item is sent only once the contest is seen: sent together, it may be read
    first from its partition, and then the two claims are already expired by event time.
    """
    prefix = f"t{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix, CORROBORATE_SWEEP_SECONDS="0.5")
    by_id = {orjson.loads(line)["id"]: line for line in SCENARIO.read_bytes().splitlines() if line.strip()}
    later = orjson.dumps(
        {
            "id": "late-1",
            "author": "weather_kbl",
            "text": "Kabul weather: rain",
            "created_at": "2021-09-10T05:00:00Z",
        }
    )
    proc = subprocess.Popen(
        [*CLI, "run", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    alerts: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: alerts.extend(orjson.loads(line) for line in proc.stdout or []))
    reader.start()
    try:

        def states() -> list[str]:
            return sorted(a["state"] for a in list(alerts))

        items = f"{prefix}items"
        _wait_topic(broker.bootstrap, items)
        asyncio.run(produce_items(broker.bootstrap, items, [by_id["tw:1001"], by_id["tw:1017"]]))
        assert _until(lambda: states() == ["CONTESTED", "CONTESTED"], 60), alerts
        asyncio.run(produce_items(broker.bootstrap, items, [later]))
        assert _until(lambda: states() == ["CONTESTED", "CONTESTED", "QUIET", "QUIET"], 60), alerts
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert len({a["alert_id"] for a in alerts}) == len(alerts)
    clusters = {a["cluster_id"] for a in alerts}
    assert len(clusters) == 2
    for a in alerts:
        if a["state"] == "CONTESTED":
            assert {c["cluster_id"] for c in a["contradicting"]} == clusters - {a["cluster_id"]}
            assert all(c["claim"] for c in a["contradicting"])  # named by its text, not only its id


def _until(check: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _wait_topic(bootstrap: str, topic: str, within: float = 60.0) -> None:
    """The service creates its topics when it starts; produce only once they exist."""

    async def exists() -> bool:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await consumer.start()
        try:
            return topic in await consumer.topics()
        finally:
            await consumer.stop()

    assert _until(lambda: asyncio.run(exists()), within), f"{topic} never appeared"


def test_run_with_delivery_configured_posts_the_scenarios_alerts_to_slack(
    cli_env: dict[str, str], slack: tuple[FakeSlack, str], tmp_path: Path
) -> None:
    fake, base = slack
    config = tmp_path / "delivery.toml"
    config.write_text(
        '[[destination]]\nname = "desk"\ntype = "slack-webhook"\nurl_env = "DESK_HOOK"\n'
        "rate_per_second = 20\nburst = 5\n\n"
        '[[route]]\nto = ["desk"]\nstates = ["CORROBORATED", "CONTESTED"]\n'
    )
    env = {**cli_env, "CORROBORATE_DELIVERY": str(config), "DESK_HOOK": f"{base}/services/T/B/run"}
    done = _replay(["--scenario", "panjshir"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = {a["alert_id"] for a in (orjson.loads(line) for line in done.stdout.splitlines())}
    posted = {
        p["blocks"][-1]["elements"][0]["text"].split("`")[1] for p in fake.webhook_posts["/services/T/B/run"]
    }
    latest = _latest(done.stdout)
    routed = {f"{c}:{a['version']}" for c, a in latest.items() if a["state"] in ("CORROBORATED", "CONTESTED")}
    assert routed and routed <= posted <= printed
    assert "delivering alerts to desk" in done.stderr and "/services/T/B/run" not in done.stderr
