"""Exception tree of the ``connectors`` package.

::

    ConnectorError
     ├── SourceError          a source cannot be read (file missing, unreadable); the message names it
     ├── SourceConfigError    the connectors file is wrong; the message names the source and the key
     └── DeliveryConfigError  the delivery file is wrong; the message names the entry and the key
"""

from __future__ import annotations

__all__ = ["ConnectorError", "DeliveryConfigError", "SourceConfigError", "SourceError"]


class ConnectorError(Exception):
    """Root of every error raised by ``connectors``."""


class SourceError(ConnectorError):
    """A source could not be read; the message names the file or endpoint."""


class DeliveryConfigError(ConnectorError):
    """The delivery configuration cannot be used: which entry, which key, and what to do.

    Never carries a credential's value, only the name of the variable or file.
    """


class SourceConfigError(ConnectorError):
    """The connectors configuration cannot be used: which source, which key, and what to do.

    Never carries a credential's value, only the name of the variable or file.
    """
