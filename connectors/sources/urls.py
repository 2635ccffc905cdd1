"""Canonical article URLs, so that one article reached by two links is one entry.

Why these rules: syndication and social sharing add tracking parameters
(``utm_*``, ``fbclid``...), fragments, ``www.`` and trailing slashes to the
same article; none of them changes what is published at the address.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["canonical_url"]

_TRACKING = frozenset(
    {"fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "ref", "ref_src", "cmpid", "smid", "ito"}
)


def canonical_url(url: str) -> str:
    """``HTTPS://www.Example.org/a/?utm_source=x&id=2#top`` -> ``https://example.org/a?id=2``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url.strip()
    host = parts.hostname.lower()
    host = host[4:] if host.startswith("www.") else host
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    ]
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))
