from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from connectors.sources.feeds import FeedPoller, FeedSpec
from tests.connectors.sources.conftest import Topics, serve, wait_until
from tests.connectors.sources.feed_server import Article, FakeFeeds

pytestmark = pytest.mark.broker


def _article(n: int, site: str = "wire.example") -> Article:
    return Article(
        n,
        f"Headline {n} on the Panjshir offensive",
        f"<p>Body of story {n}.</p>",
        f"https://{site}/world/story-{n}?utm_source=rss",
    )


def _specs(base: str) -> list[FeedSpec]:
    return [
        FeedSpec(f"{base}/feeds/wire", interval=0.3, topics=("afghanistan",)),
        FeedSpec(f"{base}/feeds/daily", interval=0.3),
        FeedSpec(f"{base}/feeds/blog", interval=0.3),
        FeedSpec(f"{base}/feeds/flaky", interval=0.3),
        FeedSpec(f"{base}/feeds/broken", interval=0.3),
    ]


async def test_feeds_poll_conditionally_dedupe_across_feeds_and_restarts_and_recover(topics: Topics) -> None:
    fake = FakeFeeds()
    fake.add("wire", "rss", *(_article(n) for n in range(1, 4)))
    fake.add("daily", "atom", _article(2), _article(10, "daily.example"))  # story 2 syndicated
    fake.add("blog", "json", _article(20, "blog.example"))
    fake.add("flaky", "rss", _article(30, "flaky.example"))
    fake.fail_next["flaky"] = 2
    async with serve(fake.app()) as base:
        poller = FeedPoller(topics.publisher("feeds"), _specs(base))
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        await wait_until(lambda: poller.stats.produced >= 6 and fake.hits[("wire", 304)] >= 2, within=30)
        fake.add("wire", "rss", _article(4))
        await wait_until(lambda: poller.stats.produced >= 7)
        stop.set()
        await asyncio.wait_for(task, 10)
        # A restart: nothing re-emitted, and the validators carry over (first polls are 304s).
        before_304 = fake.hits[("wire", 304)]
        fake.add("blog", "json", _article(21, "blog.example"))
        again = FeedPoller(topics.publisher("feeds"), _specs(base))
        stop = asyncio.Event()
        task = asyncio.create_task(again.run(stop))
        await wait_until(lambda: again.stats.produced >= 1 and fake.hits[("wire", 304)] > before_304)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(task, 10)
    ids = await topics.item_ids()
    assert len(ids) == 8 and len(set(ids)) == 8, Counter(ids)
    # The changed blog feed still lists story 20: known from the checkpoint, not produced again.
    assert again.stats.produced == 1 and again.stats.dropped["duplicate"] == 1
    assert poller.stats.dropped["duplicate"] >= 1  # the syndicated story, by canonical URL
    assert fake.hits[("flaky", 503)] == 2 and poller.stats.errors["http_503"] == 2
    dead = await topics.records(topics.names.deadletter)
    assert dead and all(h["x-error-reason"] == b"invalid_feed" for _, _, h in dead)
    assert b"/feeds/broken" in dead[0][2]["x-error-detail"]


async def test_a_feed_that_cannot_be_reached_backs_off_without_stopping_the_others(topics: Topics) -> None:
    fake = FakeFeeds()
    fake.add("wire", "rss", _article(1))
    async with serve(fake.app()) as base:
        specs = [
            FeedSpec(f"{base}/feeds/wire", interval=0.2),
            FeedSpec("http://127.0.0.1:9/feed", interval=0.2),
        ]
        poller = FeedPoller(topics.publisher("feeds-down"), specs, timeout=1.0)
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        await wait_until(lambda: poller.stats.produced == 1 and poller.stats.errors["network"] >= 1)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert poller.stats.errors["network"] == 1, "the dead feed waits 5 s before its second try"


def test_the_feed_client_uses_an_injected_transport() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(304)

    async def one_poll() -> None:
        from connectors.sources.checkpoint import MemoryCheckpoints
        from connectors.sources.publish import Publisher

        class NoOutlet:
            async def send(self, items: object, source: str) -> None: ...
            async def dead_letter(self, raw: bytes, reason: str, detail: str, source: str) -> None: ...

        poller = FeedPoller(
            Publisher("t", NoOutlet(), MemoryCheckpoints()),
            [FeedSpec("https://f.example/rss")],
            transport=httpx.MockTransport(handler),
        )
        async with httpx.AsyncClient(transport=poller.transport) as client:
            assert await poller.poll(client, poller.feeds[0]) is None

    asyncio.run(one_poll())
    assert [str(u) for u in seen] == ["https://f.example/rss"]
