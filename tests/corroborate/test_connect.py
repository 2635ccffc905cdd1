"""Connectors as processes: ``corroborate connect`` and the data-set replays through the pipeline."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import threading
import uuid
from pathlib import Path

import httpx
import orjson
import pytest

from corroborate.broker import EmbeddedBroker
from tests.conftest import CLI, pipeline_env, shared_data
from tests.connectors.sources.conftest import serve, topic_records
from tests.connectors.sources.feed_server import Article, FakeFeeds

pytestmark = pytest.mark.broker

PARTNER = "connect-test-partner"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _topic_keys(bootstrap: str, topic: str) -> list[str]:
    return [k.decode() if k else "" for k, _, _ in await topic_records(bootstrap, topic)]


async def _run_connect(env: dict[str, str], port: int, items: list[dict[str, object]], expect: int) -> str:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "connect",
        "partners",
        "wires",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {PARTNER}"}) as client:
            for _ in range(200):
                try:
                    resp = await client.post(f"http://127.0.0.1:{port}/items", json=items)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert resp.status_code == 202, resp.text
        topic = env["CORROBORATE_TOPIC_PREFIX"] + "items"
        for _ in range(200):
            if len(await _topic_keys(env["KAFKA_BOOTSTRAP_SERVERS"], topic)) >= expect:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # let the feed poll again: a repeat would show now
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        stderr = (await asyncio.wait_for(proc.stderr.read(), 30)).decode()
        assert await asyncio.wait_for(proc.wait(), 30) == 0, stderr[-3000:]
    return stderr


async def test_connect_runs_named_sources_and_a_restart_repeats_nothing(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    fake = FakeFeeds()
    fake.add(
        "wire",
        "rss",
        *(
            Article(n, f"Wire story {n}", f"<p>Body {n}</p>", f"https://wire.example/{n}")
            for n in range(1, 4)
        ),
    )
    port = _free_port()
    async with serve(fake.app()) as base:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "partners"\nkind = "http-ingest"\nlisten = "127.0.0.1:{port}"\n'
            'tokens = [{ name = "partner-a", token_env = "PARTNER_TOKEN" }]\n\n'
            f'[[source]]\nname = "wires"\nkind = "feeds"\ninterval = 0.3\n'
            f'feeds = [{{ url = "{base}/feeds/wire" }}]\n'
        )
        prefix = f"c{uuid.uuid4().hex[:8]}."
        env = pipeline_env(
            cli_env, broker.bootstrap, prefix, CORROBORATE_CONNECTORS=str(sources), PARTNER_TOKEN=PARTNER
        )
        batch = [
            {"id": f"p:{n}", "text": f"Partner item {n}", "created_at": "2021-09-06T05:00:00Z"}
            for n in range(5)
        ]
        first = await _run_connect(env, port, batch, expect=8)
        more = [*batch, {"id": "p:9", "text": "Partner item 9", "created_at": "2021-09-06T05:00:00Z"}]
        fake.add("wire", "rss", Article(4, "Wire story 4", "<p>Body 4</p>", "https://wire.example/4"))
        second = await _run_connect(env, port, more, expect=10)
    keys = await _topic_keys(broker.bootstrap, prefix + "items")
    assert len(keys) == len(set(keys)) == 10, keys
    assert "connecting partners, wires" in first and "stopped: {" in second
    assert fake.hits[("wire", 304)] >= 1


def _rumoureval_subset(tmp_path: Path, threads: int) -> tuple[Path, int]:
    rows = [json.loads(line) for line in shared_data("rumoureval2019", "posts.train-dev.jsonl").open()]
    keep = list(dict.fromkeys(r["thread_id"] for r in rows))[:threads]
    chosen = [r for r in rows if r["thread_id"] in keep]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in chosen))
    return path, sum(1 for r in chosen if r["created_at"] and r["text"] is not None)


@pytest.mark.parametrize("fmt", ["crisislext26", "rumoureval"])
def test_a_shared_data_set_replays_through_the_whole_pipeline(
    fmt: str, broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    if fmt == "crisislext26":
        path, expected = shared_data("crisislext26", "2013_Boston_bombings"), 1000
    else:
        path, expected = _rumoureval_subset(tmp_path, threads=40)
    prefix = f"d{uuid.uuid4().hex[:8]}."
    env = pipeline_env(cli_env, broker.bootstrap, prefix)
    done = subprocess.run(
        [*CLI, "replay", "--format", fmt, str(path), "--json", "--exit-when-idle", "5", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"replayed {expected} items" in done.stderr
    alerts = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert alerts, "a thousand crisis tweets or forty rumour threads raise at least one alert"
    dead = asyncio.run(_topic_keys(broker.bootstrap, prefix + "deadletter"))
    assert dead == []


async def test_connect_exits_non_zero_when_its_only_source_cannot_run(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.connectors.sources.x_server import FakeX

    async with serve(FakeX().app()) as base:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "x"\nkind = "x-stream"\nbase_url = "{base}"\ntoken_env = "X_TOKEN"\n'
        )
        env = pipeline_env(
            cli_env,
            broker.bootstrap,
            f"e{uuid.uuid4().hex[:8]}.",
            CORROBORATE_CONNECTORS=str(sources),
            X_TOKEN="a-revoked-token",
        )
        proc = await asyncio.create_subprocess_exec(
            *CLI, "connect", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    stderr = err.decode()
    assert proc.returncode == 1, stderr[-2000:]
    assert "X refused the stream" in stderr and "a-revoked-token" not in stderr


def test_run_starts_the_configured_connectors_beside_the_agents(
    broker: EmbeddedBroker, cli_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.conftest import SCENARIO

    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "scenario"\nkind = "replay"\npath = "{SCENARIO}"\n')
    env = pipeline_env(
        cli_env, broker.bootstrap, f"r{uuid.uuid4().hex[:8]}.", CORROBORATE_CONNECTORS=str(sources)
    )
    proc = subprocess.Popen(
        [*CLI, "run", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    states: set[str] = set()
    guard = threading.Timer(120, proc.kill)  # no alert at all must fail the test, not hang it
    guard.start()
    try:
        for line in proc.stdout:
            states.add(orjson.loads(line)["state"])
            if "CORROBORATED" in states and "CONTESTED" in states:
                break
    finally:
        guard.cancel()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert {"CORROBORATED", "CONTESTED"} <= states, err[-2000:]
    assert "connecting scenario" in err
