"""Exception tree of the ``streams`` package.

::

    StreamsError
     ├── InvalidItem        an input record broke the item contract; goes to the dead-letter topic
     ├── ChangelogNotDelivered  a table write was not delivered; nothing committed past it, the worker stops
     ├── RegistryError      the source registry file cannot be used; fix the file and restart
     ├── PolicyError        the alert policy file cannot be used; fix the file and restart
     └── ModelError         the match model file cannot be used; retrain or point at a good one

Only errors an operator must act on carry a long docstring.
"""

from __future__ import annotations

__all__ = [
    "ChangelogNotDelivered",
    "InvalidItem",
    "ModelError",
    "PolicyError",
    "RegistryError",
    "StreamsError",
]


class StreamsError(Exception):
    """Root of every error raised by ``streams``."""


class InvalidItem(StreamsError):
    """An item broke the contract.

    ``reason`` is short and stable enough to group on (it becomes the
    ``x-error-reason`` header of the dead-letter record); ``detail`` says which
    field and what was found, so a partner can fix their feed.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ChangelogNotDelivered(StreamsError):
    """Table changelog records were not delivered, so offsets behind them are not committed.

    The worker stops instead of committing past state it could not save; the
    events after the last commit are replayed when it is restarted. Look at the
    broker (reachable? the changelog topic there? record too large?): the first
    failure is in the message.
    """

    def __init__(self, failed: int, first: BaseException) -> None:
        self.failed = failed
        self.first = first
        super().__init__(f"{failed} changelog record(s) not delivered; first: {first!r}")


class RegistryError(StreamsError):
    """The source registry could not be loaded.

    The service refuses to start rather than weigh every source as unknown.
    Fix the file named in the message (TOML syntax, unknown ``kind``, weight
    outside 0..1) and restart.
    """


class ModelError(StreamsError):
    """A match or stance model file could not be used.

    The message names the file and what is wrong with it; a model trained on a
    different feature list or classes must be retrained with
    ``bench/train_matcher.py`` or ``bench/train_stance.py``.
    """


class PolicyError(StreamsError):
    """The alert policy file could not be used.

    The message names the file, the table and the key; fix it and restart:
    running with a default policy the operator did not choose would raise
    alerts at the wrong thresholds.
    """
