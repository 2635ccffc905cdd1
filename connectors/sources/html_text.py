"""Text and links out of the HTML that feeds and Mastodon put in their payloads.

Why the stdlib parser and not a regex: entities, comments, ``<script>`` and
unclosed tags are what real feeds contain, and ``html.parser`` handles them.
It does raise on a few malformed declarations (``<![`` followed by junk, an
``AssertionError`` found by fuzzing); those fall back to stripping tags.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["html_text"]

_BLOCK = frozenset({"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"})
_SKIP = frozenset({"script", "style", "noscript", "template"})
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>?")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.startswith(("http://", "https://")):
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> tuple[str, tuple[str, ...]]:
    """Visible text (whitespace collapsed) and the http(s) links of ``markup``."""
    if "<" not in markup:
        return _SPACE.sub(" ", html.unescape(markup)).strip(), ()
    parser = _Extractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):
        return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip(), ()
    return _SPACE.sub(" ", "".join(parser.parts)).strip(), tuple(dict.fromkeys(parser.links))
