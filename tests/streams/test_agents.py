"""Failures inside the agents: the expiry timer's sweep (logged and counted, seen by
liveness), and a record the code fails on (dead-lettered, the stream goes on)."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from streams.agents import PipelineStats, run_guarded, run_sweep
from streams.stages import DeadLetter


async def test_a_failed_sweep_is_counted_and_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stats, clock, calls = PipelineStats(), iter([50.0, 60.0]), []

    async def failing() -> None:
        calls.append("failing")
        raise TimeoutError("send to claims timed out")

    async def working() -> None:
        calls.append("working")

    with caplog.at_level(logging.ERROR, logger="corroborate.agents"):
        assert await run_sweep(failing, stats, clock=lambda: next(clock)) is False
    assert stats.sweep_failures == 1 and stats.timer_at is None
    assert stats.sweep_error == "TimeoutError: send to claims timed out"
    assert "sweep failed (1 so far)" in caplog.text and "send to claims timed out" in caplog.text

    assert await run_sweep(working, stats, clock=lambda: next(clock)) is True
    assert stats.timer_at == 50.0 and stats.sweep_error is None and stats.sweep_failures == 1
    assert calls == ["failing", "working"]


async def test_a_cancelled_sweep_is_not_swallowed() -> None:
    # A stopping worker cancels its timers; the sweep must not keep it from stopping.
    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_sweep(cancelled, PipelineStats())


def _event(offset: int, value: bytes) -> Any:
    message = ConsumerMessage("items", 1, offset, 0.0, 0, None, None, value, None, tp=TP("items", 1))
    return SimpleNamespace(message=message, value=value)


async def test_a_record_the_code_fails_on_is_dead_lettered_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    letters: list[tuple[DeadLetter, str, int]] = []

    async def dead_letter(letter: DeadLetter, stage: str, event: Any) -> None:
        letters.append((letter, stage, event.message.offset))

    async def work(event: Any) -> None:
        if event.value == b"poison":
            raise IndexError("list index out of range")

    with caplog.at_level(logging.ERROR, logger="corroborate.agents"):
        for offset, value in enumerate([b"a", b"poison", b"b"]):
            await run_guarded("cluster", _event(offset, value), work, dead_letter)
    assert [
        (letter.reason, letter.detail, letter.raw, stage, offset) for letter, stage, offset in letters
    ] == [("processing_failed", "IndexError: list index out of range", b"poison", "cluster", 1)]
    assert "the cluster agent failed on items[1]@1" in caplog.text
    assert "Traceback" in caplog.text, "the operator gets the stack to fix the fault"


async def test_an_error_of_the_broker_is_not_dead_lettered() -> None:
    # The record is good; filed as bad it would be lost to the stream. It is raised,
    # for ``records_in_hand`` to stop the worker and leave it uncommitted.
    letters: list[DeadLetter] = []

    async def dead_letter(letter: DeadLetter, stage: str, event: Any) -> None:
        letters.append(letter)

    async def work(event: Any) -> None:
        raise TimeoutError("send to claims timed out")

    with pytest.raises(TimeoutError):
        await run_guarded("corroborate", _event(7, b"good"), work, dead_letter)
    assert letters == []
