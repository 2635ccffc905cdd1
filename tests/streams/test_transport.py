"""The producer flush that faust commits behind waits for every queued table write,
table recovery reads to the true end of a changelog, a seek is not outrun by
records fetched before it, and records faust clears from a stream queue are
fetched again."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faust.events import Event
from faust.transport.drivers import aiokafka as driver
from faust.types import TP, Message
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from corroborate.broker import EmbeddedBroker
from streams._transport import (
    RefetchingFlowControl,
    RoundRobinThread,
    SeekCountingThread,
    SeekSafeConsumer,
    log_ends,
    take_turns,
)
from streams.app import AppConfig, create_app
from streams.errors import ChangelogNotDelivered

SLOW_HANDOVER = 0.3
"""Seconds each queued record takes to reach the client: more than faust's 0.1 s flush patience."""


def test_flush_returns_only_once_every_queued_record_is_delivered(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    async def scenario() -> list[Any]:
        app = create_app(AppConfig(bootstrap_servers=broker.bootstrap, state_dir=tmp_path))
        topic = app.topic(f"t{uuid.uuid4().hex[:8]}", partitions=1, key_type=bytes, value_type=bytes)
        producer = app.producer
        handover = producer.buffer._send_pending

        async def slow(fut: Any) -> None:  # a loaded machine, made repeatable
            await asyncio.sleep(SLOW_HANDOVER)
            await handover(fut)

        producer.buffer._send_pending = slow  # before start: the buffer's task binds it then
        await producer.start()
        try:
            await topic.maybe_declare()
            queued = [topic.send_soon(key=b"k", value=str(n).encode(), partition=0) for n in range(4)]
            await producer.flush()
            return [fut.done() and fut.exception() is None for fut in queued]
        finally:
            await producer.stop()

    assert asyncio.run(scenario()) == [True] * 4


def test_a_record_that_failed_fails_the_flush_so_no_offset_is_committed_past_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
        producer = app.producer
        producer.buffer.put = lambda fut: None  # never reaches a broker
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        producer.send_soon(fut)
        fut.set_exception(ConnectionError("broker gone"))
        await producer.flush()

    with pytest.raises(ChangelogNotDelivered, match="broker gone"):
        asyncio.run(scenario())


def test_a_flush_waits_for_what_was_queued_when_it_began_not_for_what_comes_after(tmp_path: Path) -> None:
    # Agents keep writing tables while a commit flushes; waiting for an empty queue
    # would hold the commit as long as the stream flows.
    async def scenario() -> bool:
        app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
        producer = app.producer
        producer.buffer.put = lambda fut: None  # delivery is played by hand below
        loop = asyncio.get_running_loop()
        before: asyncio.Future[Any] = loop.create_future()
        producer.send_soon(before)
        flushing = asyncio.ensure_future(producer.flush())
        await asyncio.sleep(0.05)
        after: asyncio.Future[Any] = loop.create_future()
        producer.send_soon(after)
        waited_for_the_first = not flushing.done()
        before.set_result(None)
        await asyncio.wait_for(flushing, 5)
        return waited_for_the_first and not after.done()

    assert asyncio.run(scenario())


def test_the_log_end_counts_the_whole_last_batch(broker: EmbeddedBroker) -> None:
    # faust recovers a table up to the end it is told; the embedded broker's ListOffsets
    # stops at the first record of the last batch, which left the newest writes out.
    async def scenario() -> tuple[int, int]:
        topic = f"t{uuid.uuid4().hex[:8]}"
        tp = TopicPartition(topic, 0)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=200)
        await producer.start()
        try:
            for n in range(5):
                await producer.send_and_wait(topic, str(n).encode(), partition=0)
            batch = [await producer.send(topic, b"b", partition=0) for _ in range(10)]
            await asyncio.gather(*batch)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
        await consumer.start()
        try:
            listed = (await consumer.end_offsets([tp]))[tp]
        finally:
            await consumer.stop()
        return listed, (await log_ends(broker.bootstrap, {tp: listed}))[tp]

    listed, end = asyncio.run(scenario())
    assert end == 15
    assert listed <= end


def test_an_empty_partition_ends_at_zero_without_a_fetch() -> None:
    tp = TopicPartition("nowhere", 0)
    assert asyncio.run(log_ends("127.0.0.1:9", {tp: 0})) == {tp: 0}


class _ScriptedThread:
    seeks = 0
    sought: dict[Any, int | None] = {}
    fetched_after = 0


class _ScriptedFetch:
    """Stands for aiokafka and the consumer thread under faust's real fetch loop.

    Two partitions: ``items`` has a committed offset (100) and the seek moves it
    back there; ``claims`` has none, so the seek leaves it where it is. The first
    batch is fetched before the seek and has ``items`` past the committed offset,
    as seen on a restarted worker: records taken from the fetcher while faust held
    the partition back for recovery and never delivered, then the seek at
    recovery's end while the first record it did deliver was in flight."""

    ITEMS, CLAIMS = TopicPartition("items", 0), TopicPartition("claims", 0)
    COMMITTED = 100

    def _script(self) -> None:
        self._thread = _ScriptedThread()
        self._batches = [[(self.ITEMS, o) for o in range(105, 110)] + [(self.CLAIMS, o) for o in range(3)]]
        self.delivered: list[tuple[str, int]] = []
        self.fetcher_stopped = asyncio.Event()

    async def getmany(self, timeout: float) -> Any:  # noqa: ASYNC109 (faust's signature)
        if not self._batches:
            self.fetcher_stopped.set()
            return
        self._thread.fetched_after = self._thread.seeks
        for tp, offset in self._batches.pop(0):
            yield tp, _Record(tp.topic, offset)

    async def perform_seek(self) -> None:
        # the fetcher goes back to the committed offset; claims goes on from where it was
        self._batches = [[(self.ITEMS, o) for o in range(self.COMMITTED, 110)] + [(self.CLAIMS, 3)]]
        self._thread.sought = {self.ITEMS: self.COMMITTED, self.CLAIMS: None}
        self._thread.seeks += 1
        self._read_offset.update(self._thread.sought)  # type: ignore[attr-defined]


class _Record:
    def __init__(self, topic: str, offset: int) -> None:
        self.topic, self.offset, self.key, self.value = topic, offset, None, None


def _delivered_through_fausts_fetch_loop(seek_safe: bool, tmp_path: Path) -> list[tuple[str, int]]:
    bases = (
        (SeekSafeConsumer, _ScriptedFetch, driver.Consumer)
        if seek_safe
        else (_ScriptedFetch, driver.Consumer)
    )
    consumer_class: Any = type("Consumer", bases, {})

    async def scenario() -> list[tuple[str, int]]:
        app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))

        async def callback(message: Any) -> None:
            consumer.delivered.append((message.topic, message.offset))
            if len(consumer.delivered) == 1:  # recovery ends while the first record is processed
                await consumer.perform_seek()

        consumer = consumer_class(app.transport, callback, None, None)
        consumer._script()
        fetcher = type("Fetcher", (), {"_stopped": consumer.fetcher_stopped})()
        await asyncio.wait_for(consumer._drain_messages(fetcher), 10)
        return list(consumer.delivered)

    return asyncio.run(scenario())


def test_records_fetched_before_a_seek_do_not_make_faust_drop_those_fetched_after_it(tmp_path: Path) -> None:
    delivered = _delivered_through_fausts_fetch_loop(True, tmp_path)
    assert sorted({o for t, o in delivered if t == "items"}) == list(range(100, 110)), delivered
    assert [o for t, o in delivered if t == "claims"] == [0, 1, 2, 3], "claims was not moved back"
    # faust's own loop delivers the rest of the old batch, then drops 100-108 as already
    # read: records 100-104 are never processed, and never acked.
    faust_alone = _delivered_through_fausts_fetch_loop(False, tmp_path)
    assert [o for t, o in faust_alone if t == "items"] == [105, 106, 107, 108, 109, 109]


class _PausingThread(_ScriptedThread):
    def __init__(self) -> None:
        self.taken_back: list[dict[Any, int]] = []

    def highwater(self, tp: Any) -> None:
        return None

    async def take_back(self, offsets: dict[Any, int]) -> list[Any]:
        self.taken_back.append(dict(offsets))
        return list(offsets)


class _ScriptedWait:
    """faust's own ``getmany`` over one scripted fetch: five items records and three claims."""

    ITEMS, CLAIMS = TP("items", 0), TP("claims", 0)

    async def _wait_next_records(self, timeout: float) -> Any:  # noqa: ASYNC109 (faust's signature)
        self._thread.fetched_after = self._thread.seeks  # type: ignore[attr-defined]
        records = {
            self.ITEMS: [_consumer_record(self.ITEMS, o) for o in range(200, 205)],
            self.CLAIMS: [_consumer_record(self.CLAIMS, o) for o in range(3)],
        }
        return records, self._get_active_partitions()  # type: ignore[attr-defined]


def _consumer_record(tp: TP, offset: int) -> Any:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"v", None, 0, 1, ())


def _one_scripted_batch(
    seek_safe: bool, tmp_path: Path, meanwhile: Callable[[Any, Any, Any, int], None]
) -> tuple[list[tuple[str, int]], Any]:
    """What faust's ``getmany`` delivers of ``_ScriptedWait``'s batch, ``meanwhile`` called
    with the consumer, each record delivered and how many went before."""
    bases = (
        (SeekSafeConsumer, _ScriptedWait, driver.Consumer) if seek_safe else (_ScriptedWait, driver.Consumer)
    )
    consumer_class: Any = type("Consumer", bases, {})

    async def scenario() -> tuple[list[tuple[str, int]], Any]:
        app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
        consumer = consumer_class(app.transport, lambda m: None, None, None)
        consumer._thread = _PausingThread()
        consumer._active_partitions = {_ScriptedWait.ITEMS, _ScriptedWait.CLAIMS}
        delivered = []
        async for tp, message in consumer.getmany(1.0):
            meanwhile(consumer, tp, message, len(delivered))
            delivered.append((tp.topic, message.offset))
        return delivered, consumer

    return asyncio.run(scenario())


def _paused_mid_batch(seek_safe: bool, tmp_path: Path) -> tuple[list[tuple[str, int]], Any]:
    def pause(consumer: Any, tp: Any, message: Any, before: int) -> None:
        if before == 0:  # recovery pauses the stream partitions with the batch in hand
            consumer.pause_partitions([_ScriptedWait.ITEMS])

    return _one_scripted_batch(seek_safe, tmp_path, pause)


def test_records_faust_took_and_did_not_deliver_are_fetched_again(tmp_path: Path) -> None:
    delivered, consumer = _paused_mid_batch(True, tmp_path)
    assert consumer._thread.taken_back == [
        {_ScriptedWait.ITEMS: min(o for t, o in delivered if t == "items") + 1}
    ]
    assert consumer._read_offset[_ScriptedWait.ITEMS] == consumer._thread.taken_back[0][_ScriptedWait.ITEMS]
    # faust alone delivers what was in hand before the pause and forgets the rest of the batch
    faust_delivered, _ = _paused_mid_batch(False, tmp_path)
    assert len([o for t, o in faust_delivered if t == "items"]) < 5
    assert [o for t, o in faust_delivered if t == "claims"] == [0, 1, 2]


def _queued_event(app: Any, tp: TP, offset: int) -> Event:
    message = Message(tp.topic, tp.partition, offset, 0.0, 0, None, None, b"v", None, tp=tp)
    return Event(app, None, b"v", None, message)


def test_records_cleared_from_a_stream_queue_when_flow_resumes_are_fetched_again(tmp_path: Path) -> None:
    # When a recovery completes, faust resumes the stream partitions, seeks them to their
    # committed offsets and then resumes flow control, which clears every stream queue:
    # records delivered into a queue meanwhile were thrown away with their read offsets
    # already past them (on a partition with nothing committed, lost).
    items, claims = TP("items", 0), TP("claims", 1)

    async def scenario() -> tuple[dict[Any, int] | None, int]:
        app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
        assert isinstance(app.flow_control, RefetchingFlowControl)
        queue = app.FlowControlQueue(maxsize=100, clear_on_resume=True)
        for tp, offset in ((items, 19), (claims, 7), (items, 20)):
            queue.put_nowait(_queued_event(app, tp, offset))
        app.flow_control.clear()  # a revoke's clear: those partitions go to their next owner
        assert app.consumer._refetch is None
        for tp, offset in ((items, 19), (claims, 7), (items, 20)):
            queue.put_nowait(_queued_event(app, tp, offset))
        app.flow_control.resume()
        return app.consumer._refetch, queue.qsize()

    pending, left = asyncio.run(scenario())
    assert left == 0, "the queue is cleared as faust clears it"
    assert pending == {items: 19, claims: 7}

    async def faust_alone() -> int:
        flow = FlowControlEvent()
        queue: FlowControlQueue[str] = FlowControlQueue(flow_control=flow, clear_on_resume=True)
        queue.put_nowait("record 19")
        flow.resume()
        return queue.qsize()

    assert asyncio.run(faust_alone()) == 0, "faust's resume throws queued records away, and tells no one"


def test_the_rest_of_a_batch_waits_until_cleared_records_are_fetched_again(tmp_path: Path) -> None:
    def clear(consumer: Any, tp: Any, message: Any, before: int) -> None:
        if tp == _ScriptedWait.ITEMS:  # flow control resumes and clears the queue holding it
            consumer.refetch({tp: message.offset})

    delivered, consumer = _one_scripted_batch(True, tmp_path, clear)
    # items 201-204 are not processed before 200, which was cleared; claims go on
    assert [o for t, o in delivered if t == "items"] == [200]
    assert [o for t, o in delivered if t == "claims"] == [0, 1, 2]
    assert consumer._thread.taken_back == [{_ScriptedWait.ITEMS: 200}]
    assert consumer._read_offset[_ScriptedWait.ITEMS] == 200
    assert consumer._refetch is None


class _ThreadOver(SeekCountingThread):
    """The consumer thread's half over a real aiokafka consumer, called in place."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    def _ensure_consumer(self) -> AIOKafkaConsumer:
        return self.consumer

    async def call_thread(self, fun: Any, *args: Any) -> Any:
        return await fun(*args)


def test_the_thread_seeks_committed_partitions_together_and_takes_back_only_backwards(
    broker: EmbeddedBroker,
) -> None:
    async def scenario() -> dict[str, Any]:
        topic, group = f"t{uuid.uuid4().hex[:8]}", f"g{uuid.uuid4().hex[:8]}"
        committed_tp, fresh_tp = TopicPartition(topic, 0), TopicPartition(topic, 1)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            for n in range(10):
                for tp in (committed_tp, fresh_tp):
                    await producer.send_and_wait(topic, str(n).encode(), partition=tp.partition)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            consumer.assign([committed_tp, fresh_tp])
            await consumer.commit({committed_tp: 3})
            while any([await consumer.position(tp) < 10 for tp in (committed_tp, fresh_tp)]):
                await consumer.getmany(timeout_ms=500)
            thread = _ThreadOver(consumer)
            sought = await thread.seek_to_committed()
            after_seek = {tp.partition: await consumer.position(tp) for tp in (committed_tp, fresh_tp)}
            # taking back to 6: partition 0 is at 3 already (moving it would skip 3-5), 1 at 10
            moved = await thread.take_back({committed_tp: 6, fresh_tp: 6})
            after_take_back = {tp.partition: await consumer.position(tp) for tp in (committed_tp, fresh_tp)}
            return {
                "sought": {tp.partition: o for tp, o in sought.items()},
                "seeks": thread.seeks,
                "after_seek": after_seek,
                "moved": [tp.partition for tp in moved],
                "after_take_back": after_take_back,
            }
        finally:
            await consumer.stop()

    got = asyncio.run(scenario())
    assert got["sought"] == {0: 3, 1: None} and got["seeks"] == 1
    assert got["after_seek"] == {0: 3, 1: 10}, "nothing committed leaves the position be"
    assert got["moved"] == [1] and got["after_take_back"] == {0: 3, 1: 6}


def _next_commit(tmp_path: Path, committed: int, acked: list[int]) -> int | None:
    consumer_class: Any = type("Consumer", (SeekSafeConsumer, driver.Consumer), {})
    app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
    consumer = consumer_class(app.transport, lambda m: None, None, None)
    tp = TP("items", 1)
    consumer._committed_offset[tp] = committed
    consumer._acked[tp] = list(acked)
    consumer._acked_index[tp] = set(acked)
    offset: int | None = consumer._new_offset(tp)
    return offset


def test_a_commit_past_a_record_never_acked_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Offset 19 never processed: faust commits 23 past it (a one-record hole gets through).
    with caplog.at_level("WARNING", logger="corroborate.transport"):
        assert _next_commit(tmp_path, 19, [20, 21, 22]) == 23
    assert "committing items[1] at 23 past offset 19, which was never acked" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="corroborate.transport"):
        # A contiguous run from the committed offset, and a hole of two (faust holds), say nothing.
        assert _next_commit(tmp_path, 19, [19, 20, 22]) == 21
        assert _next_commit(tmp_path, 19, [21, 22]) is None
    assert caplog.text == ""


class _AiokafkaPolls:
    """What faust's consumer thread does for a poll: the fetcher's held records, up to a limit."""

    async def _fetch_records(
        self, consumer: AIOKafkaConsumer, active: Any, wait: float = 0, max_records: int | None = None
    ) -> Any:
        return await consumer._fetcher.fetched_records(active, timeout=wait, max_records=max_records)


class _TakingTurns(RoundRobinThread, _AiokafkaPolls):
    pass


def _polls_until_both_served(bootstrap: str, poller: _AiokafkaPolls) -> int:
    """Two partitions with a backlog each, polled 500 records at a time by a slow
    consumer: how many polls until both have delivered records."""

    async def scenario() -> int:
        topics = [f"t{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"]
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        await producer.start()
        try:
            for topic in topics:
                for n in range(12_000):
                    await producer.send(topic, str(n).encode().ljust(300), partition=0)
            await producer.flush()
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=10)
        await consumer.start()
        try:
            tps = {TopicPartition(topic, 0) for topic in topics}
            consumer.assign(list(tps))
            await consumer.seek_to_beginning(*tps)
            served: set[TopicPartition] = set()
            for polls in range(1, 200):
                served.update(await poller._fetch_records(consumer, tps, 0.5, 500))
                if served == tps:
                    return polls
                await asyncio.sleep(0.02)  # the agents' pace
            return 200
        finally:
            await consumer.stop()

    return asyncio.run(scenario())


def test_polls_take_the_partitions_in_turn(broker: EmbeddedBroker) -> None:
    # aiokafka alone fills every poll from the partition whose fetched result came
    # first until it is drained: the embedded broker returns thousands of records of
    # one partition per fetch, so the other waited 25 polls here (3 runs of 3), and
    # under load the claims behind a backlog of items waited minutes. Taking turns: 2.
    assert _polls_until_both_served(broker.bootstrap, _TakingTurns()) <= 8


def test_take_turns_puts_the_partitions_just_served_last() -> None:
    held = OrderedDict.fromkeys(["items", "claims", "blocks"])
    take_turns(held, ["items", "gone"])
    assert list(held) == ["claims", "blocks", "items"]
