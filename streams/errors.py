"""Exception tree of the ``streams`` package.

::

    StreamsError
     ├── InvalidItem        an input record broke the item contract; goes to the dead-letter topic
     ├── RegistryError      the source registry file cannot be used; fix the file and restart
     └── ModelError         the match model file cannot be used; retrain or point at a good one

Only errors an operator must act on carry a long docstring.
"""

from __future__ import annotations

__all__ = ["InvalidItem", "ModelError", "PolicyError", "RegistryError", "StreamsError"]


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
