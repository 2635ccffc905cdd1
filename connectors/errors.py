"""Exception tree of the ``connectors`` package.

::

    ConnectorError
     └── SourceError        a source cannot be read (file missing, unreadable); the message names it
"""

from __future__ import annotations

__all__ = ["ConnectorError", "SourceError"]


class ConnectorError(Exception):
    """Root of every error raised by ``connectors``."""


class SourceError(ConnectorError):
    """A source could not be read; the message names the file or endpoint."""
