"""Stage records on the claims topic: what a link carries, and links written before it did."""

from __future__ import annotations

import orjson

from streams.messages import ClusterLink, decode_claims_record


def test_a_link_carries_the_two_clashing_texts_through_the_topic() -> None:
    link = ClusterLink(
        "c1", "c2", "negation", 0.55, ("a", "b"), ("Panjshir has fallen", "Panjshir has not fallen")
    )
    assert decode_claims_record(link.to_json()) == link


def test_a_link_written_before_texts_were_carried_still_decodes() -> None:
    old = {"v": 1, "kind": "link", "cluster_id": "c1", "other": "c2", "cue": "negation", "score": 0.5}
    decoded = decode_claims_record(orjson.dumps({**old, "items": ["a", "b"]}))
    assert decoded == ClusterLink("c1", "c2", "negation", 0.5, ("a", "b"), ("", ""))
