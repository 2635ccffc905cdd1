"""Token buckets and jittered back-off, with an injectable clock.

Why a bucket per destination: Slack allows about one message a second per
webhook with short bursts; a bucket of ``burst`` tokens refilled at ``rate``
a second sends a burst at once and then paces, instead of meeting 429s.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

__all__ = ["TokenBucket", "backoff"]


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self) -> float:
        """Take a token; the seconds to wait first (0 when one was there)."""
        self._refill()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def hold(self, seconds: float) -> None:
        """Empty the bucket for ``seconds`` (the server said Retry-After)."""
        self._refill()
        self._tokens = min(self._tokens, -seconds * self.rate)


def backoff(attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None) -> float:
    """Full-jitter exponential back-off: uniform in [0, min(cap, base * 2**attempt)]."""
    high = min(cap, base * (2 ** max(0, attempt)))
    return (rng or random).uniform(0.0, high)
