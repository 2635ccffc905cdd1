from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.domain.normalise import STOPWORDS, hashtag_name, normalise, split_hashtag, split_sentences


def test_platform_noise_is_removed_and_kept_as_evidence() -> None:
    n = normalise("RT @HabibKhanT: Pakistani aircrafts bombing #PanjshirValley via @afg https://t.co/abc")
    assert n.content == ("pakistani", "aircraft", "bomb", "panjshir", "valley")
    assert n.urls == ("https://t.co/abc",)
    assert n.mentions == ("afg",)
    assert n.hashtags == ("panjshirvalley",)


def test_transliterations_share_one_spelling() -> None:
    assert {normalise(w).tokens[0] for w in ("Panjshir", "Panjsher", "PANJSHEER")} == {"panjshir"}
    # Places of the conflicts the registry follows, as Ukrainian, Russian and English write them.
    assert {normalise(w).content for w in ("Zmiinyi Island", "Zmeiny Island", "Snake Island")} == {
        ("snake", "island")
    }
    assert {normalise(w).tokens[0] for w in ("Kharkiv", "Kharkov")} == {"kharkiv"}


def test_nfkc_and_casefold() -> None:
    assert normalise("ＰＡＮＪＳＨＩＲ Straße").tokens == ("panjshir", "strasse")


def test_hashtags_split_on_case() -> None:
    assert split_hashtag("PanjshirValley") == ["panjshir", "valley"]
    assert split_hashtag("panjshir") == ["panjshir"]


def test_solidarity_hashtags_split_and_name_their_place() -> None:
    assert split_hashtag("prayforboston") == ["pray", "for", "boston"]
    assert split_hashtag("prayers4boston") == ["prayers", "for", "boston"]
    assert split_hashtag("bostonstrong") == ["boston", "strong"]
    assert split_hashtag("armstrong") == ["armstrong"]  # a name, not "arm strong"
    assert [hashtag_name(t) for t in ("PrayForBoston", "standwithukraine", "bostonstrong")] == [
        "boston",
        "ukraine",
        "boston",
    ]
    # One capitalised word names something; news words and lower-case words say nothing.
    assert [hashtag_name(t) for t in ("Texas", "NYC", "Breaking", "clutha", "sghaze")] == [
        "texas",
        "nyc",
        None,
        None,
        None,
    ]
    assert normalise("what is happening to this world #prayfortexas").entities == {"texas"}


def test_sentences_split_for_wire_copy() -> None:
    assert split_sentences("Taliban claim victory. NRF denies it!\nMore later") == [
        "Taliban claim victory.",
        "NRF denies it!",
        "More later",
    ]


@given(st.text(max_size=400))
def test_normalise_is_total_and_content_has_no_stopwords(text: str) -> None:
    n = normalise(text)
    assert all(t not in STOPWORDS for t in n.content)
    assert set(n.content) <= set(n.tokens)


@given(st.text(max_size=200))
def test_normalise_is_idempotent_on_its_own_output(text: str) -> None:
    once = normalise(text)
    assert normalise(once.text).tokens == once.tokens


def test_names_come_from_case_mid_sentence_only() -> None:
    assert normalise("Jets bomb Panjshir, says the NRF").entities == {"panjshir", "nrf"}
    assert normalise("Officials in Kharkiv say. Shelling hit the station").entities == {"kharkiv"}
    # Title Case headlines and lower-case texts say nothing about names.
    assert normalise("Strong Quake Hits North Italy At Least Three Dead").entities == frozenset()
    assert normalise("strong quake hits north italy").entities == frozenset()
    # A headline dense with names is mostly capitals too, but its other words stay small.
    assert normalise(
        "Police identify Las Vegas gunman as Stephen Paddock, 64, of Mesquite, Nevada"
    ).entities == {
        "las",
        "vegas",
        "stephen",
        "paddock",
        "mesquite",
        "nevada",
    }
    # Hashtags name only in solidarity forms or as one capitalised word (#breaking is news).
    assert normalise("#PrayForTexas what is happening #breaking").entities == {"texas"}
    assert normalise("what is happening #breaking #sad").entities == frozenset()


def test_words_capitalised_for_emphasis_are_no_names() -> None:
    # As names, "NO" and "NOT" made a denial name what its claim does not, and kept them apart.
    assert normalise("There is NO explosion at the Pentagon").entities == {"pentagon"}
    assert normalise("This is NOT true, Panjshir has NOT fallen").entities == {"panjshir"}
    # Nor are words shouted in a row, or a shouted verb form; an acronym standing alone is.
    assert normalise("ARREST MADE in the Boston Marathon bombing!!").entities == {"boston", "marathon"}
    assert normalise("Suspect in the Marathon bombing ARRESTED in Watertown").entities == {
        "marathon",
        "watertown",
    }
    assert normalise("Water on the floor of the NYSE, FEMA says").entities == {"nyse", "fema"}


def test_a_name_of_several_capitalised_words_is_known_by_its_initials_too() -> None:
    assert {"new", "york", "stock", "exchange", "nyse"} <= normalise(
        "The floor of the New York Stock Exchange is flooded"
    ).entities
    assert "nrf" in normalise("Fighters of the National Resistance Front hold the valley").entities
    assert "nrf" in normalise("The National Resistance Front said the fight goes on").entities
    # Two words give no initials ("West Texas" is no "wt"), nor do initials that are a word.
    assert normalise("Rescuers reached West Texas late in the night").entities == {"west", "texas"}
    assert "who" not in normalise("A statement by the World Health Organization on Monday").entities
    # A sentence boundary ends a name; one capitalised word has no initials of its own.
    assert normalise("Floods hit Geneva. Rescue teams were sent").entities == {"geneva"}
