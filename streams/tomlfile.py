"""Reading an operator's TOML file, with an error that names the file and what is wrong.

Why one helper: every configuration file (alert policy, delivery routes) must
fail the same way, naming the file, for an unreadable file or bad TOML, in
the caller's own exception class so each package keeps its error root.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = ["read_toml"]


def read_toml(path: Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The TOML at ``path``; ``error("cannot read <what> <path>: ...")`` if it cannot be had."""
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {exc}") from exc
