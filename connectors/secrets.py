"""Credentials named in configuration files, read from the environment or a file.

Why never literal in the file: configuration lives in repositories and
tickets, while a webhook URL or an API token is a credential. An entry names
the variable (``token_env``) or the file (``token_file``, e.g. a mounted
Kubernetes secret) that holds it; the value is wrapped in :class:`Secret` so
that it prints as ``***`` in reprs, logs and errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError

__all__ = ["Secret", "read_secret"]


class Secret:
    """A credential that never shows itself: ``repr``/``str`` are ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def read_secret(
    raw: Mapping[str, Any],
    key: str,
    env: Mapping[str, str],
    where: str,
    error: type[ConnectorError],
) -> Secret | None:
    """``key_env`` or ``key_file`` of ``raw``; a literal ``key`` is refused. Errors never hold the value."""
    if key in raw:
        raise error(
            f"{where}: '{key}' is a credential and must not be written in the file; "
            f"use {key}_env (a variable's name) or {key}_file (a file's path)"
        )
    var, path = raw.get(f"{key}_env"), raw.get(f"{key}_file")
    if var is not None:
        value = env.get(str(var), "")
        if not value:
            raise error(f"{where}: environment variable {var} (for {key}) is not set")
        return Secret(value.strip())
    if path is not None:
        try:
            return Secret(Path(str(path)).read_text("utf-8").strip())
        except OSError as exc:
            raise error(f"{where}: cannot read {key}_file {path}: {exc.strerror}") from exc
    return None
