"""Inputs the fuzzers found that crashed a connector, kept so they never come back."""

from __future__ import annotations

import pytest

from connectors.sources.feed_mapping import FeedError, entry_item, parse_feed
from connectors.sources.mastodon_mapping import MastodonPayloadError, status_items
from connectors.sources.x_mapping import XPayloadError, tweet_items


def test_a_tweet_whose_entities_are_a_list_is_unmappable_not_a_crash() -> None:
    payload = {"data": {"id": "1", "text": "x", "created_at": "2021-09-06T05:00:00Z", "entities": [1]}}
    with pytest.raises(XPayloadError, match="unexpected type"):
        tweet_items(payload)
    with pytest.raises(XPayloadError):
        tweet_items(
            {"data": {"id": "1", "text": "x", "created_at": "2021-09-06T05:00:00Z"}, "includes": ["x"]}
        )


def test_a_status_with_fields_of_other_types_is_unmappable() -> None:
    boosted = {"id": "2", "created_at": "2021-09-06T05:00:00Z", "account": ["not a mapping"], "content": "x"}
    status = {"id": "1", "created_at": "2021-09-06T05:00:00Z", "account": {"acct": "a"}, "reblog": boosted}
    with pytest.raises(MastodonPayloadError):
        status_items(status, "h")
    status = {"id": "1", "created_at": "2021-09-06T05:00:00Z", "account": {"acct": "a"}, "in_reply_to_id": {}}
    assert status_items(status, "h")[0].reply_to is None


def test_an_xml_declaration_with_a_broken_encoding_name_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match=r"gave up|not a readable feed"):
        parse_feed(b"<?xml version='1.0' encoding='\xb2\xff'?><rss version='2.0'><channel></channel></rss>")


def test_a_json_feed_entry_with_a_numeric_url_is_a_feed_error() -> None:
    doc = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1, "url": 5, "title": "t"}]}'
    )
    with pytest.raises(FeedError, match="unexpected type"):
        entry_item(doc.entries[0], doc, feed_url="https://f.example/feed.json", outlet=None, now=0.0)


def test_a_malformed_marked_section_falls_back_to_stripping_tags() -> None:
    from connectors.sources.html_text import html_text

    text, links = html_text("<p>Before</p><![\x00\x00>CDATA[<p\x00>after &amp; more")
    assert text.startswith("Before") and "after & more" in text and links == ()
