"""The console sink's text: what an analyst reads first."""

from __future__ import annotations

import dataclasses

from connectors.console import format_alert
from tests.connectors.delivery.test_blocks import _alert


def test_the_headline_says_how_many_supporters_are_not_independent() -> None:
    parties_only = dataclasses.replace(_alert(), state="CONTESTED", independent_origins=0, support_origins=1)
    head = format_alert(parties_only).splitlines()[0]
    assert "0 independent origin(s) supporting (1 in all, weight 2.30)" in head
    assert "in all" not in format_alert(_alert()).splitlines()[0]


def test_a_contradicting_claim_is_named_by_its_text() -> None:
    assert "contradicted by claim c2 (negation): Panjshir has not fallen" in format_alert(_alert())
