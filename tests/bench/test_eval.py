from __future__ import annotations

from bench.datasets import LabelledPair
from bench.eval import stream_judges_against

CLAIM = "The Taliban have captured the Panjshir valley"


def test_the_stream_reading_of_a_debunk_goes_through_the_stream_s_own_paths() -> None:
    pairs = [
        LabelledPair("g", CLAIM, "The Taliban have not captured the Panjshir valley", "CONTRADICTION"),
        LabelledPair("g", CLAIM, "Taliban fighters captured the Panjshir valley today", "OTHER"),
        LabelledPair("g", CLAIM, "Heavy rain expected in Kabul this weekend", "OTHER"),
    ]
    got = stream_judges_against(pairs)
    assert (got["precision"], got["recall"]) == (1.0, 1.0), got
    assert got["paths"].get("below the link bar") == 1, got
    assert sum(got["paths"].values()) == 3
