"""What a source did, as counters an operator reads in logs and metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["SourceStats"]


@dataclass(slots=True)
class SourceStats:
    """``received`` counts payloads read from the service (a stream line, a feed entry, a status,
    an ingested line); ``produced`` items acknowledged
    by Kafka; ``dropped`` counts what was not produced, by reason (``duplicate``,
    ``malformed``, ...); ``reconnects`` counts new connections after the first."""

    name: str
    received: int = 0
    produced: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """Failures that did not lose an item (HTTP 503, a cut stream), by kind."""
    notes: Counter[str] = field(default_factory=Counter)
    """Happenings worth counting that are neither items nor failures (a feed answered 304)."""

    def snapshot(self) -> dict[str, object]:
        return {
            "source": self.name,
            "received": self.received,
            "produced": self.produced,
            "dropped": dict(self.dropped),
            "reconnects": self.reconnects,
            "errors": dict(self.errors),
            "notes": dict(self.notes),
        }
