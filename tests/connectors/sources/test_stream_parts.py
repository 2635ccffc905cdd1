from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest

from connectors.sources.lines import LineTooLong, complete_lines
from connectors.sources.reconnect import Failure, ReconnectPolicy
from connectors.sources.x_mapping import XPayloadError, tweet_items


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _lines(*parts: bytes, limit: int = 1 << 20) -> list[bytes]:
    async def go() -> list[bytes]:
        return [line async for line in complete_lines(_chunks(*parts), max_bytes=limit)]

    return asyncio.run(go())


def test_lines_split_across_chunks_and_a_cut_fragment_is_not_a_line() -> None:
    assert _lines(b'{"a":', b"1}\r\n\r\n{", b'"b":2}\n{"c":') == [b'{"a":1}', b"", b'{"b":2}']
    with pytest.raises(LineTooLong):
        _lines(b"x" * 100, limit=10)


def test_reconnect_delays_follow_x_guidance() -> None:
    p = ReconnectPolicy()
    assert [p.delay(Failure.NETWORK) for _ in range(3)] == [0.25, 0.5, 0.75]
    assert max(p.delay(Failure.NETWORK) for _ in range(100)) == 16.0
    assert [p.delay(Failure.HTTP) for _ in range(8)] == [5, 10, 20, 40, 80, 160, 320, 320]
    assert [p.delay(Failure.RATE_LIMITED) for _ in range(2)] == [60, 120]
    p.succeeded()
    assert p.delay(Failure.RATE_LIMITED, now=100.0, reset_at=130.0) == 30.0
    assert p.delay(Failure.DROPPED) == 0.0, "a new kind of failure starts its own ladder"


def test_a_retweet_carries_the_original_text_and_both_are_items() -> None:
    payload = {
        "data": {
            "id": "2",
            "text": "RT @a: Pakistani aircraft are bom…",
            "author_id": "20",
            "created_at": "2021-09-06T05:10:00.000Z",
            "referenced_tweets": [{"type": "retweeted", "id": "1"}],
        },
        "includes": {
            "users": [{"id": "10", "username": "a"}, {"id": "20", "username": "b"}],
            "tweets": [
                {
                    "id": "1",
                    "text": "Pakistani aircraft are bombing Panjshir",
                    "author_id": "10",
                    "created_at": "2021-09-06T05:00:00.000Z",
                }
            ],
        },
        "matching_rules": [{"id": "9", "tag": "afghanistan"}],
    }
    original, retweet = tweet_items(payload)
    assert original.id == "tw:1" and original.author == "a" and "topics" not in original.extra
    assert retweet.retweet_of == "tw:1" and retweet.text == "RT @a: Pakistani aircraft are bombing Panjshir"
    assert retweet.extra["topics"] == ["afghanistan"] and retweet.extra["x_rules"] == ["9"]
    with pytest.raises(XPayloadError, match="created_at"):
        tweet_items(orjson.loads(b'{"data": {"id": "3", "text": "x"}}'))
