"""``make faults``: the service under faults, measured against the embedded broker.

* ``sigterm``: a worker with a backlog gets SIGTERM; how long it takes to exit
  (the deployments give it 45 s), whether the offsets of what it processed were
  committed (a restart then redoes at most the batch in hand), and whether any
  were committed that it had not processed (lost for good).
* ``outage``: the broker stops for 30 s under load and starts again on the same
  port. The embedded broker keeps everything in memory, so it comes back empty
  (no topics, no offsets, no group): the topics job runs again, as an operator
  would, and the question is whether the worker reconnects by itself and
  processes what arrives afterwards.
* ``crash``: 50 k items, once undisturbed and once with the worker killed -9
  at random points and restarted; the alert ids (cluster id and version) on
  ``alert-history`` of the two runs are compared, and a second undisturbed run
  says how much differs between two runs with no fault at all. Beside the run
  with kills, ``corroborate deliver`` posts that run's alerts to the
  Slack-compatible test server's incoming webhook: versions missing there and
  repeats, against the run's ``alert-history``.
* ``recovery``: the changelogs of tables ``exemplars``, ``evidence`` and
  ``blocks`` filled as 1 M live claims leave them; a worker starts and the time
  until ``/readyz`` (tables recovered, matcher rebuilt) is measured, with its
  resident memory.

Writes ``bench/faults.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.delivery_kills import posted_alert_ids
from bench.synthetic import ZipfText, synthetic_items
from corroborate.admin import ensure_topics
from corroborate.broker import EmbeddedBroker
from streams.topics import TopicNames
from tests.connectors.slack_server import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 4


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Worker:
    """``corroborate run`` on the bench broker, with its health port."""

    def __init__(
        self, bootstrap: str, prefix: str, state: Path, partitions: int = PARTITIONS, **env: str
    ) -> None:
        self.bootstrap, self.prefix = bootstrap, prefix
        self.app_id = f"app-{prefix}"
        self.port = _port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_")}
        self.env.update(
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            CORROBORATE_TOPIC_PREFIX=prefix,
            CORROBORATE_APP_ID=self.app_id,
            CORROBORATE_SESSION_TIMEOUT="6",
            CORROBORATE_STATE_DIR=str(state / prefix),
            CORROBORATE_METRICS_PORT=str(self.port),
            CORROBORATE_PARTITIONS=str(partitions),
            **env,
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_ready: bool = True, within: float = 600) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "corroborate.cli", "run", "--json"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if wait_ready:
            self.wait_ready(within)
        return time.monotonic() - t0

    def wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc is not None and self.proc.poll() is None, "worker exited before it was ready"
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {within}s")

    def metric(self, name: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def sigterm(self, within: float = 120) -> float:
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(within)
        return time.monotonic() - t0


async def _produce(bootstrap: str, topic: str, items: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for key, value in items:
            await producer.send(topic, value=value, key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out: list[tuple[bytes | None, bytes]] = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                out += [(r.key, r.value) for r in recs]
        return out
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        total = 0
        for p in range(PARTITIONS):
            total += await consumer.committed(TopicPartition(topic, p)) or 0
        return total
    finally:
        await consumer.stop()


def _claimed_items(bootstrap: str, names: TopicNames) -> list[str]:
    ids = []
    for _, value in asyncio.run(_records(bootstrap, names.claims)):
        record = orjson.loads(value)
        if "item" in record and "kind" not in record:
            ids.append(record["item"]["id"])
    return ids


def _wait_idle(worker: Worker, expect_items: int, quiet: float = 10.0, within: float = 900) -> None:
    """Until every item went through the cluster stage, no alert came for ``quiet`` seconds,
    and no partition is behind its log end."""
    deadline = time.monotonic() + within
    last, since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        try:
            done, alerts = (
                worker.metric("corroborate_claims_out_total"),
                worker.metric("corroborate_alerts_total"),
            )
        except httpx.TransportError:
            time.sleep(1)
            continue
        if alerts != last:
            last, since = alerts, time.monotonic()
        if (
            done >= expect_items
            and time.monotonic() - since >= quiet
            and worker.metric("corroborate_records_waiting") == 0
            and worker.metric("corroborate_consumer_lag") == 0  # a stalled agent waits for nothing
        ):
            return
        time.sleep(0.5)
    raise RuntimeError("pipeline did not go idle")


def sigterm(bootstrap: str, state: Path, n: int = 20_000) -> dict[str, Any]:
    names = TopicNames(f"st{uuid.uuid4().hex[:6]}.")
    worker = Worker(bootstrap, names.prefix, state)
    worker.start()
    asyncio.run(_produce(bootstrap, names.items, list(synthetic_items(n, seed=21))))
    time.sleep(15)  # a backlog in hand
    processed_before = worker.metric("corroborate_claims_out_total")
    seconds = worker.sigterm()
    committed = asyncio.run(_committed(bootstrap, worker.app_id, names.items))
    claimed = _claimed_items(bootstrap, names)
    worker.start()
    after = _claimed_items(bootstrap, names)
    deadline = time.monotonic() + 900
    while len(set(after)) < n and time.monotonic() < deadline:
        time.sleep(2)
        after = _claimed_items(bootstrap, names)
    worker.sigterm()
    repeated = len(after) - len(set(after))
    return {
        "items": n,
        "processed_at_sigterm": int(processed_before),
        "exit_seconds": round(seconds, 2),
        "deadline_seconds": 45,
        "committed_offsets": committed,
        "claims_before_restart": len(claimed),
        "items_reprocessed_after_restart": repeated,
        "items_processed_in_all": len(set(after)),
        # Committed at the stop but never processed: what a restart can no longer redo.
        "committed_beyond_claimed": max(0, committed - len(set(claimed))),
        "items_lost": n - len(set(after)),
    }


def outage(bootstrap: str, broker: EmbeddedBroker, state: Path, seconds: float = 30.0) -> dict[str, Any]:
    names = TopicNames(f"ou{uuid.uuid4().hex[:6]}.")
    worker = Worker(bootstrap, names.prefix, state)
    worker.start()
    before = list(synthetic_items(3000, claims=100, seed=31))
    asyncio.run(_produce(bootstrap, names.items, before))
    _wait_idle(worker, len(before), quiet=3)
    alerts_before = worker.metric("corroborate_alerts_total")
    port = broker.port
    broker.stop()
    time.sleep(seconds)
    broker.start(port=port)
    t0 = time.monotonic()
    asyncio.run(ensure_topics(bootstrap, names.specs(PARTITIONS)))  # the topics job, again
    after = [
        (f"after-{k}", v.replace(b'"syn:', b'"after-syn:'))
        for k, v in synthetic_items(3000, claims=100, seed=32)
    ]
    asyncio.run(_produce(bootstrap, names.items, after))
    first_claim, done = None, 0.0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and worker.proc is not None and worker.proc.poll() is None:
        try:
            done = worker.metric("corroborate_claims_out_total")
        except httpx.TransportError:
            time.sleep(1)
            continue
        if done > len(before) and first_claim is None:
            first_claim = time.monotonic() - t0
        if done >= len(before) + len(after):
            break
        time.sleep(0.5)
    alive = worker.proc is not None and worker.proc.poll() is None
    if alive and done >= len(before) + len(after):
        # the alerts of the last items come after their claims
        _wait_idle(worker, len(before) + len(after), quiet=3, within=120)
    result = {
        "outage_seconds": seconds,
        "worker_alive_after": alive,
        "seconds_to_first_item_after_restart": None if first_claim is None else round(first_claim, 1),
        "items_after_outage": len(after),
        "items_processed_after_outage": int(worker.metric("corroborate_claims_out_total")) - len(before)
        if alive
        else 0,
        "alerts_before": int(alerts_before),
        "alerts_after": int(worker.metric("corroborate_alerts_total") - alerts_before) if alive else 0,
    }
    if alive:
        worker.sigterm()
    return result


def _alert_ids(bootstrap: str, names: TopicNames) -> list[str]:
    """Every alert id on ``alert-history``, in order, repeats included."""
    records = asyncio.run(_records(bootstrap, names.alert_history))
    return [str(orjson.loads(value)["alert_id"]) for _, value in records]


class _SlackLeg:
    """``corroborate deliver`` from a run's ``alert-history`` to the Slack-compatible test
    server's incoming webhook, beside the worker (it is not killed: what a worker's kills
    do to what Slack shows is the question)."""

    HOOK = "/services/T1/B1/crash"

    def __init__(self, worker: Worker) -> None:
        self.fake = FakeSlack(rate=2000.0, burst=200.0)
        self.server, base = self.fake.start()
        config = Path(worker.env["CORROBORATE_STATE_DIR"] + "-delivery.toml")
        config.write_text(
            '[[destination]]\nname = "desk"\ntype = "slack-webhook"\nurl_env = "CRASH_HOOK"\n'
            'rate_per_second = 1000\nburst = 100\n\n[[route]]\nto = ["desk"]\n'
        )
        env = {k: v for k, v in worker.env.items() if k != "CORROBORATE_METRICS_PORT"}
        env.update(
            CORROBORATE_DELIVERY=str(config),
            CORROBORATE_STATE_DIR=worker.env["CORROBORATE_STATE_DIR"] + "-deliver",
            CRASH_HOOK=base + self.HOOK,
        )
        self.log = Path(env["CORROBORATE_STATE_DIR"] + ".err").open("wb")  # noqa: SIM115 (closed in finish)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "corroborate.cli", "deliver"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def finish(self, history: list[str], quiet: float = 20.0, within: float = 900) -> dict[str, int]:
        """Once every id of ``history`` reached the webhook (or nothing came for ``quiet`` s)."""
        wanted = set(history)
        deadline, last, since = time.monotonic() + within, -1, time.monotonic()
        while time.monotonic() < deadline:
            posts = len(self.fake.webhook_posts[self.HOOK])
            if posts != last:
                last, since = posts, time.monotonic()
            if wanted <= set(posted_alert_ids(self.fake, self.HOOK)) or time.monotonic() - since > quiet:
                break
            time.sleep(1)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        self.log.close()
        self.server.shutdown()
        posted = posted_alert_ids(self.fake, self.HOOK)
        return {
            "alert_history_records": len(history),
            "repeated_in_alert_history": len(history) - len(wanted),
            "posts": len(posted),
            "versions_missing": len(wanted - set(posted)),
            "repeats": len(posted) - len(set(posted)),
        }


def _crash_run(
    bootstrap: str,
    state: Path,
    items: list[tuple[str, bytes]],
    kills: int,
    rng: random.Random,
    partitions: int,
    slack: dict[str, int] | None = None,
    dump: Path | None = None,
) -> set[str]:
    """The alert ids a run leaves on ``alert-history``; with ``slack``, a deliverer runs
    beside the worker and what reached the webhook is reported there."""
    names = TopicNames(f"cr{uuid.uuid4().hex[:6]}.")
    worker = Worker(bootstrap, names.prefix, state, partitions=partitions)
    worker.start()
    leg = _SlackLeg(worker) if slack is not None else None
    asyncio.run(_produce(bootstrap, names.items, items))
    for _ in range(kills):
        time.sleep(rng.uniform(5, 25))
        worker.kill9()
        worker.start()
    _wait_idle(worker, 0, quiet=20)
    while len(set(_claimed_items(bootstrap, names))) < len(items):
        time.sleep(2)
    _wait_idle(worker, 0, quiet=15)
    worker.sigterm()
    history = _alert_ids(bootstrap, names)
    if dump is not None:  # every alert record, to see what differs between runs, and the log
        records = asyncio.run(_records(bootstrap, names.alert_history))
        dump.write_bytes(b"\n".join(value for _, value in records) + b"\n")
        shutil.copyfile(state / names.prefix / "worker.log", dump.with_suffix(".worker.log"))
    if leg is not None and slack is not None:
        slack.update(leg.finish(history))
    return set(history)


def crash(
    bootstrap: str,
    state: Path,
    n: int = 50_000,
    kills: int = 4,
    partitions: int = 1,
    dump: Path | None = None,
) -> dict[str, Any]:
    """With one partition, an undisturbed run is repeatable (items meet the matcher in one
    order); with several, arrival order across partitions changes ids and versions.
    With ``dump``, each run's ``alert-history`` records go to ``DUMP/{calm,calm_again,killed}.jsonl``
    and its worker's log (every start's) to ``DUMP/{...}.worker.log``."""
    rng = random.Random(5)
    items = list(synthetic_items(n, claims=2000, seed=41))
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)

    def run(name: str, kills: int, slack: dict[str, int] | None = None) -> set[str]:
        out = dump / f"{name}.jsonl" if dump is not None else None
        return _crash_run(bootstrap, state, items, kills, rng, partitions, slack, out)

    calm = run("calm", 0)
    calm_again = run("calm_again", 0)
    slack: dict[str, int] = {}
    killed = run("killed", kills, slack)
    return {
        "items": n,
        "partitions": partitions,
        "kills": kills,
        "alerts_undisturbed": len(calm),
        "differ_between_two_undisturbed_runs": len(calm ^ calm_again),
        "alerts_with_kills": len(killed),
        "missing_after_kills": len(calm - killed),
        "extra_after_kills": len(killed - calm),
        # The undisturbed runs can differ by a merge landing at another moment, so the run
        # with kills is set against the second one too.
        "missing_against_second_undisturbed": len(calm_again - killed),
        "extra_against_second_undisturbed": len(killed - calm_again),
        "slack_webhook_of_the_run_with_kills": slack,
    }


def _live_claims(n: int) -> Iterator[tuple[str, int | None, bytes, bytes]]:
    """The changelog records ``n`` distinct claims leave, as the stages write them:
    ``(table, partition, key, value)`` for tables ``exemplars`` (a ``ClusterExemplars`` and an
    ``ExactText`` per claim), ``evidence`` (one post each) and ``blocks`` (the
    newest entries per block key, once per key: what a compacted changelog keeps).
    The stages run without matching, so each post founds its own cluster."""
    from streams.domain.blocking import BlockEntry
    from streams.domain.policy import PolicyConfig
    from streams.domain.registry import load_registry
    from streams.messages import ClusterExemplars
    from streams.stages import BlockStage, ClusterOutput, ClusterStage, CorroborationStage

    corroboration = CorroborationStage(load_registry(None), PolicyConfig())
    blocks = BlockStage()
    kept: dict[str, list[BlockEntry]] = {}
    stage = ClusterStage()
    for i, (_, raw) in enumerate(_unique_items(n)):
        if i % 50_000 == 0:
            stage = ClusterStage()  # the records are what matters; keep this process small
        out = stage.process(raw, match=False, source=i % PARTITIONS)
        assert isinstance(out, ClusterOutput)
        cid = out.claim.cluster_id
        record = ClusterExemplars(cid, i % PARTITIONS, out.update.representative, out.exemplars)
        yield "exemplars", record.home, cid.encode(), record.to_json()
        for text in out.exact:  # on their cluster's home partition, as the cluster agent puts them
            yield "exemplars", record.home, text.key(), text.to_json()
        evidence = corroboration.handle(out.claim, None).evidence
        assert evidence is not None
        yield "evidence", None, cid.encode(), orjson.dumps(evidence.to_dict())
        for announce in out.announces:
            kept[announce.key] = blocks.process(announce, kept.get(announce.key, ()), match=False)[2]
    for key, entries in kept.items():
        yield "blocks", None, key.encode(), orjson.dumps([e.to_list() for e in entries])


async def _fill_changelogs(bootstrap: str, app_id: str, n: int) -> dict[str, int]:
    """The worker's changelogs as ``n`` live claims leave them; records written per table."""
    tables = ("exemplars", "evidence", "blocks")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        compact = {"cleanup.policy": "compact"}
        await admin.create_topics(
            [NewTopic(f"{app_id}-{t}-changelog", PARTITIONS, 1, topic_configs=compact) for t in tables]
        )
    finally:
        await admin.close()
    counts = dict.fromkeys(tables, 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        for table, partition, key, value in _live_claims(n):  # None: by key, as faust's tables
            await producer.send(f"{app_id}-{table}-changelog", key=key, value=value, partition=partition)
            counts[table] += 1
        await producer.flush()
    finally:
        await producer.stop()
    return counts


def recovery(bootstrap: str, state: Path, n: int = 1_000_000) -> dict[str, Any]:
    """A worker whose changelogs hold ``n`` live claims starts: time to ready, memory,
    and how long re-learning the matcher's clusters took (from its log)."""
    names = TopicNames(f"rc{uuid.uuid4().hex[:6]}.")
    worker = Worker(bootstrap, names.prefix, state, CORROBORATE_MAX_CLUSTERS=str(max(n, 100)))
    t0 = time.monotonic()
    counts = asyncio.run(_fill_changelogs(bootstrap, worker.app_id, n))
    filled = time.monotonic() - t0
    ready = worker.start(within=3600)
    assert worker.proc is not None
    rss = _rss_mb(worker.proc.pid)
    live = worker.metric("corroborate_clusters_live")
    worker.sigterm()
    log = (state / names.prefix / "worker.log").read_text("utf-8", errors="replace")
    restored = [line for line in log.splitlines() if "from the exemplars table" in line]
    return {
        "claims": n,
        "changelog_records": counts,
        "changelog_fill_seconds": round(filled, 1),
        "start_to_ready_seconds": round(ready, 1),
        "clusters_live_when_ready": int(live),
        "restore_log": restored[-1].split("]: ", 1)[-1] if restored else None,
        "rss_mb_after_recovery": round(rss),
    }


def _unique_items(n: int, seed: int = 9) -> list[tuple[str, bytes]]:
    """``n`` posts that share no claim: each founds a cluster (the worst case for memory).
    English words (``bench.synthetic.ZipfText``), as the matcher would see real posts."""
    text = ZipfText(random.Random(seed))
    out = []
    for i in range(n):
        body = text.text()  # 8 to 14 words of 50,000: no two alike in practice
        out.append(
            (f"u:{i}", orjson.dumps({"id": f"u:{i}", "text": body, "created_at": 1_700_000_000 + i * 0.01}))
        )
    return out


def flood(bootstrap: str, state: Path, n: int, cap: int, encoder: str = "on") -> dict[str, Any]:
    """``n`` unique items into one worker whose matcher holds ``cap`` clusters: resident memory over time.
    ``encoder="off"`` runs it without the sentence encoder (a fixed ~130 MB less, and faster)."""
    names = TopicNames(f"fl{uuid.uuid4().hex[:6]}.")
    worker = Worker(
        bootstrap, names.prefix, state, CORROBORATE_MAX_CLUSTERS=str(cap), CORROBORATE_ENCODER=encoder
    )
    worker.start()
    assert worker.proc is not None
    items = _unique_items(n)
    asyncio.run(_produce(bootstrap, names.items, items))
    samples: list[tuple[int, float]] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 4 * 3600:
        try:
            done = int(worker.metric("corroborate_claims_out_total"))
            live = int(worker.metric("corroborate_clusters_live"))
        except httpx.TransportError:
            time.sleep(2)
            continue
        samples.append((done, _rss_mb(worker.proc.pid)))
        if done >= n:
            break
        time.sleep(5)
    seconds = time.monotonic() - t0
    worker.sigterm()
    peak = max(rss for _, rss in samples)
    half = [rss for done, rss in samples if done >= n // 2]
    return {
        "items": n,
        "max_clusters": cap,
        "encoder": encoder,
        "clusters_live_at_end": live,
        "rss_mb_peak": round(peak),
        "rss_mb_at_half": round(half[0]) if half else None,
        "rss_mb_at_end": round(samples[-1][1]),
        "items_per_s": round(n / seconds),
        "rss_mb_by_items": [[d, round(r)] for d, r in samples[:: max(1, len(samples) // 20)]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", action="append", choices=["sigterm", "outage", "crash", "recovery", "flood"]
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "faults.json")
    parser.add_argument("--crash-items", type=int, default=50_000)
    parser.add_argument("--recovery-claims", type=int, default=1_000_000)
    parser.add_argument("--crash-partitions", type=int, default=1)
    parser.add_argument("--crash-dump", type=Path, help="write each crash run's alert-history here")
    parser.add_argument("--flood-items", type=int, default=200_000)
    parser.add_argument("--flood-cap", type=int, default=20_000)
    parser.add_argument("--flood-encoder", choices=["on", "off"], default="on")
    args = parser.parse_args(argv)
    parts = args.only or ["sigterm", "outage", "crash", "recovery", "flood"]
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "command": "python -m bench.faults",
    }
    if args.out.exists():
        report = {**orjson.loads(args.out.read_bytes()), **report}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker:
        state = Path(tmp)
        for part in parts:
            t0 = time.monotonic()
            if part == "sigterm":
                report[part] = sigterm(broker.bootstrap, state)
            elif part == "outage":
                report[part] = outage(broker.bootstrap, broker, state)
            elif part == "crash":
                report[part] = crash(
                    broker.bootstrap,
                    state,
                    args.crash_items,
                    partitions=args.crash_partitions,
                    dump=args.crash_dump,
                )
            elif part == "flood":
                report[part] = flood(
                    broker.bootstrap, state, args.flood_items, args.flood_cap, args.flood_encoder
                )
            else:
                report[part] = recovery(broker.bootstrap, state, args.recovery_claims)
            report[part]["bench_seconds"] = round(time.monotonic() - t0)
            print(part, report[part], flush=True)
            args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
