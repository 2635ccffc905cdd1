"""Splitting a streamed HTTP body into complete lines.

Why not ``httpx.Response.aiter_lines``: at the end of a body it yields the
unterminated remainder as a line. On a stream that was cut mid-line that
remainder is half a payload, not a malformed one: it must be dropped (the
source sends it again after the reconnect), not dead-lettered as bad input.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["MAX_LINE_BYTES", "LineTooLong", "complete_lines"]

MAX_LINE_BYTES = 4 * 1024 * 1024


class LineTooLong(ValueError):
    pass


async def complete_lines(
    chunks: AsyncIterable[bytes], *, max_bytes: int = MAX_LINE_BYTES
) -> AsyncIterator[bytes]:
    """Lines ending in ``\\n`` (without it, and without a ``\\r``); a trailing fragment is not yielded."""
    pending = bytearray()
    async for chunk in chunks:
        pending.extend(chunk)
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                break
            line = bytes(pending[:cut]).rstrip(b"\r")
            del pending[: cut + 1]
            yield line
        if len(pending) > max_bytes:
            raise LineTooLong(f"a line longer than {max_bytes} bytes")
