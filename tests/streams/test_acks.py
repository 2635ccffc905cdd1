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

from streams._acks import unacked_if_cancelled
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


def test_a_batch_cut_short_by_a_cancel_is_not_committed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    consumer, events = _consumer_and_events(tmp_path, range(2108, 2142))
    with (
        caplog.at_level("INFO", logger="corroborate.agents"),
        pytest.raises(asyncio.CancelledError),
        unacked_if_cancelled(events),
    ):
        raise asyncio.CancelledError  # SIGTERM mid-batch
    assert _faust_acks(consumer, events) == []
    assert consumer._new_offset(TOPIC) is None, "nothing to commit: a restart fetches 2108 again"
    assert "cancelled with 34 record(s) in hand (first items[2] offset 2108)" in caplog.text


def test_a_batch_done_or_failed_is_acked_as_faust_does(tmp_path: Path) -> None:
    consumer, events = _consumer_and_events(tmp_path, range(10, 13))
    with unacked_if_cancelled(events):
        pass
    assert _faust_acks(consumer, events) == [10, 11, 12]
    # An exception keeps faust's behaviour: the restarted agent goes on acking later records.
    consumer, events = _consumer_and_events(tmp_path, range(10, 13))
    with pytest.raises(ValueError, match="bad"), unacked_if_cancelled(events):
        raise ValueError("bad")
    assert _faust_acks(consumer, events) == [10, 11, 12]
