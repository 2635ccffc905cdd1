from __future__ import annotations

import pytest

from streams.domain.stance import Stance, classify_stance


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("Taliban claims of capturing Panjshir are false", Stance.DENY),
        ("Panjshir has not fallen. The fight will continue", Stance.DENY),
        ("NRF denies the reports", Stance.DENY),
        ("This is fake news", Stance.DENY),
        ("Is it true that Pakistani jets are bombing Panjshir?", Stance.QUERY),
        ("Pakistani jets are bombing Panjshir", Stance.SUPPORT),
        ("Reportedly Pakistani jets are bombing Panjshir", Stance.SUPPORT),
        ("This is not fake, Pakistani jets are bombing Panjshir", Stance.SUPPORT),
    ],
)
def test_cues(text: str, stance: Stance) -> None:
    assert classify_stance(text).stance is stance


def test_off_topic_posts_are_comments_whatever_their_words() -> None:
    assert classify_stance("That is fake", relevance=0.1).stance is Stance.COMMENT
