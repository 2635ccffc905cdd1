"""The delivery engine on a real broker, against the Slack-compatible server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.delivery.config import DeliveryConfig, load_delivery_config
from connectors.delivery.engine import DeliveryEngine
from connectors.delivery.signing import verify
from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.batch import BatchCorroborator
from streams.domain.registry import load_registry
from streams.messages import Alert
from streams.topics import TopicNames
from tests.conftest import SCENARIO
from tests.connectors.slack_server import FakeSlack

pytestmark = pytest.mark.broker

SECRET_PATH = "/services/T0/B0/sekrit-hook-part"


def scenario_alerts() -> list[Alert]:
    batch = BatchCorroborator(load_registry(None), clock=lambda: 1.0)
    for line in SCENARIO.read_bytes().splitlines():
        if line.strip():
            batch.add(line)
    return batch.alerts


def config(tmp_path: Path, base: str) -> DeliveryConfig:
    path = tmp_path / "delivery.toml"
    path.write_text(
        f"""
[[destination]]
name = "desk"
type = "slack-webhook"
url_env = "T_DESK_HOOK"
rate_per_second = 40
burst = 5

[[destination]]
name = "bot"
type = "slack-api"
token_env = "T_BOT_TOKEN"
channel = "C1"
base_url = "{base}/api"
rate_per_second = 40
burst = 5

[[destination]]
name = "partner"
type = "webhook"
url_env = "T_PARTNER_URL"
secret_env = "T_PARTNER_SECRET"
rate_per_second = 100
burst = 20

[[route]]
to = ["desk", "bot", "partner"]
"""
    )
    env = {
        "T_DESK_HOOK": base + SECRET_PATH,
        "T_BOT_TOKEN": "fake-bot-token",
        "T_PARTNER_URL": f"{base}/hooks/partner",
        "T_PARTNER_SECRET": "partner-key",
    }
    return load_delivery_config(path, env)


async def produce(bootstrap: str, topic: str, alerts: list[Alert]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for alert in alerts:
            await producer.send_and_wait(topic, key=alert.cluster_id.encode(), value=alert.to_json())
    finally:
        await producer.stop()


async def run_until(engine: DeliveryEngine, done: Callable[[], bool], within: float = 60.0) -> None:
    """Run the engine until ``done()`` (checked as it commits) or ``within`` seconds, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))

    async def watch() -> None:
        # The engine's progress is a counter, not an event: poll it.
        for _ in itertools.count():
            if done():
                return
            await asyncio.sleep(0.1)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watch(), within)
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_every_alert_arrives_once_in_order_and_slack_keeps_one_message_per_claim(
    broker: EmbeddedBroker, slack: tuple[FakeSlack, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, base = slack
    fake.rate, fake.burst, fake.retry_after = 8.0, 3.0, "0.3"  # stricter than our buckets: 429s happen
    topics = TopicNames(f"d{uuid.uuid4().hex[:8]}.")
    await ensure_topics(broker.bootstrap, topics.specs(4))
    alerts = scenario_alerts()
    # Twice the scenario (the second under other cluster ids) and every alert redelivered once.
    more = [dataclasses.replace(a, cluster_id="x" + a.cluster_id) for a in alerts]
    sent = alerts + more
    await produce(broker.bootstrap, topics.alert_history, sent + sent)
    cfg = config(tmp_path, base)
    engine = DeliveryEngine(
        cfg, bootstrap=broker.bootstrap, topics=topics, group_id=f"g-{topics.prefix}", session_timeout=4.0
    )
    caplog.set_level(logging.DEBUG)
    fake.fail_next("/hooks/partner", 2, 503)  # the partner fails twice: retried (signed, idempotency key)
    await run_until(engine, lambda: engine.stats.committed >= 2 * len(sent))

    posts = fake.webhook_posts[SECRET_PATH]
    assert len(posts) == len(sent)  # once each: the redelivered half found the record
    assert fake.rate_limited > 0 and engine.stats.rate_limited["desk"] + engine.stats.rate_limited["bot"] > 0
    got: dict[str, list[int]] = defaultdict(list)
    for post in posts:
        cluster, version = post["blocks"][-1]["elements"][0]["text"].split("`")[1].rsplit(":", 1)
        got[cluster].append(int(version))
    want: dict[str, list[int]] = defaultdict(list)
    for a in sent:
        want[a.cluster_id].append(a.version)
    assert got == want  # every version, in order per claim

    top = fake.top_level("C1")
    clusters = {a.cluster_id for a in sent}
    assert len(top) == len(clusters)  # one message per claim ...
    latest = {c: max(a.version for a in sent if a.cluster_id == c) for c in clusters}
    for message in top:
        cluster = message["metadata"]["event_payload"]["cluster_id"]
        assert f"v{latest[cluster]}:" in message["text"]  # ... in its latest state

    keys = [h["idempotency-key"] for h, _ in fake.hook_requests]
    assert sorted(set(keys)) == sorted(a.alert_id for a in sent)
    assert all(
        verify(b"partner-key", h["x-corroborate-signature"], b, now=h and __import__("time").time())
        for h, b in fake.hook_requests
    )
    assert engine.stats.retries["partner"] == 2 and not any(engine.stats.dead.values())
    assert "sekrit" not in caplog.text and "fake-bot-token" not in caplog.text


async def test_a_refused_alert_goes_to_the_dead_letter_topic_without_the_secret(
    broker: EmbeddedBroker, slack: tuple[FakeSlack, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, base = slack
    topics = TopicNames(f"d{uuid.uuid4().hex[:8]}.")
    await ensure_topics(broker.bootstrap, topics.specs(2))
    alert = scenario_alerts()[0]
    await produce(broker.bootstrap, topics.alert_history, [alert])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.alert_history, key=b"c-bad", value=b'{"v": 1, "cluster_id":')
    finally:
        await producer.stop()
    fake.fail_next(SECRET_PATH, 1, 503)  # may have posted: not repeated
    fake.fail_next("/api/chat.postMessage", 10, 503)  # keeps failing: dead after the last attempt
    cfg = config(tmp_path, base)
    engine = DeliveryEngine(
        cfg,
        bootstrap=broker.bootstrap,
        topics=topics,
        group_id=f"g-{topics.prefix}",
        sleep=_no_wait,
        session_timeout=4.0,
    )
    caplog.set_level(logging.INFO)
    await run_until(engine, lambda: engine.stats.committed >= 2)
    assert engine.stats.dead["desk"] == 1 and engine.stats.dead["bot"] == 1
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topics.delivery_dead, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        records = (await consumer.getmany(tp, timeout_ms=3000)).get(tp, [])
    finally:
        await consumer.stop()
    reasons = {
        dict(r.headers)["x-destination"].decode(): dict(r.headers)["x-error-reason"].decode() for r in records
    }
    assert "may have been posted" in reasons["desk"] and "last attempt" in reasons["bot"]
    assert reasons[""].startswith("not an Alert")  # a malformed record, kept with its reason
    desk = next(r for r in records if dict(r.headers)["x-destination"] == b"desk")
    assert orjson.loads(desk.value)["alert_id"] == alert.alert_id
    assert "sekrit" not in caplog.text + str(reasons)


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


async def test_claims_not_heard_of_for_the_ttl_are_forgotten_on_start(
    broker: EmbeddedBroker, slack: tuple[FakeSlack, str], tmp_path: Path
) -> None:
    _, base = slack
    topics = TopicNames(f"d{uuid.uuid4().hex[:8]}.")
    await ensure_topics(broker.bootstrap, topics.specs(2))
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        now = time.time()
        for key, at in (("desk|old", now - 40 * 86400), ("desk|new", now - 86400)):
            await producer.send_and_wait(
                topics.delivery_state, key=key.encode(), value=orjson.dumps({"version": 3, "at": at})
            )
    finally:
        await producer.stop()
    engine = DeliveryEngine(
        config(tmp_path, base),
        bootstrap=broker.bootstrap,
        topics=topics,
        group_id="g-ttl1",
        session_timeout=4.0,
    )
    await run_until(engine, lambda: engine.ready.is_set(), within=20)
    assert set(engine.state) == {"desk|new"}
    again = DeliveryEngine(
        config(tmp_path, base),
        bootstrap=broker.bootstrap,
        topics=topics,
        group_id="g-ttl2",
        session_timeout=4.0,
    )
    await run_until(again, lambda: again.ready.is_set(), within=20)
    assert set(again.state) == {"desk|new"}  # the tombstone is on the topic
