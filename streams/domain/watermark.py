"""Event time across several partitions: the slowest active one decides.

Why not the newest time seen: partitions are read side by side, not in time
order. In a replay, one partition's batch can be days ahead of another's, and
"the newest time seen" would expire claims whose own posts are still unread
on the slower partition. Like Kafka Streams and Flink, the watermark is the
minimum over partitions of each one's newest time. A partition that has been
silent for ``idle_seconds`` of wall-clock time does not hold it back, or one
empty partition would stop event time for good. It may step back when a
partition not heard from before turns up with older items: a partition
unread so far must not find its claims expired by the others.
"""

from __future__ import annotations

__all__ = ["Watermark"]

#: Items dated further ahead of the wall clock than this are taken as that far ahead.
MAX_AHEAD_SECONDS = 600.0


class Watermark:
    def __init__(self, idle_seconds: float = 30.0) -> None:
        self.idle_seconds = idle_seconds
        self._sources: dict[object, tuple[float, float]] = {}  # source -> (newest event time, wall time)

    def observe(self, source: object, event_time: float, wall_time: float) -> float:
        """Note an item of ``source``; the watermark after it."""
        event_time = min(event_time, wall_time + MAX_AHEAD_SECONDS)
        newest, _ = self._sources.get(source, (event_time, wall_time))
        self._sources[source] = (max(newest, event_time), wall_time)
        return self.value(wall_time)

    def value(self, wall_time: float) -> float:
        active = [t for t, seen in self._sources.values() if wall_time - seen < self.idle_seconds]
        if active:
            return min(active)
        return max((t for t, _ in self._sources.values()), default=0.0)
