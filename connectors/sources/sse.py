"""Server-sent events (the WHATWG ``text/event-stream`` format), line by line.

Why a parser of our own: the format is ten lines of rules, and the stream
reader must own reconnection and stall detection anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Event", "EventParser"]


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    data: str
    id: str | None = None


class EventParser:
    """Feed it lines (without their end-of-line); it returns an event at each blank line."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.comments = 0
        """Comment lines seen (Mastodon's ``:thump`` heartbeat is one)."""

    def feed(self, line: str) -> Event | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = Event(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            self.comments += 1
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None
