from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from connectors.errors import SourceConfigError, SourceError
from connectors.secrets import Secret
from connectors.sources.reconnect import ReconnectPolicy
from connectors.sources.x_stream import XFilteredStream, XRule
from tests.connectors.sources.conftest import Topics, serve, wait_until
from tests.connectors.sources.x_server import TOKEN, FakeX, Step, tweet_line

pytestmark = pytest.mark.broker

FAST = ReconnectPolicy(network_step=0.05, network_max=0.2, http_first=0.05, http_max=0.2)


def _stream(topics: Topics, base: str, name: str = "x", **kw: object) -> XFilteredStream:
    return XFilteredStream(
        topics.publisher(name),
        token=Secret(TOKEN),
        base_url=base,
        policy=FAST,
        **kw,  # type: ignore[arg-type]
    )


async def test_rules_are_synchronised_with_their_tags_and_a_bad_rule_is_named(topics: Topics) -> None:
    fake = FakeX()
    fake.rules["7"] = {"id": "7", "value": "old rule", "tag": "stale"}
    fake.rules["8"] = {"id": "8", "value": "panjshir", "tag": "afghanistan"}
    async with serve(fake.app()) as base:
        stop = asyncio.Event()
        wanted = [XRule("panjshir", "afghanistan"), XRule("pakistan airstrike -is:retweet", "airstrikes")]
        stop.set()  # sync the rules, connect nothing
        await _stream(topics, base, rules=wanted).run(stop)
        assert sorted((r["value"], r.get("tag")) for r in fake.rules.values()) == sorted(
            (r.value, r.tag) for r in wanted
        )
        assert "8" in fake.rules, "a rule already there is kept, not re-added"
        with pytest.raises(SourceConfigError, match=r"unbalanced"):
            await _stream(topics, base, rules=[XRule("((panjshir", "bad")]).run(stop)


async def test_rules_wait_out_an_x_incident_and_a_bad_token_stops_the_source(topics: Topics) -> None:
    fake = FakeX()
    fake.rules_fail_next = 2
    async with serve(fake.app()) as base:
        stream = _stream(topics, base, rules=[XRule("panjshir", "afghanistan")])
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        await wait_until(lambda: len(fake.connections) == 1)
        stop.set()
        await asyncio.wait_for(task, 10)
        assert stream.stats.errors["rules_http_503"] == 2 and len(fake.rules) == 1
        wrong = XFilteredStream(
            topics.publisher("x-bad"), token=Secret("not-the-token"), base_url=base, policy=FAST
        )
        with pytest.raises(SourceError, match=r"X refused the stream .*401.*check the bearer token"):
            await wrong.run(asyncio.Event())


async def test_the_stream_survives_429_503_a_cut_line_keepalives_and_a_stall_without_loss_or_repeat(
    topics: Topics,
) -> None:
    fake = FakeX()
    reset = str(int(time.time()) + 1)
    fake.queue(
        [Step("status", status=429, headers={"x-rate-limit-reset": reset})],
        [Step("status", status=503)],
        [*(Step("line", tweet_line(n)) for n in range(1, 6)), Step("keepalive"), Step("cut", tweet_line(6))],
        [
            # The reconnection's backfill resends 5 (already produced) and the cut 6.
            *(Step("line", tweet_line(n)) for n in (5, 6, 7)),
            *(s for _ in range(8) for s in (Step("wait", seconds=0.2), Step("keepalive"))),
            Step("line", tweet_line(8, quote_of=77)),
            Step("wait", seconds=2.0),  # silence past the stall limit
        ],
        [*(Step("line", tweet_line(n)) for n in (9, 10)), Step("hold")],
    )
    async with serve(fake.app()) as base:
        stream = _stream(topics, base, stall_seconds=0.8, backfill_minutes=2)
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        await wait_until(lambda: stream.stats.received >= 11)
        stop.set()
        await asyncio.wait_for(task, 10)
    ids = await topics.item_ids()
    expected = {f"tw:{n}" for n in range(1, 11)} | {"tw:77"}
    assert Counter(ids) == Counter(expected), "every tweet once: none lost, none repeated"
    stats = stream.stats
    assert stats.errors["http_429"] == 1 and stats.errors["http_503"] == 1
    assert stats.errors["cut"] == 1 and stats.errors["stalled"] == 1
    assert stats.reconnects == 2 and stats.dropped["duplicate"] == 1
    assert len(fake.connections) == 5, "keep-alives alone did not look like a stall"
    assert "backfill_minutes" in fake.connections[3]
    assert fake.connections[0]["expansions"].startswith("author_id,referenced_tweets.id")


async def test_items_carry_provenance_signals_and_rule_tags(topics: Topics) -> None:
    import orjson

    fake = FakeX()
    fake.queue([Step("line", tweet_line(3, quote_of=50, tag="afghanistan")), Step("hold")])
    async with serve(fake.app()) as base:
        stream = _stream(topics, base)
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        await wait_until(lambda: stream.stats.produced >= 2)
        stop.set()
        await asyncio.wait_for(task, 10)
    records = await topics.records(topics.names.items)
    items = {orjson.loads(v)["id"]: orjson.loads(v) for _, v, _ in records}
    keys = {orjson.loads(v)["id"]: k for k, v, _ in records}
    assert keys == {"tw:3": b"tw:50", "tw:50": b"tw:50"}  # a quote is read after what it quotes
    quoting, quoted = items["tw:3"], items["tw:50"]
    assert quoting["quote_of"] == "tw:50" and quoting["topics"] == ["afghanistan"]
    assert quoting["author"] == "u0" and quoting["verified"] is True and quoting["followers"] == 0
    assert quoting["account_created_at"].startswith("2015-01-01")
    assert quoting["urls"] == ["https://example.org/a/3"] and quoting["url"] == "https://x.com/u0/status/3"
    assert quoted["author"] == "commando" and quoted["x_referenced_by"] == "tw:3"


async def test_a_restart_in_the_middle_resumes_without_gap_or_repeat(topics: Topics) -> None:
    fake = FakeX()
    fake.queue(
        [*(Step("line", tweet_line(n)) for n in range(1, 11)), Step("hold")],
        # X's backfill after the restart overlaps what the first run produced.
        [*(Step("line", tweet_line(n)) for n in range(6, 21)), Step("hold")],
    )
    async with serve(fake.app()) as base:
        first = _stream(topics, base, name="x-restart", backfill_minutes=5)
        stop = asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        await wait_until(lambda: first.stats.received >= 10)
        stop.set()
        await asyncio.wait_for(task, 10)
        second = _stream(topics, base, name="x-restart", backfill_minutes=5)
        stop2 = asyncio.Event()
        task = asyncio.create_task(second.run(stop2))
        await wait_until(lambda: second.stats.received >= 15)
        stop2.set()
        await asyncio.wait_for(task, 10)
    ids = await topics.item_ids()
    assert Counter(ids) == Counter(f"tw:{n}" for n in range(1, 21))
    assert second.stats.dropped["duplicate"] == 5
    assert fake.connections[1]["backfill_minutes"] in {"1", "2"}
