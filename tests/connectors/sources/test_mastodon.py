from __future__ import annotations

import asyncio
from collections import Counter

import orjson
import pytest

from connectors.secrets import Secret
from connectors.sources.mastodon import MastodonStream
from connectors.sources.reconnect import ReconnectPolicy
from connectors.sources.sse import Event, EventParser
from tests.connectors.sources.conftest import Topics, serve, wait_until
from tests.connectors.sources.mastodon_server import TOKEN, FakeMastodon, status

FAST = ReconnectPolicy(network_step=0.05, network_max=0.2, http_first=0.05, http_max=0.2)


def test_the_event_parser_follows_the_sse_rules() -> None:
    parser = EventParser()
    lines = [":thump", "event: update", 'data: {"a":', "data: 1}", "id: 7", "", "", "data:x", ""]
    events = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert events == [Event("update", '{"a":\n1}', "7"), Event("message", "x", "7")]
    assert parser.comments == 1


def _stream(topics: Topics, base: str, name: str = "md") -> MastodonStream:
    return MastodonStream(
        topics.publisher(name),
        base_url=base,
        tag="panjshir",
        token=Secret(TOKEN),
        topics=("afghanistan",),
        stall_seconds=1.0,
        policy=FAST,
    )


@pytest.mark.broker
async def test_boosts_and_replies_map_to_provenance(topics: Topics) -> None:
    fake = FakeMastodon()
    fake.scripts.append(
        [
            ("update", status(1)),
            ("update", status(2, reply_to=1)),
            ("update", status(3, boost_of=1)),
            ("delete", "1001"),
            ("hold", None),
        ]
    )
    async with serve(fake.app()) as base:
        stream = _stream(topics, base)
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        await wait_until(lambda: stream.stats.received >= 3)
        stop.set()
        await asyncio.wait_for(task, 10)
    host = base.removeprefix("http://")
    items = {orjson.loads(v)["id"]: orjson.loads(v) for _, v, _ in await topics.records(topics.names.items)}
    assert set(items) == {f"mastodon:{host}:{n}" for n in (1001, 1002, 1003)}
    reply, boost = items[f"mastodon:{host}:1002"], items[f"mastodon:{host}:1003"]
    assert reply["reply_to"] == f"mastodon:{host}:1001"
    assert boost["retweet_of"] == f"mastodon:{host}:1001" and boost["text"].startswith(
        "RT @user1@social.example: "
    )
    assert reply["urls"] == ["https://news.example/a/2"] and "#panjshir" in reply["text"]
    assert reply["followers"] == 20 and reply["topics"] == ["afghanistan"] and boost["bot"] is True
    assert stream.stats.dropped["duplicate"] == 1, "the boosted status came again inside the boost"


@pytest.mark.broker
async def test_a_closed_or_stalled_stream_reconnects_and_catches_up_without_gap_or_repeat(
    topics: Topics,
) -> None:
    fake = FakeMastodon()
    fake.post(*(status(n) for n in range(1, 21)))
    fake.scripts += [
        [*(("update", status(n)) for n in range(1, 6))],  # closes after 5
        [("status", 503)],
        [("update", status(9)), ("thump", None), ("wait", 2.0)],  # stalls (6-8 only via catch-up)
        [*(("update", status(n)) for n in range(15, 21)), ("hold", None)],
    ]
    async with serve(fake.app()) as base:
        stream = _stream(topics, base, name="md-gap")
        stop = asyncio.Event()
        task = asyncio.create_task(stream.run(stop))
        await wait_until(lambda: stream.stats.produced >= 20 and stream.stats.reconnects >= 2, within=30)
        stop.set()
        await asyncio.wait_for(task, 10)
        # A restart catches up on what was posted while it was away.
        fake.post(*(status(n) for n in range(21, 26)))
        again = _stream(topics, base, name="md-gap")
        stop = asyncio.Event()
        task = asyncio.create_task(again.run(stop))
        await wait_until(lambda: again.stats.produced >= 5)
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(task, 10)
    host = base.removeprefix("http://")
    ids = await topics.item_ids()
    assert Counter(ids) == Counter(f"mastodon:{host}:{1000 + n}" for n in range(1, 26))
    assert stream.stats.errors["stream_ended"] == 1 and stream.stats.errors["http_503"] == 1
    assert stream.stats.errors["stalled"] == 1 and stream.stats.reconnects == 2
    assert fake.catchups[0] == "1005" and "1020" in fake.catchups, "each catch-up starts at the checkpoint"
