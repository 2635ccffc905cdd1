from __future__ import annotations

import random

import pytest

from connectors.delivery.throttle import TokenBucket, backoff


def test_a_bucket_sends_its_burst_then_paces_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=1.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(1.0)
    now[0] += 1.0
    assert bucket.take() == pytest.approx(1.0)  # the token that came was already promised


def test_retry_after_empties_the_bucket_for_that_long() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=5, clock=lambda: now[0])
    bucket.hold(3.0)
    assert bucket.take() == pytest.approx(3.5)


def test_backoff_is_jittered_and_capped() -> None:
    rng = random.Random(1)
    waits = [backoff(n, base=0.5, cap=4.0, rng=rng) for n in range(10)]
    assert all(0.0 <= w <= 4.0 for w in waits) and len(set(waits)) == len(waits)
    with pytest.raises(ValueError):
        TokenBucket(rate=0.0, burst=1)
