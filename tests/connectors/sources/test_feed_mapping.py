from __future__ import annotations

import pytest

from connectors.sources.feed_mapping import FeedError, entry_item, parse_feed
from connectors.sources.html_text import html_text
from connectors.sources.urls import canonical_url
from tests.connectors.sources.feed_server import Article, _atom, _json, _rss

ART = Article(
    4,
    "Taliban claim Panjshir &amp; resistance denies",
    "<p>The Taliban said on Monday they had <b>completely conquered</b> Panjshir.</p>"
    "<script>track()</script><p>Reported by <a href='https://www.news18.com/story/1?utm_source=tw'>CNN-News18</a>.</p>",
    "https://www.wire.example/world/panjshir-4/?utm_medium=rss#top",
)


@pytest.mark.parametrize("render", [_rss, _atom, _json])
def test_each_format_gives_one_clean_item_with_outlet_link_and_time(render: object) -> None:
    doc = parse_feed(render([ART]))  # type: ignore[operator]
    assert len(doc.entries) == 1
    item = entry_item(doc.entries[0], doc, feed_url="https://feeds.example/x", outlet=None, now=0.0)
    assert item is not None
    assert item.text.startswith("Taliban claim Panjshir & resistance denies. The Taliban said on Monday")
    assert "track()" not in item.text and "<" not in item.text
    assert item.created_at == 1630904640.0  # 2021-09-06T05:04:00Z
    assert item.urls == ("https://www.news18.com/story/1?utm_source=tw",)
    assert item.outlet in {"wire.example", "daily.example", "blog.example"}
    assert item.platform == "news" and item.url is not None


def test_the_same_article_in_two_formats_is_one_item_id() -> None:
    ids = set()
    for render in (_rss, _atom, _json):
        doc = parse_feed(render([ART]))
        item = entry_item(
            doc.entries[0], doc, feed_url=f"https://feeds.example/{render.__name__}", outlet=None, now=0
        )
        assert item is not None
        ids.add(item.id)
    assert len(ids) == 1


def test_invalid_documents_are_refused_with_the_reason() -> None:
    with pytest.raises(FeedError, match=r"not a readable feed|not RSS"):
        parse_feed(b"<html><body><p>Service page, no feed")
    with pytest.raises(FeedError, match="jsonfeed"):
        parse_feed(b'{"items": []}')
    with pytest.raises(FeedError, match="not JSON"):
        parse_feed(b"{not json", "application/feed+json")


def test_a_feed_with_broken_xml_but_readable_entries_is_kept_and_flagged() -> None:
    body = _rss([ART]).replace(b"</channel>", b"<oops></channel>")
    doc = parse_feed(body)
    assert len(doc.entries) == 1 and not doc.wellformed


def test_canonical_urls_drop_tracking_and_cosmetics() -> None:
    assert (
        canonical_url("HTTP://www.Example.org/a/?utm_source=x&id=2&fbclid=z#top")
        == "https://example.org/a?id=2"
    )
    assert canonical_url("https://example.org/a") == canonical_url("https://example.org/a/")
    assert canonical_url("mailto:desk@example.org") == "mailto:desk@example.org"


def test_html_text_keeps_words_and_links_and_survives_broken_markup() -> None:
    text, links = html_text("<p>One<br>two &lt;3 <a href='https://x.example/a'>link</a><div unclosed")
    assert text.startswith("One two <3 link") and links == ("https://x.example/a",)
    assert html_text("plain &amp; simple") == ("plain & simple", ())
