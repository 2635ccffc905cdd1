"""faust's aiokafka driver: a configurable fetch wait, a flush that waits, true log ends, safe seeks.

Why the fetch wait: faust hard-codes ``fetch_max_wait_ms=1500`` when it builds
the worker's consumer, so when little is flowing each fetch waits 1.5 s and an
alert is about 1.6 s late at p99 (measured here). Lower-volume desks care most
about that latency. The value is patched on the consumer faust builds, before
it starts, and is otherwise untouched.

Why the flush: faust commits a consumer's offsets right after "flushing" the
producer, and that flush is what makes a table write (its changelog record,
queued by ``send_soon``) safe to commit behind. faust's buffer flush gives up
after 0.1 s without a message leaving its queue, and does not wait for the one
being handed over, so on a loaded machine offsets were committed while the
changelog records of the events behind them were still queued; a kill -9 then
lost table state (an item's evidence) whose event was never replayed: a killed
and restarted worker ended with alerts missing. Here the flush first waits until
every queued record is delivered (or failed: then the commit fails, and the
events are replayed), then does faust's own.

Why the log ends: faust recovers a table by reading its changelog up to the end
offsets ListOffsets gives (``end_offsets``), and declares recovery over when it
reaches them. The embedded broker answers ListOffsets with one past the *first*
offset of a partition's last batch, so the rest of that batch, the newest table
writes before a stop or a kill, was left out of every recovery: a restarted
worker forgot clusters founded and evidence folded in just before (50,000-item
crash run: 57 alert ids missing, 65 extra). The end is taken from a fetch of the
last record instead (its highwater), the larger of the two; on Kafka they agree.

Why the seek: see ``SeekSafeConsumer``. Why the flow control: see
``RefetchingFlowControl``. Why the turns: see ``RoundRobinThread``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, MutableMapping, Sequence
from contextlib import aclosing
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers import aiokafka as _driver
from mode.utils.queues import FlowControlEvent

from streams.errors import ChangelogNotDelivered

__all__ = [
    "DeliveringProducer",
    "RefetchingFlowControl",
    "RoundRobinThread",
    "SeekCountingThread",
    "SeekSafeConsumer",
    "log_ends",
    "make_transport_class",
    "queued_offsets",
    "take_turns",
]

log = logging.getLogger("corroborate.transport")

#: Longest ``log_ends`` waits for the fetches that tell the ends (s); past it, ListOffsets' answer.
LOG_END_WAIT = 10.0


class DeliveringProducer(_driver.Producer):
    """faust's aiokafka producer whose ``flush`` returns only once ``send_soon`` records are delivered."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._queued: set[asyncio.Future[Any]] = set()
        self._failed: list[BaseException] = []

    def send_soon(self, fut: Any) -> None:
        self._queued.add(fut)
        fut.add_done_callback(self._settled)
        super().send_soon(fut)

    def _settled(self, fut: asyncio.Future[Any]) -> None:
        self._queued.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            self._failed.append(fut.exception())  # type: ignore[arg-type]

    async def flush(self) -> None:
        # Only what is queued now: the offsets being committed were taken before, and
        # the table writes of their events were queued before those were acked. Waiting
        # for an empty queue would never end while the agents go on writing.
        if self._queued:
            await asyncio.wait(list(self._queued))
        if self._failed:
            failed, self._failed = self._failed, []
            raise ChangelogNotDelivered(len(failed), failed[0])
        await super().flush()


async def log_ends(
    bootstrap: str, listed: Mapping[Any, int], *, wait: float = LOG_END_WAIT
) -> dict[Any, int]:
    """One past the last offset of each partition: ``listed`` (ListOffsets' answers, keyed
    by anything with ``topic`` and ``partition``), raised to the highwater of a fetch
    of each partition's last record."""
    want = {TopicPartition(tp.topic, tp.partition): tp for tp, end in listed.items() if end}
    out = dict(listed)
    if not want:
        return out
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(want))
        for tp, key in want.items():
            consumer.seek(tp, max(listed[key] - 1, 0))
        deadline = time.monotonic() + wait
        pending: Iterable[TopicPartition] = list(want)
        while pending and time.monotonic() < deadline:
            await consumer.getmany(*pending, timeout_ms=200, max_records=1)
            pending = [tp for tp in pending if consumer.highwater(tp) is None]
        for tp, key in want.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                out[key] = max(listed[key], highwater)
    finally:
        await consumer.stop()
    return out


class SeekCountingThread:
    """The consumer thread's half of ``SeekSafeConsumer``: which seek each fetched batch
    came after.

    Both run on the thread's loop with no ``await`` between the last seek and the
    count, nor between a fetch collecting its records and the tag, so a batch is
    tagged with the seek it was fetched after. aiokafka's own ``seek_to_committed``
    awaits each partition's committed offset between seeks, so a fetch could see
    some partitions sought and others not; here every committed offset is read
    first and the seeks then done together.
    """

    seeks: int = 0
    """Seeks to the committed offsets so far."""
    sought: Mapping[Any, int | None] = {}
    """The committed offsets of the latest seek."""
    fetched_after: int = 0
    """``seeks`` when the latest batch was fetched."""

    async def seek_to_committed(self) -> Mapping[Any, int]:
        return cast(Mapping[Any, int], await self.call_thread(self._seek_to_committed_together))  # type: ignore[attr-defined]

    async def _seek_to_committed_together(self) -> Mapping[Any, int | None]:
        consumer = self._ensure_consumer()  # type: ignore[attr-defined]
        committed = {tp: await consumer.committed(tp) for tp in consumer.assignment()}
        for tp, offset in committed.items():
            if offset and offset > 0:  # as aiokafka: nothing committed leaves the position be
                consumer.seek(tp, offset)
        self.sought = committed
        self.seeks += 1
        return committed

    async def take_back(self, offsets: Mapping[Any, int]) -> list[Any]:
        """Move the fetcher back to ``offsets`` (records taken and not delivered) on the
        partitions still assigned whose position is past them; those moved.

        Never forward: a seek to the committed offset (or a new assignment) may have
        put the position before those records already, and moving it up to them
        would skip what lies between."""
        return cast(list[Any], await self.call_thread(self._take_back, offsets))  # type: ignore[attr-defined]

    async def _take_back(self, offsets: Mapping[Any, int]) -> list[Any]:
        consumer = self._ensure_consumer()  # type: ignore[attr-defined]
        assigned = consumer.assignment()
        moved = []
        for tp, offset in offsets.items():
            if tp in assigned and offset < await consumer.position(tp):
                consumer.seek(tp, offset)
                moved.append(tp)
        return moved

    async def _fetch_records(self, *args: Any, **kwargs: Any) -> Any:
        records = await super()._fetch_records(*args, **kwargs)  # type: ignore[misc]
        self.fetched_after = self.seeks
        return records


def take_turns(held: OrderedDict[Any, Any], served: Iterable[Any]) -> None:
    """Puts the partitions a poll just served behind those it did not (``held`` is the
    fetcher's ordered map of fetched results): the next poll starts with the others."""
    for tp in served:
        if tp in held:
            held.move_to_end(tp)


class RoundRobinThread:
    """The consumer thread, whose polls take the partitions' fetched records in turn.

    Why: aiokafka's ``fetched_records`` hands out the results it holds in the order
    they came and stops at ``max_records``, so while the first partition in that
    order holds records, every poll is filled from it and the partitions behind it
    wait, fetched but not delivered. The embedded broker returns up to 17,004
    records (5 MB) of one partition per fetch, ignoring the 1 MiB partition limit,
    and faust polls 500 at a time at the pace of the slowest agent: with the
    cluster agent slowed by a busy machine, the claims fetched behind a backlog of
    items reached the corroborate agent not at all for four minutes (50,000-item
    replay beside a CPU hog: "liveness failing: 20458 records of claims[0] behind,
    none completed for 127s", claims' position still while items' moved). On
    Kafka a partition's result is smaller (1 MiB: a few thousand items) but the
    order is the same. The Java consumer takes the partitions in turn; so does this.
    """

    async def _fetch_records(self, consumer: Any, *args: Any, **kwargs: Any) -> Any:
        records = await super()._fetch_records(consumer, *args, **kwargs)  # type: ignore[misc]
        take_turns(consumer._fetcher._records, records)
        return records


class SeekSafeConsumer:
    """faust's consumer whose records fetched before a seek cannot outrun it.

    faust seeks the stream partitions back to their committed offsets when a
    recovery ends (``perform_seek``) and sets its "read offset" of each to that
    offset; its fetch loop drops every record below the read offset as already
    seen, and raises the read offset after each record it delivers. A batch
    fetched before the seek is not discarded by it: its records go on being
    delivered afterwards and raise the read offset past the committed one, so
    the records from the committed offset up to there, fetched again after the
    seek, are dropped unprocessed and never acked (a restarted worker lost items
    that had been fetched but not processed before a kill, and its commits on
    that partition stopped for good behind the first unacked offset). Here a
    batch fetched before the latest seek (``SeekCountingThread`` tags each)
    delivers nothing more of the partitions the seek moved back (those with a
    committed offset; the others were not moved and their records are still
    next), and the read offsets are set to the sought offsets once the record in
    flight has written its own; the records held back are fetched again from
    there (at-least-once: the agents are idempotent). Records faust takes from
    the fetcher and does not deliver for its own reasons are fetched again too
    (``_take_back``): left there, they had moved a restarted worker's position
    ahead of its committed offset, and later posts were processed first. So are
    records faust delivered into a stream queue and then cleared from it
    (``refetch``, told by ``RefetchingFlowControl``); until they are, the rest
    of the batch in hand of those partitions is held back, so that nothing after
    them is processed before them.
    """

    _read_offset: MutableMapping[Any, int | None]
    _applied_seek: int = 0
    _batch: Mapping[Any, Sequence[Any]] = {}
    """The records faust took from the fetcher for the batch in hand."""
    _refetch: dict[Any, int] | None = None
    """Partitions whose records from this offset on must be fetched again (cleared from a queue)."""

    def refetch(self, offsets: Mapping[Any, int]) -> None:
        """Fetch the stream partitions of ``offsets`` again from there (changelogs excepted:
        a table's recovery reads its changelog itself)."""
        changelogs = self.app.tables.changelog_topics  # type: ignore[attr-defined]
        pending = self._refetch if self._refetch is not None else {}
        for tp, offset in offsets.items():
            if tp.topic not in changelogs:
                pending[tp] = min(offset, pending.get(tp, offset))
        self._refetch = pending

    @property
    def _seek_counter(self) -> SeekCountingThread:
        return cast(SeekCountingThread, self._thread)  # type: ignore[attr-defined]

    async def _wait_next_records(self, timeout: float) -> Any:  # noqa: ASYNC109 (faust's signature)
        records, active = await super()._wait_next_records(timeout)  # type: ignore[misc]
        self._batch = records or {}
        return records, active

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:  # noqa: ASYNC109 (faust's signature)
        thread = self._seek_counter
        self._batch = {}
        fetched_after: int | None = None
        delivered: dict[Any, int] = {}
        async with aclosing(super().getmany(timeout)) as batch:  # type: ignore[misc]
            async for tp, message in batch:
                if fetched_after is None:
                    fetched_after = thread.fetched_after
                self._apply_seek()
                if self._moved_back_since(fetched_after, tp) or (self._refetch and tp in self._refetch):
                    continue
                delivered[tp] = message.offset
                yield tp, message
        self._apply_seek()
        await self._take_back(thread.fetched_after if fetched_after is None else fetched_after, delivered)

    async def _take_back(self, fetched_after: int, delivered: Mapping[Any, int]) -> None:
        """Move the fetcher back to the records of the batch faust took and did not deliver:
        it drops the rest of a batch when the flow stops or the generation changes, and the
        records of a partition paused while the batch was in hand (a restarted worker's
        stream partitions, paused for recovery just after the first fetch)."""
        back: dict[Any, int] = {}
        why: dict[Any, str] = {}
        for tp, offset in (self._refetch or {}).items():
            back[tp], why[tp] = offset, "cleared from a stream queue"
        self._refetch = None
        for tp, records in self._batch.items():
            if not records or self._moved_back_since(fetched_after, tp):
                continue
            last = delivered.get(tp)
            if last is None or last < records[-1].offset:
                first = min(r.offset for r in records if last is None or r.offset > last)
                if first < back.get(tp, first + 1):
                    back[tp], why[tp] = first, "taken and not delivered"
        self._batch = {}
        if back and not self.should_stop:  # type: ignore[attr-defined]
            for tp in await self._seek_counter.take_back(back):
                self._read_offset[tp] = back[tp] or None
                log.info("fetching %s[%s] again from %s: %s", tp.topic, tp.partition, back[tp], why[tp])

    def _new_offset(self, tp: Any) -> int | None:
        """faust's next offset to commit; a commit past a record never acked is named.

        faust commits the first run of acked offsets and lets a hole at its head through
        when it is one record wide (``min(acked) - committed > 1``): a record at the
        committed offset that was never processed is committed past and not fetched
        again. Holding the commit there was tried and withdrawn (a crash run's commits
        stayed near the start), so this only says which record, for an operator to
        replay it and for the cause to be found."""
        committed = self._committed_offset[tp]  # type: ignore[attr-defined]
        acked = self._acked[tp]  # type: ignore[attr-defined]
        head = min(acked) if committed and acked else None
        offset = cast("int | None", super()._new_offset(tp))  # type: ignore[misc]
        if head is not None and offset is not None and head > committed:
            log.warning(
                "committing %s[%s] at %s past offset %s, which was never acked (not processed, "
                "or processed and its ack lost); it will not be fetched again",
                tp.topic,
                tp.partition,
                offset,
                committed,
            )
        return offset

    def _moved_back_since(self, fetched_after: int, tp: Any) -> bool:
        """Whether a seek after the batch's fetch moved ``tp`` back (it had a committed offset)."""
        thread = self._seek_counter
        return fetched_after != thread.seeks and bool(thread.sought.get(tp))

    def _apply_seek(self) -> None:
        """Read offsets as faust's ``perform_seek`` sets them, once per seek, after the
        record in flight (the fetch loop writes its offset before asking for the next)."""
        thread = self._seek_counter
        if self._applied_seek != thread.seeks:
            self._applied_seek = thread.seeks
            self._read_offset.update(
                {
                    tp: offset if offset is not None and offset >= 0 else None
                    for tp, offset in thread.sought.items()
                }
            )


def queued_offsets(queues: Iterable[Any]) -> dict[Any, int]:
    """The first offset of each partition among the events waiting in ``queues``."""
    first: dict[Any, int] = {}
    for queue in queues:
        for event in list(getattr(queue, "_queue", ())):
            message = getattr(event, "message", None)
            if message is not None:
                tp, offset = message.tp, message.offset
                first[tp] = min(offset, first.get(tp, offset))
    return first


class RefetchingFlowControl(FlowControlEvent):
    """faust's flow control of stream queues, whose resume does not lose what it clears.

    Why: ``resume`` clears every stream queue, and faust resumes it when a
    recovery completes, after it resumed the stream partitions and while it
    seeks them to their committed offsets; records its fetch loop delivered into
    a queue meanwhile were thrown away, though their read offset had advanced.
    Where the seek moves the partition back they are fetched again anyway; where
    it does not (nothing committed yet, as for a new group or on the embedded
    broker after it restarted empty) they were lost: the items of a broker-outage
    run came 2,999 of 3,000, 6 runs in 12 lost 1 or 2. faust's commit then went
    past a lost record when it was alone (it checks ``min(acked) - committed > 1``).
    Here ``on_cleared`` is told the first cleared offset of each partition, and
    the consumer fetches them again (``SeekSafeConsumer.refetch``). The clear on a
    revoke (``clear`` called alone) is left as it is: those partitions go to
    their new owner from the committed offset.
    """

    def __init__(self, *, on_cleared: Callable[[Mapping[Any, int]], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_cleared = on_cleared

    def resume(self) -> None:
        cleared = queued_offsets(self._queues)
        super().resume()
        if cleared:
            self._on_cleared(cleared)


def make_transport_class(fetch_max_wait_ms: int, bootstrap: str) -> type[Any]:
    class _Thread(SeekCountingThread, RoundRobinThread, _driver.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

        async def _highwaters(self, partitions: list[Any]) -> Mapping[Any, int]:
            listed = await super()._highwaters(partitions)
            if self.consumer.in_transaction:
                return listed
            return await log_ends(bootstrap, listed)

    class _Consumer(SeekSafeConsumer, _driver.Consumer):
        def _new_consumer_thread(self) -> Any:
            return _Thread(self, loop=self.loop, beacon=self.beacon)

    class _Transport(_driver.Transport):
        Consumer = _Consumer
        Producer = DeliveringProducer

    return _Transport
