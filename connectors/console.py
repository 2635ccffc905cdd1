"""Print alerts from the alerts topic as they arrive.

Why a plain consumer without a group: every console must see every alert,
whichever worker produced it, and must not take partitions away from anyone.
It keeps the highest version seen per cluster and skips anything older, so a
redelivered or replayed alert is printed once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.errors import ConnectorError
from connectors.origin_flags import origin_flags
from streams.messages import Alert, SchemaError

__all__ = ["AlertPrinter", "format_alert"]

_MARK = {"CORROBORATED": "✔", "CONTESTED": "✖", "QUIET": "…", "UNVERIFIED": "?"}


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_alert(alert: Alert) -> str:
    """A readable block for a terminal or a log."""
    if alert.state == "merged":
        return (
            f"= merged v{alert.version}  claim {alert.cluster_id} is the same claim as {alert.merged_into};"
            f" its {alert.items_total} items now count there\n  claim: {alert.claim[:200]}"
        )
    # Parties' support is weighed but is no independent origin: say how many there are in all.
    in_all = "" if alert.support_origins == alert.independent_origins else f"{alert.support_origins} in all, "
    head = (
        f"{_MARK.get(alert.state, '*')} {alert.state} v{alert.version}  claim {alert.cluster_id}  "
        f"{alert.independent_origins} independent origin(s) supporting"
        f" ({in_all}weight {alert.support_weight:.2f}), {alert.deny_origins} denying"
        f" (weight {alert.deny_weight:.2f}), {alert.items_total} items"
    )
    lines = [head, f"  claim: {alert.claim[:200]}", f"  first seen {_hhmm(alert.first_seen)}"]
    for other in alert.contradicting:
        lines.append(
            f"  contradicted by claim {other['cluster_id']} ({other['cue']}): {str(other['claim'])[:120]}"
        )
    for origin in alert.origins:
        if origin["stance"] not in ("support", "deny"):
            continue
        flags = origin_flags(origin)
        flag_text = f" [{'; '.join(flags)}]" if flags else ""
        lines.append(
            f"  {'+' if origin['stance'] == 'support' else '-'} {origin['source']} "
            f"({origin['kind']}, weight {origin['weight']:.2f}) via {origin['root_item']}{flag_text}"
        )
        for echo in origin.get("echoes", [])[:6]:
            lines.append(f"      echo {echo['item']}: {echo['reason']}")
        more = len(origin.get("echoes", [])) - 6
        if more > 0:
            lines.append(f"      … {more} more echoes")
    return "\n".join(lines)


class AlertPrinter:
    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        out: IO[str],
        json_lines: bool = False,
        from_beginning: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.out = out
        self.json_lines = json_lines
        self.from_beginning = from_beginning
        self._clock = clock
        self.versions: dict[str, int] = {}
        self.printed = 0
        self.last_alert_at: float | None = None
        self.ready = asyncio.Event()

    def handle(self, raw: bytes) -> Alert | None:
        """Print one record if it is new; return the alert printed."""
        try:
            alert = Alert.from_json(raw)
        except (SchemaError, orjson.JSONDecodeError, TypeError, KeyError):
            return None
        if self.versions.get(alert.cluster_id, 0) >= alert.version:
            return None
        self.versions[alert.cluster_id] = alert.version
        if self.json_lines:
            self.out.write(orjson.dumps(alert.to_dict()).decode() + "\n")
        else:
            self.out.write(format_alert(alert) + "\n\n")
        self.out.flush()
        self.printed += 1
        self.last_alert_at = self._clock()
        return alert

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )
        await consumer.start()
        try:
            partitions = await self._partitions(consumer)
            consumer.assign(partitions)
            if self.from_beginning:
                await consumer.seek_to_beginning(*partitions)
            else:
                await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)
            self.ready.set()
            while True:
                batch: dict[Any, list[Any]] = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        if record.value is not None:
                            self.handle(record.value)
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        for _ in range(100):
            parts = consumer.partitions_for_topic(self.topic)
            if parts:
                return [TopicPartition(self.topic, p) for p in sorted(parts)]
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        raise ConnectorError(f"alerts topic {self.topic} has no partitions; was it created?")
