"""What the worker's consumer holds and waits on, for a log line when liveness fails.

Why: a partition was seen to stop being fetched under load (claims behind by
20,000 records, nothing delivered for minutes) while faust's own state showed
nothing paused. The cause sits between faust's consumer (which partitions it
asks for, which it holds back for a full stream buffer) and aiokafka's fetcher
(which partitions have fetched records not yet handed over, which fetches are
in flight), and neither says so in a log. This reads both, best effort: the
attributes are private and another version may lack one, which then reads
``None`` rather than failing the health check that asked.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fetch_state"]


def _tp(tp: Any) -> str:
    return f"{tp.topic}[{tp.partition}]"


def _tps(tps: Any) -> list[str] | None:
    if tps is None:
        return None
    return sorted(_tp(tp) for tp in tps)


def _records_held(fetcher: Any) -> dict[str, Any]:
    """Per partition, what aiokafka fetched and the worker has not taken yet."""
    held: dict[str, Any] = {}
    for tp, result in list(fetcher._records.items()):
        records = getattr(result, "_partition_records", None)
        if records is None:
            held[_tp(tp)] = type(result).__name__
        else:
            held[_tp(tp)] = {"next_offset": getattr(records, "next_fetch_offset", None)}
    return held


def _assignment(consumer: Any) -> dict[str, Any] | None:
    subscription = consumer._subscription.subscription
    if subscription is None or subscription.assignment is None:
        return None
    assignment = subscription.assignment
    out: dict[str, Any] = {}
    for tp in assignment.tps:
        state = assignment.state_value(tp)
        out[_tp(tp)] = {
            "paused": state.paused,
            "position": state.position if state.has_valid_position else None,
        }
    return out


def _aiokafka(app: Any) -> dict[str, Any]:
    consumer = app.consumer._thread._consumer
    if consumer is None:
        return {"started": False}
    fetcher = consumer._fetcher
    return {
        "records_held": _records_held(fetcher),
        "nodes_in_flight": sorted(fetcher._in_flight),
        "pending_fetch_tasks": len(fetcher._pending_tasks),
        "fetch_waiters": len(fetcher._fetch_waiters),
        "assignment": _assignment(consumer),
        "reassignment_in_progress": consumer._subscription.reassignment_in_progress,
    }


def _stream_queues(app: Any) -> dict[str, int]:
    """Records waiting in each channel's queue, by the topics the channel reads."""
    queues: dict[str, int] = {}
    for channel in list(app.topics._topics):
        queue = getattr(channel, "queue", None)
        if queue is not None:
            queues[",".join(sorted(channel.topics))] = queue.qsize()
    return queues


def _faust(app: Any) -> dict[str, Any]:
    consumer = app.consumer
    return {
        "flow_active": consumer.flow_active,
        "active": _tps(consumer._active_partitions),
        "paused": _tps(consumer._paused_partitions),
        "buffered": _tps(consumer._buffered_partitions),
        "unacked": len(consumer._unacked_messages),
        "stream_queues": _stream_queues(app),
    }


def fetch_state(app: Any) -> dict[str, Any]:
    """A JSON-able snapshot of faust's and aiokafka's fetch state; never raises."""
    out: dict[str, Any] = {}
    for name, read in (("faust", _faust), ("aiokafka", _aiokafka)):
        try:
            out[name] = read(app)
        except Exception as exc:  # private attributes: another version may lack one
            out[name] = {"unreadable": f"{type(exc).__name__}: {exc}"}
    return out
