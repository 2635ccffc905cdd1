"""The faust settings whose values follow from each other."""

from __future__ import annotations

import math
from pathlib import Path

from mode.utils.queues import FlowControlQueue

from streams.app import MAX_POLL_RECORDS, STREAM_BUFFER, AppConfig, create_app


def test_one_poll_fits_above_the_mark_where_faust_stops_fetching_a_partition() -> None:
    # Past the mark faust stops fetching the partition but still delivers the rest of
    # the poll, waiting on a full queue and holding up every other partition meanwhile.
    mark = math.floor(STREAM_BUFFER / FlowControlQueue.pressure_high_ratio)
    assert STREAM_BUFFER - mark >= MAX_POLL_RECORDS


def test_the_app_is_built_with_them(tmp_path: Path) -> None:
    app = create_app(AppConfig(bootstrap_servers="127.0.0.1:9", state_dir=tmp_path))
    assert app.conf.broker_max_poll_records == MAX_POLL_RECORDS
    assert app.conf.stream_buffer_maxsize == STREAM_BUFFER
