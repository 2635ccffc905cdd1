"""How long to wait before reconnecting to a stream, by what went wrong.

Follows X's guidance for its streaming endpoints (docs.x.com, "Handling
disconnections"), which suits any long-lived HTTP stream:

* an established connection that drops: reconnect at once;
* TCP/IP errors (refused, reset, timed out): back off linearly, 250 ms more
  each attempt, at most 16 s, since these are usually brief;
* HTTP errors (5xx, 4xx): back off exponentially from 5 s, doubling, at most
  320 s, since what caused them will not clear in a moment;
* HTTP 429: back off exponentially from 1 minute, or wait until the
  rate-limit reset the server announced, whichever is later.

A success resets every ladder.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import Enum

__all__ = ["Failure", "ReconnectPolicy", "wait_or_stop"]


class Failure(Enum):
    DROPPED = "dropped"
    """An established stream ended or stalled."""
    NETWORK = "network"
    HTTP = "http"
    RATE_LIMITED = "rate_limited"


@dataclass(slots=True)
class ReconnectPolicy:
    network_step: float = 0.25
    network_max: float = 16.0
    http_first: float = 5.0
    http_max: float = 320.0
    rate_limit_first: float = 60.0
    rate_limit_max: float = 960.0
    _attempts: int = 0
    _last: Failure | None = None

    def delay(self, failure: Failure, *, now: float = 0.0, reset_at: float | None = None) -> float:
        """Seconds to wait after ``failure``; ``reset_at`` is the server's rate-limit reset (epoch s)."""
        if failure is not self._last:
            self._attempts = 0
        self._last = failure
        self._attempts += 1
        n = self._attempts
        if failure is Failure.DROPPED:
            return 0.0 if n == 1 else min(self.network_step * (n - 1), self.network_max)
        if failure is Failure.NETWORK:
            return min(self.network_step * n, self.network_max)
        if failure is Failure.HTTP:
            return min(self.http_first * 2.0 ** (n - 1), self.http_max)
        backoff = min(self.rate_limit_first * 2.0 ** (n - 1), self.rate_limit_max)
        if reset_at is not None:  # the server said when: trust it once, then back off as well
            return max(reset_at - now, 1.0) if n == 1 else max(reset_at - now, backoff)
        return backoff

    def succeeded(self) -> None:
        self._attempts = 0
        self._last = None


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True if it was (every wait of a
    source must end at once on SIGTERM)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    return stop.is_set()
