"""Kill ``corroborate deliver`` with SIGKILL 20 times in a burst of alerts; count what reaches Slack.

Run: ``.venv/bin/python -m bench.delivery_kills [--kills 20] [--out bench/delivery.json]``.

A real embedded broker and the Slack-compatible test server on 127.0.0.1.
The burst is 50 claims x 20 versions. Each round starts the deliverer,
waits for 20 to 60 more webhook posts (random), and kills it with SIGKILL; a
last round runs to the end. Reported: versions missing at the incoming
webhook, repeats there (a kill between a post and its record is the only
window), top-level Web API messages against claims (extra messages),
duplicate thread replies, and the median time from a restart to its first
delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.topics import TopicNames
from tests.connectors.delivery.test_engine import produce
from tests.connectors.slack_server import FakeSlack
from tests.corroborate.test_delivery_kill import HOOK, burst, start, wait_for, write_config

__all__ = ["main", "posted_alert_ids"]


def posted_alert_ids(fake: FakeSlack, hook: str = HOOK) -> list[str]:
    """The alert id of each post at an incoming webhook, in order (its last block names it)."""
    return [p["blocks"][-1]["elements"][0]["text"].split("`")[1] for p in fake.webhook_posts[hook]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("delivery.json"))
    args = parser.parse_args()
    rng = random.Random(20211)
    fake = FakeSlack(rate=60.0, burst=10.0)
    server, base = fake.start()
    work = Path(tempfile.mkdtemp(prefix="corroborate-kills-"))
    with EmbeddedBroker(log_path=work / "broker.log") as broker:
        prefix = f"b{uuid.uuid4().hex[:8]}."
        topics = TopicNames(prefix)
        asyncio.run(ensure_topics(broker.bootstrap, topics.specs(4)))
        alerts = burst(clusters=50, versions=20)
        asyncio.run(produce(broker.bootstrap, topics.alert_history, alerts))
        config = work / "delivery.toml"
        write_config(config, base)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CORROBORATE_"))}
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
            CORROBORATE_TOPIC_PREFIX=prefix,
            CORROBORATE_APP_ID=f"app-{prefix}",
            CORROBORATE_SESSION_TIMEOUT="4",
            CORROBORATE_STATE_DIR=str(work / "state"),
            CORROBORATE_DELIVERY=str(config),
            K_HOOK=base + HOOK,
            K_TOKEN="fake-bot-token",
        )
        log = work / "deliver.log"
        restart_to_first: list[float] = []
        kills = 0
        for _ in range(args.kills):
            before = len(fake.webhook_posts[HOOK])
            if len(set(posted_alert_ids(fake))) >= len(alerts):
                break
            started = time.monotonic()
            proc = start(env, log)
            if wait_for(lambda before=before: len(fake.webhook_posts[HOOK]) > before, 60):
                restart_to_first.append(time.monotonic() - started)
            target = before + rng.randint(20, 60)
            wait_for(lambda target=target: len(fake.webhook_posts[HOOK]) >= target, 60)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        proc = start(env, log)
        done = wait_for(
            lambda: len(set(posted_alert_ids(fake))) >= len(alerts) and len(fake.top_level("CK")) >= 50, 300
        )
        # Let the Web API side finish its last updates.
        wait_for(
            lambda: all(
                m["text"].startswith(("CORROBORATED v20", "QUIET v20", "CONTESTED v20"))
                for m in fake.top_level("CK")
            ),
            120,
        )
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    server.shutdown()
    posted = posted_alert_ids(fake)
    replies = [
        m["metadata"]["event_payload"]["alert_id"] for m in fake.messages.values() if m.get("thread_ts")
    ]
    top = fake.top_level("CK")
    report = {
        "alerts": len(alerts),
        "claims": 50,
        "kills": kills,
        "completed": done,
        "webhook": {
            "versions_missing": len({a.alert_id for a in alerts} - set(posted)),
            "posts": len(posted),
            "repeats": len(posted) - len(set(posted)),
            "repeats_per_kill": round((len(posted) - len(set(posted))) / max(1, kills), 3),
        },
        "web_api": {
            "top_level_messages": len(top),
            "extra_messages": len(top) - 50,
            "in_latest_state": sum(1 for m in top if " v20" in m["text"]),
            "duplicate_thread_replies": len(replies) - len(set(replies)),
        },
        "restart_to_first_delivery_s": {
            "median": round(statistics.median(restart_to_first), 2) if restart_to_first else None,
            "max": round(max(restart_to_first), 2) if restart_to_first else None,
            "runs": [round(x, 2) for x in restart_to_first],
        },
        "server_rate_limited": fake.rate_limited,
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
