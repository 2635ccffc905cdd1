"""A bounded memory of the keys a source has already produced.

Why bounded and ordered: sources repeat themselves near their present (a feed
shows its last 20 entries on every poll, X backfills the last minutes after a
reconnect, Mastodon's catch-up overlaps its stream), never from far back; so
the newest few thousand keys are enough, and they fit in a checkpoint record.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

__all__ = ["RecentKeys"]


class RecentKeys:
    def __init__(self, cap: int, keys: Iterable[str] = ()) -> None:
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.cap = cap
        self._keys: OrderedDict[str, None] = OrderedDict()
        for key in keys:
            self.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.cap:
            self._keys.popitem(last=False)

    def any_of(self, keys: Iterable[str]) -> bool:
        return any(k in self._keys for k in keys)

    def to_list(self) -> list[str]:
        return list(self._keys)
