from __future__ import annotations

from connectors.delivery.signing import sign, verify

SECRET = b"s3cret"
BODY = b'{"alert_id": "c1:2"}'


def test_a_signature_verifies_with_the_documented_recipe() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    assert header.startswith("t=1700000000,v1=")
    assert verify(SECRET, header, BODY, now=1_700_000_100)


def test_tampering_an_old_signature_or_the_wrong_secret_fails() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    assert not verify(SECRET, header, BODY + b" ", now=1_700_000_000)
    assert not verify(SECRET, header, BODY, now=1_700_000_000 + 301)
    assert not verify(b"other", header, BODY, now=1_700_000_000)
    assert not verify(SECRET, "garbage", BODY, now=1_700_000_000)
