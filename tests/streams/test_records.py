from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.errors import InvalidItem
from streams.records import MAX_TEXT_CHARS, Item, conversation_key, decode_item

VALID = {
    "id": "tw:1",
    "platform": "twitter",
    "author": "someone",
    "text": "Pakistani jets bombing Panjshir",
    "created_at": "2021-09-06T05:02:00Z",
    "custom_field": {"kept": True},
}


def test_valid_item_round_trips_and_keeps_unknown_fields() -> None:
    item = decode_item(orjson.dumps(VALID))
    assert item.id == "tw:1" and item.author == "someone"
    assert item.extra == {"custom_field": {"kept": True}}
    again = decode_item(item.to_json())
    assert again == item
    assert orjson.loads(item.to_json())["created_at"] == "2021-09-06T05:02:00.000Z"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b'{"id": "x", "text": "\xff\xfe", "created_at": "2021-01-01T00:00:00Z"}', "not_utf8"),
        (orjson.dumps({k: v for k, v in VALID.items() if k != "text"}), "missing_field"),
        (orjson.dumps({k: v for k, v in VALID.items() if k != "id"}), "missing_field"),
        (orjson.dumps({**VALID, "created_at": "yesterday"}), "bad_timestamp"),
        (orjson.dumps({**VALID, "text": "x" * (MAX_TEXT_CHARS + 1)}), "text_too_long"),
        (orjson.dumps({**VALID, "urls": "http://a"}), "bad_field"),
        (orjson.dumps({**VALID, "v": 99}), "unsupported_version"),
        (orjson.dumps([1, 2]), "not_an_object"),
        (b"x" * (10 * 1024 * 1024), "too_large"),
    ],
)
def test_invalid_items_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidItem) as err:
        decode_item(raw)
    assert err.value.reason == reason


@given(st.binary(max_size=2000))
def test_decoder_is_total_over_random_bytes(raw: bytes) -> None:
    try:
        decode_item(raw)
    except InvalidItem as exc:
        assert exc.reason


def test_stamped_sets_ingest_time_once() -> None:
    item = Item(id="a", text="t", created_at=0.0)
    stamped = item.stamped(5.0)
    assert stamped.ingested_at == 5.0 and stamped.stamped(9.0).ingested_at == 5.0


def test_a_thread_is_keyed_by_the_post_it_hangs_on() -> None:
    base = {"id": "tw:2", "text": "x", "created_at": 0}
    assert conversation_key(base) == "tw:2"
    assert conversation_key({**base, "reply_to": "tw:1"}) == "tw:1"
    assert conversation_key({**base, "retweet_of": "tw:1", "reply_to": "tw:0"}) == "tw:1"
    # A connector's conversation id names the thread's first post, not only the parent.
    assert conversation_key({**base, "reply_to": "tw:1", "conversation": "tw:0"}) == "tw:0"
    assert conversation_key({**base, "id": 7}) == "7"
    item = decode_item(orjson.dumps({**base, "quote_of": "tw:1"}))
    assert item.partition_key() == b"tw:1"
