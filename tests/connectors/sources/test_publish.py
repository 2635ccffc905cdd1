from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka.errors import KafkaConnectionError

from connectors.sources.checkpoint import MemoryCheckpoints
from connectors.sources.publish import Publisher
from connectors.sources.recent import RecentKeys
from streams.records import Item


class FlakyOutlet:
    """Refuses the first ``failures`` sends, as a broker that is down would."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.batches: list[list[str]] = []
        self.dead: list[tuple[bytes, str]] = []

    async def send(self, items: Sequence[Item], source: str) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker down")
        self.batches.append([i.id for i in items])

    async def dead_letter(self, raw: bytes, reason: str, detail: str, source: str) -> None:
        self.dead.append((raw, reason))


def _item(n: int) -> Item:
    return Item(id=f"i:{n}", text=f"text {n}", created_at=1.0)


def test_a_broker_outage_holds_the_batch_and_loses_nothing() -> None:
    async def go() -> tuple[FlakyOutlet, Publisher, MemoryCheckpoints]:
        outlet, store = FlakyOutlet(failures=2), MemoryCheckpoints()
        pub = Publisher("s", outlet, store, retry_seconds=0.01)
        await pub.open()
        for n in range(3):
            await pub.offer(_item(n), position={"at": n})
        await pub.flush()
        return outlet, pub, store

    outlet, pub, store = asyncio.run(go())
    assert outlet.batches == [["i:0", "i:1", "i:2"]]
    assert pub.stats.errors["produce"] == 2 and pub.stats.produced == 3
    assert store.states["s"]["position"] == {"at": 2}


def test_the_checkpoint_carries_recent_keys_into_the_next_run() -> None:
    async def go() -> tuple[Publisher, FlakyOutlet]:
        store = MemoryCheckpoints()
        first = Publisher("s", FlakyOutlet(), store)
        await first.open()
        await first.offer(_item(1), keys=["url:https://a.example/1"])
        await first.flush()
        outlet = FlakyOutlet()
        second = Publisher("s", outlet, store)
        await second.open()
        await second.offer(_item(1))
        await second.offer(_item(2), keys=["url:https://a.example/1"])  # same article, another id
        await second.offer(_item(3))
        await second.flush()
        return second, outlet

    second, outlet = asyncio.run(go())
    assert outlet.batches == [["i:3"]] and second.stats.dropped["duplicate"] == 2


def test_a_partial_batch_is_flushed_after_the_linger_and_on_the_way_out() -> None:
    async def go() -> FlakyOutlet:
        outlet = FlakyOutlet()
        pub = Publisher("s", outlet, MemoryCheckpoints(), linger=0.05)
        await pub.open()
        async with pub.running():
            await pub.offer(_item(1))
            await asyncio.sleep(0.2)
            await pub.offer(_item(2))
        return outlet

    assert asyncio.run(go()).batches == [["i:1"], ["i:2"]]


def test_recent_keys_forget_the_oldest_first() -> None:
    keys = RecentKeys(3, ["a", "b", "c"])
    keys.add("a")  # refreshed: now the newest
    keys.add("d")
    assert keys.to_list() == ["c", "a", "d"] and "b" not in keys


def test_a_checkpoint_never_names_an_item_that_is_not_yet_acknowledged() -> None:
    class SlowOutlet(FlakyOutlet):
        async def send(self, items: Sequence[Item], source: str) -> None:
            await asyncio.sleep(0.05)
            await super().send(items, source)

    async def go() -> tuple[MemoryCheckpoints, Publisher]:
        store = MemoryCheckpoints()
        pub = Publisher("s", SlowOutlet(), store)
        await pub.open()
        await pub.offer(_item(1), position={"at": 1})
        flushing = asyncio.create_task(pub.flush())
        await asyncio.sleep(0.01)  # the first batch is on its way
        await pub.offer(_item(2), position={"at": 2})
        await flushing
        return store, pub

    store, pub = asyncio.run(go())
    saved = store.states["s"]
    assert saved["recent"] == ["i:1"] and saved["position"] == {"at": 1}, "i:2 is not durable yet"
    assert asyncio.run(pub.offer(_item(2))) is False, "still a repeat within this run"
