from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.domain.asserted import MIN_WORDS, asserted, claim_sentences
from streams.domain.cues import denies


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        (
            "Pakistani aircraft bombing resistance positions, sources tell CNN-News18",
            "Pakistani aircraft bombing resistance positions",
        ),
        (
            "Pakistani aircraft bombing resistance in Panjshir valley, according to a CNN-News18 report",
            "Pakistani aircraft bombing resistance in Panjshir valley",
        ),
        ("Two dead in the blast \u2013 Reuters reports", "Two dead in the blast"),
        ("Two dead in the blast, military sources told AFP.", "Two dead in the blast"),
        ("Two dead in the blast, via @afp, reported by Al Jazeera", "Two dead in the blast"),
        ("According to Reuters, two dead in the blast", "two dead in the blast"),
        ("KABUL, Sept 6 (Reuters) - Two dead in the blast", "Two dead in the blast"),
        ("KABUL, Afghanistan (AP) \u2014 Two dead in the blast", "Two dead in the blast"),
        ("NEW YORK (Reuters) - Two dead in the blast", "Two dead in the blast"),
        (
            "Taliban claim to have completely conquered Panjshir valley",
            "Taliban have completely conquered Panjshir valley",
        ),
    ],
)
def test_relays_and_reporting_frames_are_taken_out(text: str, claim: str) -> None:
    assert asserted(text) == claim


@pytest.mark.parametrize(
    "text",
    [
        # A speaker is who claims it, not a channel: the Taliban and the NRF stay.
        "Panjshir has been completely conquered, Taliban spokesman says",
        "Jets bomb Panjshir, says the NRF",
        # A reported clause is a claim of its own, not a speaker.
        "The NRF denies Taliban claims that Panjshir has fallen, says the fight will continue",
        # A denial of a reported claim: the frame is what is denied.
        "NRF denies Taliban claims that they have captured Panjshir",
        "NRF rejects as false Taliban claims to have captured Panjshir",
        "NRF dismisses Taliban claims to have captured Panjshir",
        # A pronoun after a reporting verb is often someone else: the frame stays.
        "Taliban say they have taken complete control of Panjshir province",
        "Donald Trump announces she will give speeches",
        # "sources say" ends a sentence; what follows it is not the relay.
        "Startup raises $160m series E, sources say at a $637m valuation",
        # Passive reporting is no frame; hyphens inside words are no dashes.
        "He is said to be in Kabul now",
        "Protest outside a well-known officials said",
        # A bracket after a name is no dateline unless the place is in capitals.
        "The NRF (National Resistance Front) - says the fight goes on",
        # A headline's topic before its colon is part of the claim.
        "Boston Marathon: two explosions near the finish line",
    ],
)
def test_what_is_no_attribution_is_left_alone(text: str) -> None:
    assert asserted(text) == text


def test_a_rewrite_that_leaves_almost_nothing_keeps_the_sentence() -> None:
    assert asserted("Confirmed, according to Reuters") == "Confirmed, according to Reuters"


def test_claim_sentences_split_then_take_attributions_out() -> None:
    assert claim_sentences("Jets bomb Panjshir, according to CNN. Taliban claim to have taken Bazarak.") == [
        "Jets bomb Panjshir",
        "Taliban have taken Bazarak.",
    ]


_WORDS = re.compile(r"\w+")


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(w in it for w in short)


@given(st.text(max_size=300))
def test_asserted_only_deletes_and_keeps_polarity(text: str) -> None:
    out = asserted(text)
    assert _is_subsequence(_WORDS.findall(out), _WORDS.findall(text))
    assert denies(out) == denies(text)
    assert out == text or len(_WORDS.findall(out)) >= MIN_WORDS


_CLAUSE = st.sampled_from(
    [
        "Pakistani jets are bombing Panjshir",
        "the fight will continue",
        "two dead in the blast",
        "Taliban claim to have taken the valley",
    ]
)
_ATTRIBUTION = st.sampled_from(
    ["", ", sources tell CNN-News18", ", according to Reuters", " - Reuters reports", ", via @afp"]
)


@given(_CLAUSE, _ATTRIBUTION)
def test_a_relay_never_changes_what_is_asserted(clause: str, tail: str) -> None:
    assert asserted(clause + tail) == asserted(clause)
