"""The expiry timer's sweep: a failure is logged and counted, and liveness sees it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from streams.agents import PipelineStats, run_sweep


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
