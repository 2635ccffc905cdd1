"""Records an agent did not get through are never committed.

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

An exception that escapes the agent's own handling (an error of the broker or
the machine: ``streams._failures``) did the same: faust restarted the agent,
whose batch was acked in the ``finally``. Now the records in hand stay
unacked, the worker is told to stop (``halt``), and the agent waits for that
stop. It must not go on: records it acked after the gap would let faust commit
past a one-record hole (its check for a hole at the head lets one through).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from streams._failures import failure_text

__all__ = ["Halt", "records_in_hand"]

log = logging.getLogger("corroborate.agents")

#: Told why, stops the worker (in the service: a SIGTERM to itself, and exit status 1).
Halt = Callable[[str], None]


def _leave_uncommitted(events: Iterable[Any]) -> tuple[int, str]:
    """Marks the events' messages acked, unrecorded; how many, and where the first is."""
    held = [event.message for event in events]
    for message in held:
        message.acked = True
    if not held:
        return 0, "nothing"
    first = min(held, key=lambda m: (m.topic, m.partition, m.offset))
    return len(held), f"{first.topic}[{first.partition}] offset {first.offset}"


@asynccontextmanager
async def records_in_hand(events: Iterable[Any], stage: str, halt: Halt) -> AsyncIterator[None]:
    """Around the processing of faust ``events``: cut short inside, none of them is committed."""
    try:
        yield
    except Exception as exc:
        count, first = _leave_uncommitted(events)
        reason = f"the {stage} agent failed: {failure_text(exc)}"
        log.error(
            "%s; stopping the worker with %d record(s) in hand (first %s) left uncommitted: "
            "a restart redoes them",
            reason,
            count,
            first,
            exc_info=exc,
        )
        halt(reason)
        await asyncio.Event().wait()  # until the stop cancels this agent
        raise  # pragma: no cover  (the wait ends only by cancellation)
    except BaseException:
        count, first = _leave_uncommitted(events)
        if count:
            log.info(
                "cancelled with %d record(s) in hand (first %s): left uncommitted, "
                "a restart fetches them again",
                count,
                first,
            )
        raise
