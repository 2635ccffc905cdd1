"""faust's aiokafka driver with a configurable fetch wait.

Why: faust hard-codes ``fetch_max_wait_ms=1500`` when it builds the worker's
consumer, so when little is flowing each fetch waits 1.5 s and an alert is
about 1.6 s late at p99 (measured here). Lower-volume desks care most about
that latency. The value is patched on the consumer faust builds, before it
starts, and is otherwise untouched.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as _driver

__all__ = ["make_transport_class"]


def make_transport_class(fetch_max_wait_ms: int) -> type[Any]:
    class _Thread(_driver.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class _Consumer(_driver.Consumer):
        def _new_consumer_thread(self) -> Any:
            return _Thread(self, loop=self.loop, beacon=self.beacon)

    class _Transport(_driver.Transport):
        Consumer = _Consumer

    return _Transport
