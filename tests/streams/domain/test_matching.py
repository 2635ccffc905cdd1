from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.domain.matching import MatchConfig, SimilarityScorer, claim_similarity, match_text
from streams.domain.normalise import normalise
from tests.conftest import shared_data

words = st.lists(
    st.sampled_from(
        [
            "panjshir",
            "taliban",
            "pakistani",
            "jets",
            "bomb",
            "valley",
            "resistance",
            "kabul",
            "fell",
            "claims",
            "ok",
        ]
    ),
    min_size=0,
    max_size=12,
).map(" ".join)


@given(words, st.lists(words, max_size=6))
def test_bulk_scorer_agrees_with_reference(query: str, cands: list[str]) -> None:
    scorer = SimilarityScorer()
    qn = normalise(query)
    bulk = scorer.score_many(match_text(qn), [match_text(normalise(c)) for c in cands])
    ref = [claim_similarity(qn, normalise(c)) for c in cands]
    assert bulk == pytest.approx(ref)


@given(words, words)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = claim_similarity(normalise(a), normalise(b))
    assert 0.0 <= s <= 1.0
    assert s == pytest.approx(claim_similarity(normalise(b), normalise(a)))


def test_short_generic_texts_match_only_themselves() -> None:
    long = normalise("This is huge: Pakistani jets bombing the Panjshir valley resistance")
    assert claim_similarity(normalise("this is huge"), long) == 0.0
    assert claim_similarity(normalise("wow"), normalise("wow")) == 1.0  # identical only
    assert claim_similarity(normalise("wow"), normalise("wow amazing")) == 0.0


def test_denial_is_about_the_claim() -> None:
    claim = normalise("Taliban have captured Panjshir valley")
    denial = normalise("Taliban claims of capturing Panjshir valley are false")
    assert claim_similarity(claim, denial) >= MatchConfig().threshold


def test_different_predicates_on_the_same_place_do_not_match() -> None:
    a = normalise("Taliban claim to have completely conquered Panjshir valley")
    b = normalise("Pakistani aircraft are bombing the resistance in Panjshir valley")
    assert claim_similarity(a, b) < MatchConfig().threshold


def test_pit2015_dev_f1_floor() -> None:
    """Guards against regressions; the figures themselves come from ``make eval``-style runs."""
    path = shared_data("pit2015", "dev.data")
    tp = fp = fn = 0
    for line in path.read_text("utf-8").splitlines():
        f = line.split("\t")
        pos, _neg = map(int, re.findall(r"\d+", f[4]))
        if pos == 2:
            continue
        same = claim_similarity(normalise(f[2]), normalise(f[3]), MatchConfig(threshold=0.5)) >= 0.5
        truth = pos >= 3
        tp += same and truth
        fp += same and not truth
        fn += (not same) and truth
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 > 0.55
