"""Exception tree of the composition root.

::

    CorroborateError
     ├── BrokerError        the embedded broker could not start or did not answer
     └── ConfigError        a setting is missing or malformed; the message names it
"""

from __future__ import annotations

__all__ = ["BrokerError", "ConfigError", "CorroborateError"]


class CorroborateError(Exception):
    """Root of every error raised by the ``corroborate`` package."""


class BrokerError(CorroborateError):
    """The embedded broker failed.

    The message names the binary, the port and the log file; read the log's
    last lines. Set ``KAFKA_BOOTSTRAP_SERVERS`` to use an external Kafka instead.
    """


class ConfigError(CorroborateError):
    """A setting is missing or malformed; fix the named environment variable or file."""
