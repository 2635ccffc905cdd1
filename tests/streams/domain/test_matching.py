from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.domain.clustering import ClusterConfig
from streams.domain.encoder import load_encoder
from streams.domain.matching import MatchConfig, SimilarityScorer, claim_similarity, load_model
from streams.domain.normalise import normalise
from streams.domain.pair_features import FEATURE_NAMES, Signature, pair_features
from streams.errors import ModelError
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
    bulk = scorer.score_many(Signature.of(qn), [Signature.of(normalise(c)) for c in cands])
    ref = [claim_similarity(qn, normalise(c)) for c in cands]
    assert bulk == pytest.approx(ref)


def test_the_lexical_model_runs_without_the_encoder_and_a_cosine_model_needs_it() -> None:
    lexical = MatchConfig.lexical()
    assert lexical.encoder is None and not lexical.model.uses_cosine
    a = normalise("Pakistani jets are bombing the Panjshir valley")
    assert claim_similarity(a, a, lexical) >= lexical.threshold
    with pytest.raises(ModelError, match="needs the encoder"):
        MatchConfig(model=load_model(), encoder=None)


def test_a_cosine_model_is_refused_beside_an_encoder_it_was_not_fitted_on() -> None:
    with pytest.raises(ModelError, match="retrain it with bench/train_matcher"):
        MatchConfig(model=load_model(), encoder=load_encoder(adapted=True))
    with pytest.raises(ModelError, match="adapter lora-1, this encoder has None"):
        MatchConfig(model=load_model(adapted=True), encoder=load_encoder())


def test_the_adapted_matcher_keeps_a_rewording_and_parts_a_topic_neighbour() -> None:
    config = MatchConfig(model=load_model(adapted=True), encoder=load_encoder(adapted=True))
    claim = normalise("Pakistani aircraft are bombing the Panjshir valley")
    reworded = normalise("Pakistan air force jets strike Panjshir valley")
    neighbour = normalise("Panjshir valley residents prepare for the harvest")
    assert claim_similarity(claim, reworded, config) >= config.threshold
    assert claim_similarity(claim, neighbour, config) < config.threshold


def test_the_cosine_lifts_a_rewording_the_strings_miss() -> None:
    """Two wordings of one claim that share few words: the sentence vectors see they agree."""
    scorer = SimilarityScorer()
    a = Signature.of(normalise("Pakistani aircraft are bombing the Panjshir valley"))
    b = Signature.of(normalise("Pakistan air force jets strike Panjshir"))
    c = Signature.of(normalise("Panjshir valley residents prepare for the harvest"))
    assert scorer.score(a, b) > scorer.score(a, c)


@given(words, words)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = claim_similarity(normalise(a), normalise(b))
    assert 0.0 <= s <= 1.0
    assert s == pytest.approx(claim_similarity(normalise(b), normalise(a)))


@given(words, words)
def test_features_are_symmetric(a: str, b: str) -> None:
    sa, sb = Signature.of(normalise(a)), Signature.of(normalise(b))
    assert list(pair_features(sa, sb, 3)) == pytest.approx(list(pair_features(sb, sa, 3)))
    assert len(pair_features(sa, sb, 3)) == len(FEATURE_NAMES)


@given(st.lists(st.sampled_from(["panjshir", "taliban", "pakistani", "jets", "bomb", "valley"]), min_size=3))
def test_a_text_matches_itself_and_the_strings_match_its_reordering(tokens: list[str]) -> None:
    # Only the string features are blind to order: "taliban bomb pakistani jets" and
    # "jets pakistani bomb taliban" say different things, and the sentence vectors see it.
    text = " ".join(tokens)
    same = normalise(text)
    assert claim_similarity(same, same) >= MatchConfig().threshold
    lexical = MatchConfig.lexical()
    assert claim_similarity(same, normalise(" ".join(reversed(tokens))), lexical) >= lexical.threshold


def test_signature_survives_its_wire_form() -> None:
    sig = Signature.of(normalise("Pakistani jets bombed 3 positions in Panjshir valley"))
    again = Signature.from_strings(sig.match, sig.full, sig.numbers, sig.entities)
    assert again == sig


def test_a_model_for_other_features_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.json"
    bad.write_text('{"version": "x", "features": ["a"], "weights": [1.0], "bias": 0, "threshold": 0.5}')
    with pytest.raises(ModelError, match="retrain"):
        load_model(str(bad))
    bad.write_text("not json")
    with pytest.raises(ModelError, match="not a valid model"):
        load_model(str(bad))


def test_short_generic_texts_match_only_themselves() -> None:
    long = normalise("This is huge: Pakistani jets bombing the Panjshir valley resistance")
    assert claim_similarity(normalise("this is huge"), long) == 0.0
    assert claim_similarity(normalise("wow"), normalise("wow")) == 1.0  # identical only
    assert claim_similarity(normalise("wow"), normalise("wow amazing")) == 0.0


def test_a_name_is_shared_in_the_singular_and_the_plural_and_other_names_part() -> None:
    a = normalise("Israeli strike kills hundreds at Gaza hospital, Palestinian officials say")
    b = normalise("Israeli strike kills hundreds in hospital, Palestinians say")
    assert claim_similarity(a, b) >= ClusterConfig().merge_threshold
    texas, boston = (
        normalise("Praying for everyone in Texas tonight"),
        normalise("Praying for everyone in Boston tonight"),
    )
    assert claim_similarity(texas, boston) == 0.0


def test_denial_is_about_the_claim() -> None:
    claim = normalise("Taliban have captured Panjshir valley")
    denial = normalise("Taliban claims of capturing Panjshir valley are false")
    assert claim_similarity(claim, denial) >= MatchConfig().threshold


def test_different_predicates_on_the_same_place_stay_below_the_join_threshold() -> None:
    a = normalise("Taliban claim to have completely conquered Panjshir valley")
    b = normalise("Pakistani aircraft are bombing the resistance in Panjshir valley")
    assert claim_similarity(a, b) < ClusterConfig().join_threshold


def test_pit2015_dev_f1_floor() -> None:
    """Guards against regressions; the held-out figures come from ``make eval``."""
    path = shared_data("pit2015", "dev.data")
    config = MatchConfig()
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines()]
    rows = [f for f in rows if int(re.findall(r"\d+", f[4])[0]) != 2]
    pairs = [(normalise(f[2]), normalise(f[3])) for f in rows]
    # Encode every text in batches first (the cache holds them all), as the trainer does.
    config.encoder.embed_many([Signature.of(n).full for pair in pairs for n in pair])
    tp = fp = fn = 0
    for f, (a, b) in zip(rows, pairs, strict=True):
        same = claim_similarity(a, b, config) >= config.threshold
        truth = int(re.findall(r"\d+", f[4])[0]) >= 3
        tp += same and truth
        fp += same and not truth
        fn += (not same) and truth
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 > 0.66


def test_a_name_and_its_initials_are_one_name() -> None:
    from streams.domain.pair_features import Signature, different_names, spelled_out

    full = Signature.of(normalise("The floor of the New York Stock Exchange is under three feet of water"))
    short = Signature.of(normalise("Confirmed flooding at the NYSE trading floor tonight"))
    other = Signature.of(normalise("Confirmed flooding at the LSE trading floor tonight"))
    assert not different_names(full, short)
    assert different_names(full, other)
    assert spelled_out({"nyse"}, full.full) == {"new", "york", "stock", "exchange"}
    assert (
        claim_similarity(
            normalise(
                "BREAKING: Confirmed flooding on NYSE. The trading floor is flooded under 3 feet of water."
            ),
            normalise("The floor of the New York Stock Exchange is flooded under three feet of water"),
        )
        >= ClusterConfig().join_threshold
    )
