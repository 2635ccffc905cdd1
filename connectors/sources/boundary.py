"""Where outside payloads become items: any surprise in their shape is the source's own error.

Why a decorator at the mappers and not ``except Exception`` in every connector:
a payload whose fields have types its format does not allow (an ``entities``
list, a numeric URL) makes plain Python raise AttributeError, TypeError,
KeyError or ValueError deep in a mapper; fuzzing found each of these ending a
source. Turned into the mapper's documented error at its edge, they reach the
connector as one more bad payload: counted, dead-lettered, and the stream goes on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["shapes_checked"]

P = ParamSpec("P")
R = TypeVar("R")


def shapes_checked(error: type[Exception], what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Raise ``error("<what> of unexpected type or value (...)")`` for shape errors inside the call."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except error:
                raise
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                raise error(f"{what} of unexpected type or value ({type(exc).__name__}: {exc})") from None

        return checked

    return wrap
