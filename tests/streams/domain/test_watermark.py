from __future__ import annotations

from streams.domain.watermark import MAX_AHEAD_SECONDS, Watermark

DAY = 86400.0


def test_the_slowest_active_partition_decides() -> None:
    wm = Watermark(idle_seconds=30)
    assert wm.observe("p0", 4 * DAY, wall_time=10 * DAY) == 4 * DAY
    assert wm.observe("p1", 1 * DAY, wall_time=10 * DAY) == 1 * DAY  # p1 turned up behind: steps back
    assert wm.observe("p1", 2 * DAY, wall_time=10 * DAY) == 2 * DAY


def test_a_silent_partition_stops_holding_event_time_back() -> None:
    wm = Watermark(idle_seconds=30)
    now = 10 * DAY
    wm.observe("p0", 1 * DAY, wall_time=now)
    wm.observe("p1", 3 * DAY, wall_time=now + 20)
    assert wm.value(now + 25) == 1 * DAY
    assert wm.value(now + 40) == 3 * DAY  # p0 silent for 40 s
    assert wm.value(now + 1000) == 3 * DAY  # all silent: the newest


def test_items_dated_in_the_future_count_as_just_ahead_of_the_clock() -> None:
    wm = Watermark()
    assert wm.observe("p0", 99 * DAY, wall_time=DAY) == DAY + MAX_AHEAD_SECONDS
