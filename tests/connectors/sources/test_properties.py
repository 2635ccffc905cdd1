from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors.sources.html_text import html_text
from connectors.sources.sse import EventParser
from connectors.sources.urls import canonical_url

_hosts = st.from_regex(r"(www\.)?[a-z]{1,10}\.(com|org|example)", fullmatch=True)
_paths = st.lists(st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True), max_size=4)
_params = st.lists(
    st.tuples(st.sampled_from(["id", "p", "utm_source", "fbclid", "q"]), st.text("abc123", max_size=4)),
    max_size=4,
)


@given(st.sampled_from(["http", "https", "HTTPS"]), _hosts, _paths, _params, st.booleans())
def test_canonical_urls_are_stable_and_drop_tracking(
    scheme: str, host: str, path: list[str], params: list[tuple[str, str]], slash: bool
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = (
        f"{scheme}://{host}/{'/'.join(path)}{'/' if slash else ''}" + (f"?{query}" if query else "") + "#frag"
    )
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_" not in once and "fbclid" not in once and "#" not in once and "://www." not in once


@given(st.text(max_size=300))
def test_html_text_never_fails_and_collapses_whitespace(markup: str) -> None:
    text, links = html_text(markup)
    assert "  " not in text and text == text.strip()
    assert all(link.startswith(("http://", "https://")) for link in links)


_field = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=30
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["update", "delete", "status.update"]), st.lists(_field, min_size=1, max_size=3)
        ),
        max_size=10,
    ),
    st.lists(_field.map(lambda c: ":" + c), max_size=3),
)
def test_events_written_in_the_sse_format_are_read_back_whole(
    events: list[tuple[str, list[str]]], comments: list[str]
) -> None:
    parser = EventParser()
    lines = list(comments)
    for name, data in events:
        lines += [f"event: {name}", *(f"data: {d}" for d in data), ""]
    got = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert [(e.event, e.data) for e in got] == [(n, "\n".join(d)) for n, d in events]
    assert parser.comments == len(comments)
