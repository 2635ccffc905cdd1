from __future__ import annotations

from typing import Any

from connectors.delivery.blocks import HEADER_MAX, MESSAGE_BUDGET, alert_message, blocks_size, truncate
from streams.messages import Alert
from tests.connectors.slack_server import block_errors


def _origin(n: int, stance: str = "support", echoes: int = 0) -> dict[str, Any]:
    return {
        "origin_id": f"o{n}",
        "source": f"source-{n}-" + "x" * 40,
        "kind": "journalist",
        "weight": 0.6,
        "party": None,
        "stance": stance,
        "root_item": f"tw:{n}",
        "items": [f"tw:{n}"],
        "echoes": [{"item": f"rt:{n}:{e}", "reason": f"retweet of tw:{n}"} for e in range(echoes)],
        "coordinated": False,
        "via_cluster": None,
    }


def _alert(
    claim: str = "Pakistani jets are bombing Panjshir", origins: list[dict[str, Any]] | None = None
) -> Alert:
    return Alert(
        cluster_id="c1",
        version=3,
        state="CORROBORATED",
        claim=claim,
        independent_origins=4,
        support_origins=4,
        deny_origins=0,
        support_weight=2.3,
        deny_weight=0.0,
        items_total=12,
        first_seen=1630904400.0,
        last_seen=1630908000.0,
        caused_by="tw:1",
        origins=origins if origins is not None else [_origin(1, echoes=2), _origin(2, "deny")],
        contradicting=[
            {"cluster_id": "c2", "claim": "Panjshir has not fallen", "cue": "negation", "score": 0.6}
        ],
    )


def test_an_ordinary_alert_is_a_message_slack_accepts() -> None:
    message = alert_message(_alert())
    assert block_errors(message.payload()) is None
    text = str(message.blocks)
    assert "Pakistani jets" in text and "retweet of tw:1" in text and "Contradicted by claim `c2`" in text
    assert message.blocks[0]["type"] == "header"


def test_huge_claims_and_hundreds_of_origins_are_cut_to_slacks_limits() -> None:
    alert = _alert(claim="Panjshir " * 2000, origins=[_origin(n, echoes=20) for n in range(300)])
    message = alert_message(alert)
    assert block_errors(message.payload()) is None
    assert blocks_size(message.blocks) <= MESSAGE_BUDGET
    assert len(message.blocks[0]["text"]["text"]) <= HEADER_MAX
    assert "more origin(s)" in str(message.blocks)


def test_mrkdwn_control_characters_are_escaped() -> None:
    message = alert_message(_alert(claim="<!channel> jets & drones <https://evil|x>"))
    claim_text = message.blocks[1]["text"]["text"]
    assert "<!channel>" not in claim_text and "&lt;!channel&gt;" in claim_text and "&amp;" in claim_text


def test_truncate_marks_the_cut() -> None:
    assert truncate("abcdef", 10) == "abcdef"
    assert truncate("abcdef", 4) == "abc…" and len(truncate("x" * 5000, 3000)) == 3000


def test_origins_link_to_their_posts_where_the_item_had_a_url() -> None:
    import dataclasses

    alert = dataclasses.replace(
        _alert(),
        evidence=[
            {"item": "tw:1", "url": "https://twitter.com/a/status/1"},
            {"item": "tw:2", "url": "javascript:alert(1)"},
        ],
    )
    text = str(alert_message(alert).blocks)
    assert "<https://twitter.com/a/status/1|tw:1>" in text and "javascript" not in text


def test_a_merged_alert_says_where_the_claim_went() -> None:
    import dataclasses

    message = alert_message(dataclasses.replace(_alert(), state="merged", merged_into="c0"))
    assert block_errors(message.payload()) is None
    assert "Same claim as `c0`" in str(message.blocks) and "c1:3" in str(message.blocks[-1])
