"""HMAC-SHA256 signatures on webhook deliveries, and how a receiver checks them.

Why timestamp *and* body: signing the body alone lets anyone who saw one
delivery replay it for ever; with the time in the signed string a receiver
refuses anything older than a few minutes.

Header ``X-Corroborate-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
``HMAC_SHA256(secret, f"{t}.".encode() + body)``. A receiver:

1. reads ``t`` and ``v1`` from the header;
2. refuses if ``|now - t|`` is over 300 s;
3. computes the HMAC over the raw body bytes as received (not re-serialised JSON);
4. compares with ``hmac.compare_digest``.

``Idempotency-Key`` carries the alert id (``cluster:version``): a receiver that
keeps the ids it has handled turns our retries into exactly-once.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_SECONDS", "sign", "verify"]

SIGNATURE_HEADER = "X-Corroborate-Signature"
TOLERANCE_SECONDS = 300.0


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """The receiver's check: a well-formed header, recent, and the HMAC matches."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
