from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.domain.cues import hedges
from streams.domain.registry import load_registry
from streams.domain.stance import (
    STANCE_CLASSES,
    Stance,
    StanceModel,
    classify_stance,
    default_stance_model,
    load_stance_model,
)
from streams.errors import ModelError

CLAIM = "The Taliban have captured Panjshir valley"


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("Taliban claims of capturing Panjshir are false", Stance.DENY),
        ("Panjshir has not fallen. The fight will continue", Stance.DENY),
        ("NRF denies the reports that the Taliban captured Panjshir", Stance.DENY),
        ("This is fake news", Stance.DENY),
        ("Is it true that the Taliban have captured Panjshir valley?", Stance.QUERY),
        ("Taliban have captured the Panjshir valley, officials say", Stance.SUPPORT),
        ("This is not fake, the Taliban have captured Panjshir valley", Stance.SUPPORT),
    ],
)
def test_cues_toward_a_claim(text: str, stance: Stance) -> None:
    assert classify_stance(text, target=CLAIM).stance is stance


def test_the_claim_itself_supports_itself_unless_it_asks() -> None:
    assert classify_stance(CLAIM).stance is Stance.SUPPORT
    assert classify_stance("Are Pakistani jets bombing Panjshir?").stance is Stance.QUERY


def test_a_post_opening_with_the_claim_as_a_question_asks_whatever_follows() -> None:
    post = "Have the Taliban really captured Panjshir valley? I can't find anything from a real outlet."
    assert classify_stance(post, target=CLAIM, relevance=0.8).stance is Stance.QUERY
    assert classify_stance(post).stance is Stance.QUERY
    statement = "The Taliban have captured Panjshir valley. Who saw this coming? Nobody."
    assert classify_stance(statement, target=CLAIM, relevance=0.8).stance is Stance.SUPPORT
    # A reply opens by addressing someone; a Spanish question is marked where it opens.
    reply = "@nrfafg Have the Taliban really captured Panjshir valley? Nobody here has heard of it."
    assert classify_stance(reply, target=CLAIM, relevance=0.8).stance is Stance.QUERY
    frida = "Frida Sofía sigue con vida bajo los escombros del Colegio Rébsamen"
    spanish = "@noticieros_tv ¿Es cierto lo de Frida Sofía? Ninguna mamá de la escuela la conoce"
    assert classify_stance(spanish, target=frida, relevance=0.8).stance is Stance.QUERY


def test_against_a_claim_that_is_itself_a_denial_polarity_flips() -> None:
    denial = "Reports of Panjshir's fall are fake, Panjshir has not fallen"
    assert classify_stance("NRF denies that Panjshir has fallen", target=denial).stance is Stance.SUPPORT
    got = classify_stance("Panjshir has fallen to the Taliban", target=denial, relevance=0.8)
    assert got.stance is Stance.DENY
    assert "asserts what the claim denies" in got.cue
    # A correction that negates in its own words agrees with the denial.
    fixed = "Correction: the Taliban have not captured Panjshir, an earlier report was wrong"
    assert classify_stance(fixed, target=denial, relevance=0.8).stance is Stance.SUPPORT
    # Asking whether what the denial denies is so asserts nothing: a query, not a denial.
    asked = classify_stance("Wait, has Panjshir really fallen to the Taliban?", target=denial, relevance=0.8)
    assert asked.stance is Stance.QUERY


def test_off_topic_posts_are_comments_whatever_their_words() -> None:
    assert classify_stance("That is fake", target=CLAIM, relevance=0.1).stance is Stance.COMMENT


def test_a_reply_chatting_under_a_claim_is_a_comment_and_says_why() -> None:
    got = classify_stance("@user lol my cousin lives there, stay safe everyone", target=CLAIM)
    assert got.stance is Stance.COMMENT
    assert got.cue and 0.0 < got.score <= 1.0


def test_the_shipped_model_is_the_trainers_format(tmp_path: Path) -> None:
    model = default_stance_model()
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "version": model.version,
                "classes": list(STANCE_CLASSES),
                "offsets": list(model.offsets),
                "weights": {k: list(v) for k, v in model.weights.items()},
            }
        )
    )
    again = load_stance_model(path)
    assert again == model


def test_a_model_with_other_classes_or_bad_numbers_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"version": "x", "classes": ["a", "b"], "offsets": [1, 1, 1, 1], "weights": {}})
    )
    with pytest.raises(ModelError, match="retrain"):
        load_stance_model(bad)
    bad.write_text(
        json.dumps({"version": "x", "classes": list(STANCE_CLASSES), "offsets": [1], "weights": {}})
    )
    with pytest.raises(ModelError, match="not a valid model"):
        load_stance_model(bad)
    with pytest.raises(ModelError, match="cannot read"):
        load_stance_model(tmp_path / "absent.json")


def test_offsets_move_the_decision() -> None:
    model = default_stance_model()
    only_query = StanceModel(model.version, model.weights, (0.0, 0.0, 1.0, 0.0))
    assert only_query.classify(CLAIM, "@user I was there yesterday").stance is Stance.QUERY


def test_a_restatement_is_never_a_denial_without_a_denial_cue() -> None:
    claim = "An Afghan commando confirms it: Pakistani aircraft bombing Panjshir resistance positions."
    cited = "Pakistani aircraft bombing resistance in Panjshir valley, according to a CNN-News18 report"
    got = classify_stance(cited, target=claim, relevance=0.63)
    assert got.stance is Stance.SUPPORT  # attribution is not a hedge: provenance makes it an echo
    hedged = classify_stance(
        "Pakistani aircraft reportedly bombing Panjshir resistance", target=claim, relevance=0.7
    )
    assert hedged.stance is Stance.COMMENT and "reportedly" in hedged.cue


def test_passing_on_reports_is_a_hedge_and_refuting_them_is_none() -> None:
    claim = "Large explosion near the Pentagon complex in Washington DC"
    relayed = "Reports of an explosion near the Pentagon in Washington DC"
    assert classify_stance(relayed, target=claim, relevance=0.9).stance is Stance.COMMENT
    tagged = "Large Explosion near The Pentagon Complex in Washington D.C. - Initial Report"
    assert classify_stance(tagged, target=claim, relevance=0.9).stance is Stance.COMMENT
    unnamed = "The Pentagon complex was hit by a large explosion, according to media reports"
    assert classify_stance(unnamed, target=claim, relevance=0.9).stance is Stance.COMMENT
    # Saying there were none is no hedge.
    quake = "A 6.1 earthquake struck the coast; there were no immediate reports of damage"
    assert hedges(quake) is None


def test_a_restatement_is_hedged_by_the_clause_that_restates_the_claim() -> None:
    claim = "Arrest made in the bridge bombing case"
    relay = "Arrest made in the bridge bombing, the wire reports. The suspect is expected in court today."
    assert classify_stance(relay, target=claim, relevance=0.8).stance is Stance.SUPPORT
    hedged = "An arrest was reportedly made in the bridge bombing. The suspect is in court today."
    got = classify_stance(hedged, target=claim, relevance=0.8)
    assert got.stance is Stance.COMMENT and "reportedly" in got.cue


def test_a_negated_restatement_denies_even_in_other_words() -> None:
    """The matcher said both are about one claim (relevance at the join bar), so the
    negation opposes it, though "killed" and "dead" share no word to count."""
    claim = "Commander Massoud was killed in a drone strike in Panjshir"
    post = "Massoud not dead, aides say"
    got = classify_stance(post, target=claim, relevance=0.8)
    assert got.stance is Stance.DENY and got.cue == "negation", got
    # Below the join bar shared words must say so, and here they do not.
    assert classify_stance(post, target=claim, relevance=0.4).cue != "negation"


@pytest.mark.parametrize(
    "text",
    [
        "NRF spokesman shoots down reports that the Taliban captured Panjshir",
        "Resistance leaders slam rumours the Taliban have captured Panjshir valley",
        "Massoud's office dismisses claims of a Taliban capture of Panjshir",
    ],
)
def test_newsroom_verbs_of_denial_acting_on_a_report_deny(text: str) -> None:
    assert classify_stance(text, target=CLAIM).stance is Stance.DENY


def test_a_restatement_that_doubts_the_claim_does_not_support_it() -> None:
    claim = "A meteorite struck the outskirts of Bazarak"
    doubting = classify_stance(
        "Geologists raise doubts that a meteorite struck the outskirts of Bazarak",
        target=claim,
        relevance=0.8,
    )
    assert doubting.stance is Stance.COMMENT and "doubt" in doubting.cue
    sure = classify_stance(
        "No doubt a meteorite struck the outskirts of Bazarak", target=claim, relevance=0.8
    )
    assert sure.stance is Stance.SUPPORT


def test_a_report_giving_the_claim_and_its_denial_asserts_neither() -> None:
    both = "Taliban say they have captured Panjshir valley. Resistance leaders denied the claim."
    got = classify_stance(both, target=CLAIM, relevance=0.7)
    assert got.stance is Stance.COMMENT and "reports the claim and a denial" in got.cue
    one_sided = "This is fake. The Taliban have not captured anything in Panjshir."
    assert classify_stance(one_sided, target=CLAIM, relevance=0.7).stance is Stance.DENY


def test_blaming_another_side_than_the_claim_denies_it_where_the_conflict_is_followed() -> None:
    claim = "The Israeli occupation bombed al-Ahli hospital in Gaza City"
    reply = "It was an Islamic Jihad rocket that fell short and hit al-Ahli hospital in Gaza City"
    model = default_stance_model()
    got = model.classify(claim, reply, relevance=0.5, actors=load_registry(None).actors)
    assert got.stance is Stance.DENY and got.cue.startswith("attribution"), got
    assert model.classify(claim, reply, relevance=0.5).stance is not Stance.DENY


def test_a_hedge_the_claim_itself_has_and_a_word_used_literally_are_no_hedges() -> None:
    claim = "Arrest made in the bridge bombing; suspect expected in federal court"
    relay = "Arrest made in the bridge bombing, the wire reports. The suspect is expected in federal court."
    assert classify_stance(relay, target=claim, relevance=0.8).stance is Stance.SUPPORT
    assert hedges("The suspect will appear in court on Monday") is None
    assert hedges("The suspect appears to have fled the city") == "appears to"
    assert hedges("He is expected to resign", besides={"expected"}) is None
