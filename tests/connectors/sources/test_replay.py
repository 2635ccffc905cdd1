from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import orjson
import pytest

from connectors.errors import SourceError
from connectors.sources.replay import ReplaySource, replay_input
from tests.connectors.sources.conftest import Topics, wait_until


def _file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_bytes(
        b"".join(
            orjson.dumps({"id": f"r:{i}", "text": f"item {i}", "created_at": 1630900000 + i}) + b"\n"
            for i in range(n)
        )
    )
    return path


@pytest.mark.broker
async def test_a_stopped_replay_resumes_where_it_stopped_without_gap_or_repeat(
    topics: Topics, tmp_path: Path
) -> None:
    source = replay_input(_file(tmp_path, 600))

    def replay() -> ReplaySource:
        # 600 items a second apart, at 300x: two seconds in all.
        return ReplaySource(
            source,
            bootstrap=topics.bootstrap,
            topic=topics.names.items,
            speed=300,
            checkpoints=topics.checkpoints,
            name="replay-resume",
            checkpoint_every=50,
        )

    first = replay()
    task = asyncio.create_task(first.run())
    await wait_until(lambda: first.stats.received >= 200)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    second = await replay().run()
    # The last record read may have been waiting for its pace slot when the stop came:
    # it was never sent, so it is not skipped either.
    assert second.skipped >= first.stats.received - 1 >= 199
    assert second.skipped + second.sent == 600
    ids = await topics.item_ids()
    assert Counter(ids) == Counter(f"r:{i}" for i in range(600))


def test_unknown_formats_and_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        replay_input(tmp_path / "nope.jsonl")
    with pytest.raises(SourceError, match="format 'csv'"):
        replay_input(_file(tmp_path, 1), "csv")
    with pytest.raises(SourceError, match=r"no \*-tweets_labeled\.csv"):
        replay_input(tmp_path, "crisislext26")


def test_a_replay_keys_replies_and_retweets_by_the_post_they_answer(tmp_path: Path) -> None:
    path = tmp_path / "thread.jsonl"
    lines = [
        {"id": "tw:1", "text": "the dam has been blown up", "created_at": 1},
        {"id": "tw:2", "text": "RT @a: the dam has been blown up", "created_at": 2, "retweet_of": "tw:1"},
        {"id": "tw:3", "text": "@a fake news", "created_at": 3, "reply_to": "tw:1"},
    ]
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    keys = [key for key, _, _, _ in replay_input(path).records()]
    assert keys == [b"tw:1", b"tw:1", b"tw:1"]  # one partition: read in the order written
