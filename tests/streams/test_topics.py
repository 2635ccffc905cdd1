"""Where a keyed record lands, as the stream's own routing assumes it."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from streams.topics import key_partition


@given(key=st.binary(min_size=1, max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_a_key_lands_where_the_producers_default_partitioner_puts_it(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert key_partition(key, partitions) == DefaultPartitioner()(key, every, every)
