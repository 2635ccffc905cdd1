"""``corroborate deliver`` killed with SIGKILL in the middle of a burst, and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.messages import Alert
from streams.topics import TopicNames
from tests.conftest import CLI, pipeline_env
from tests.connectors.delivery.test_engine import produce
from tests.connectors.slack_server import FakeSlack

pytestmark = pytest.mark.broker

HOOK = "/services/T1/B1/kill-test"
STATES = ("CORROBORATED", "CONTESTED", "CORROBORATED", "QUIET")


def burst(clusters: int = 20, versions: int = 10) -> list[Alert]:
    """``clusters`` claims with ``versions`` alerts each, interleaved as a busy stream raises them."""
    return [
        Alert(
            cluster_id=f"k{c:02d}",
            version=v,
            state=STATES[v % len(STATES)],
            claim=f"Claim number {c} about the Panjshir valley",
            independent_origins=v,
            support_origins=v,
            deny_origins=0,
            support_weight=0.5 * v,
            deny_weight=0.0,
            items_total=3 * v,
            first_seen=1630904400.0,
            last_seen=1630904400.0 + v,
            caused_by=f"tw:{c}:{v}",
            emitted_at=time.time(),
        )
        for v in range(1, versions + 1)
        for c in range(clusters)
    ]


def write_config(path: Path, base: str) -> None:
    path.write_text(
        f"""
[[destination]]
name = "desk"
type = "slack-webhook"
url_env = "K_HOOK"
rate_per_second = 40
burst = 5

[[destination]]
name = "bot"
type = "slack-api"
token_env = "K_TOKEN"
channel = "CK"
base_url = "{base}/api"
rate_per_second = 40
burst = 5

[[route]]
to = ["desk", "bot"]
"""
    )


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, "deliver"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def wait_for(check: object, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_kill_9_mid_burst_loses_no_version_and_slack_ends_current(
    broker: EmbeddedBroker, slack: tuple[FakeSlack, str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    fake, base = slack
    prefix = f"k{uuid.uuid4().hex[:8]}."
    topics = TopicNames(prefix)
    asyncio.run(ensure_topics(broker.bootstrap, topics.specs(4)))
    alerts = burst()
    asyncio.run(produce(broker.bootstrap, topics.alert_history, alerts))
    config = tmp_path / "delivery.toml"
    write_config(config, base)
    env = pipeline_env(
        cli_env,
        broker.bootstrap,
        prefix,
        CORROBORATE_DELIVERY=str(config),
        K_HOOK=base + HOOK,
        K_TOKEN="fake-bot-token",
    )
    log = tmp_path / "deliver.log"
    proc = start(env, log)
    assert wait_for(lambda: len(fake.webhook_posts[HOOK]) >= 60, 60), log.read_text()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = len(fake.webhook_posts[HOOK])
    assert killed_at < len(alerts)  # it really was in the middle
    proc = start(env, log)
    try:

        def complete() -> bool:
            seen = {(p["blocks"][-1]["elements"][0]["text"].split("`")[1]) for p in fake.webhook_posts[HOOK]}
            return (
                len(seen) == len(alerts)
                and all(m["text"].startswith(f"{STATES[10 % 4]} v10") for m in fake.top_level("CK"))
                and len(fake.top_level("CK")) == 20
            )

        assert wait_for(complete, 90), log.read_text()[-3000:]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    posted = [p["blocks"][-1]["elements"][0]["text"].split("`")[1] for p in fake.webhook_posts[HOOK]]
    assert set(posted) == {a.alert_id for a in alerts}  # no version missing
    assert len(posted) - len(set(posted)) <= 1  # a repeat only from the kill between a post and its record
    top = fake.top_level("CK")
    assert len(top) == 20  # one message per claim, no extra
    replies = [
        m["metadata"]["event_payload"]["alert_id"] for m in fake.messages.values() if m.get("thread_ts")
    ]
    assert len(replies) == len(set(replies))  # no thread reply twice either
