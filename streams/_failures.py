"""Which errors inside an agent stop the worker, and which only dead-letter a record.

Why two kinds: an error of the broker or the machine (a send that timed out, a
lost connection, memory) says nothing about the record in hand, which would go
through on a retry; dead-lettering it would file good input as bad. The worker
stops instead, with the records in hand uncommitted, and its restart redoes them
from the committed offset. Any other error is a fault of this code on this
record: stopping would only repeat it on every restart (a crash loop on one
record), so the record goes to the dead-letter topic with the error, where an
operator finds it, and the stream goes on. This is the split Kafka Streams makes
between its production and processing exception handlers (KIP-1033).
"""

from __future__ import annotations

from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from faust.exceptions import ConsistencyError, ProducerSendError

__all__ = ["PROCESSING_FAILED", "failure_text", "halts_worker"]

#: The dead-letter reason of a record whose processing raised.
PROCESSING_FAILED = "processing_failed"

_HALTING: tuple[type[BaseException], ...] = (
    KafkaError,
    ProducerSendError,
    ConsistencyError,
    TimeoutError,  # asyncio's too, since Python 3.11
    OSError,
    MemoryError,
)

#: Kafka refusing this record (too large for the broker, say): it would be refused
#: again after every restart, so the record is the fault, not the broker.
_OF_THE_RECORD: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidMessageError,
    CorruptRecordException,
)


def halts_worker(exc: BaseException) -> bool:
    """True for an error of the broker or the machine (or one raised from such an error,
    as faust's ``ProducerSendError`` is), which a restart can get past."""
    errors = (exc, exc.__cause__)
    if any(isinstance(e, _OF_THE_RECORD) for e in errors):
        return False
    return any(isinstance(e, _HALTING) for e in errors)


def failure_text(exc: BaseException, limit: int = 300) -> str:
    """The error as an operator reads it in a header or a log line: type and message."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
