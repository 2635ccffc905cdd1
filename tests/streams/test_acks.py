"""What faust commits of events an agent did not get through."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from faust.events import Event
from faust.transport.drivers import aiokafka as driver
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from streams._acks import records_in_hand
from streams.app import AppConfig, create_app

TOPIC = TP("items", 2)


def _consumer_and_events(tmp_path: Path, offsets: range) -> tuple[Any, list[Event]]:
    app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
    consumer = driver.Consumer(app.transport, lambda m: None, None, None)
    app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]
    events = []
    for offset in offsets:
        message = ConsumerMessage(
            TOPIC.topic, TOPIC.partition, offset, 0.0, 0, None, None, b"v", None, tp=TOPIC
        )
        message.incref()  # one agent's stream holds it, as the conductor counts
        events.append(Event(app, None, b"v", None, message))
    return consumer, events


def _faust_acks(consumer: Any, events: list[Event]) -> list[int]:
    """As ``take_events`` does in its ``finally``: every event of the batch; the offsets recorded."""
    for event in events:
        event.message.ack(consumer)
    return sorted(consumer._acked[TOPIC])


async def test_a_batch_cut_short_by_a_cancel_is_not_committed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    consumer, events = _consumer_and_events(tmp_path, range(2108, 2142))
    halts: list[str] = []
    with caplog.at_level("INFO", logger="corroborate.agents"), pytest.raises(asyncio.CancelledError):
        async with records_in_hand(events, "cluster", halts.append):
            raise asyncio.CancelledError  # SIGTERM mid-batch
    assert _faust_acks(consumer, events) == []
    assert consumer._new_offset(TOPIC) is None, "nothing to commit: a restart fetches 2108 again"
    assert "cancelled with 34 record(s) in hand (first items[2] offset 2108)" in caplog.text
    assert halts == [], "a cancel is the stop itself"


async def test_a_batch_done_is_acked_as_faust_does(tmp_path: Path) -> None:
    consumer, events = _consumer_and_events(tmp_path, range(10, 13))
    async with records_in_hand(events, "cluster", lambda reason: None):
        pass
    assert _faust_acks(consumer, events) == [10, 11, 12]
    assert consumer._new_offset(TOPIC) == 13


async def test_an_error_that_escapes_stops_the_worker_with_the_batch_uncommitted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: faust restarted the agent and acked the batch in its ``finally``, so the
    # rest of a batch whose send timed out was committed and never processed.
    consumer, events = _consumer_and_events(tmp_path, range(40, 44))
    halts: list[str] = []
    stopped = asyncio.Event()

    async def agent() -> None:
        async with records_in_hand(events, "cluster", lambda reason: (halts.append(reason), stopped.set())):
            raise TimeoutError("send to claims timed out")

    with caplog.at_level("ERROR", logger="corroborate.agents"):
        task = asyncio.create_task(agent())
        await asyncio.wait_for(stopped.wait(), 5)
        await asyncio.sleep(0.05)
        assert not task.done(), "the agent waits for the stop; it takes no record after the gap"
        task.cancel()  # the stop
        with pytest.raises(asyncio.CancelledError):
            await task
    assert halts == ["the cluster agent failed: TimeoutError: send to claims timed out"]
    assert _faust_acks(consumer, events) == []
    assert consumer._new_offset(TOPIC) is None, "a restart redoes 40-43"
    assert "stopping the worker with 4 record(s) in hand (first items[2] offset 40) left uncommitted" in (
        caplog.text
    )
