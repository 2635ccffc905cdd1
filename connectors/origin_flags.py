"""What an analyst must be told about an origin, in words, for every sink.

Why one place: the console, Slack and any later sink must flag the same
things (a party's support is not independent confirmation; identical posts
from many accounts may be coordinated); two lists drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["origin_flags"]


def origin_flags(origin: Mapping[str, Any]) -> list[str]:
    flags = []
    if origin.get("party"):
        flags.append(f"party to {origin['party']}: not independent confirmation")
    if origin.get("cited_only"):
        flags.append("cited by others")
    if origin.get("coordinated"):
        flags.append("possible coordination")
    if origin.get("via_cluster"):
        flags.append(f"backs contradicting claim {origin['via_cluster']}")
    return flags
