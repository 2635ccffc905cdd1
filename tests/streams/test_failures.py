"""Which agent errors stop the worker and which dead-letter the record."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
)
from faust.exceptions import ProducerSendError

from streams._failures import failure_text, halts_worker


def _raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        KafkaTimeoutError(),
        KafkaConnectionError("no route"),
        NotLeaderForPartitionError(),
        ProducerSendError("Error while sending"),
        TimeoutError(),
        ConnectionResetError(),
        MemoryError(),
        _raised_from(RuntimeError("send failed"), KafkaConnectionError()),
    ],
    ids=repr,
)
def test_errors_of_the_broker_or_the_machine_stop_the_worker(exc: BaseException) -> None:
    assert halts_worker(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad"),
        KeyError("k"),
        AssertionError(),
        ZeroDivisionError(),
        RecursionError(),
        TypeError(),
        # Kafka refusing the record itself: a restart would meet it again (a crash loop).
        MessageSizeTooLargeError(),
        _raised_from(ProducerSendError("Error while sending"), MessageSizeTooLargeError()),
    ],
    ids=repr,
)
def test_faults_of_the_code_on_a_record_do_not(exc: BaseException) -> None:
    assert not halts_worker(exc)


def test_failure_text_names_the_type_and_is_bounded() -> None:
    assert failure_text(ValueError("bad span")) == "ValueError: bad span"
    assert failure_text(KeyError()) == "KeyError"
    long = failure_text(ValueError("x" * 1000), limit=50)
    assert len(long) == 50 and long.endswith("…")
