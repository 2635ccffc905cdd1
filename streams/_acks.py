"""Offsets of events whose processing a cancellation cut short stay uncommitted.

Why: faust acks the event in hand when an agent's stream is closed, and
``Stream.take_events`` acks every event of its batch, both in a ``finally``
that runs whether or not the agent got through them. On SIGTERM faust cancels
the agents mid-event and then commits what was acked, so a batch cut short
was committed unprocessed and never came again: in the SIGTERM bench a
restarted worker never saw 34 items, the rest of the cluster agent's batch in
hand at the signal (committed offsets 2,597, items with a claim 2,563).
Marking each message of the events acked first makes faust's ack a no-op for
it (``Message.ack`` returns at once for an acked message, so the consumer never
records its offset): the commit stops before the batch and a restart fetches
it again (at-least-once; the agents are idempotent).

Only a cancellation: after an exception faust restarts the agent, which goes
on acking later records, and a withheld offset would hold the partition's
commit until the worker restarts. An exception keeps faust's behaviour.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["unacked_if_cancelled"]

log = logging.getLogger("corroborate.agents")


@contextmanager
def unacked_if_cancelled(events: Iterable[Any]) -> Iterator[None]:
    """Around the processing of faust ``events``: cancelled inside, none of them is committed."""
    try:
        yield
    except Exception:
        raise
    except BaseException:
        held = [event.message for event in events]
        for message in held:
            message.acked = True
        if held:
            first = min(held, key=lambda m: (m.topic, m.partition, m.offset))
            log.info(
                "cancelled with %d record(s) in hand (first %s[%s] offset %s): left uncommitted, "
                "a restart fetches them again",
                len(held),
                first.topic,
                first.partition,
                first.offset,
            )
        raise
