from __future__ import annotations

import pytest

from streams.domain.actors import NO_ACTORS, Actors, Party
from streams.domain.normalise import normalise
from streams.domain.registry import load_registry

ACTORS = Actors.of(
    [
        Party("israel", "gaza-war", ("israel", "israeli", "idf")),
        Party("armed-groups", "gaza-war", ("hamas", "islamic jihad")),
        Party("russia", "ukraine-war", ("russia", "russian")),
    ]
)


@pytest.mark.parametrize(
    ("text", "blamed"),
    [
        ("Israeli air strike on al-Ahli hospital kills hundreds", {"israel"}),
        ("The Israeli occupation bombed the hospital", {"israel"}),
        ("Israel bombed a hospital in Gaza", {"israel"}),
        ("The rocket was fired by Islamic Jihad", {"armed-groups"}),
        ("Islamic Jihad is responsible for the failed launch", {"armed-groups"}),
        ("Hamas blamed Israel for the blast", {"israel"}),
        ("Ukraine says Russia blew up the dam", {"russia"}),
        # Named, not blamed: a speaker, a victim, a denial of its part, a modifier.
        ("The Israeli military said a rocket hit the hospital", set()),
        ("Israel says a misfired rocket hit the hospital", set()),
        ("Russian soldiers killed in a drone attack", set()),
        ("US intelligence assesses Israel was not responsible for the blast", set()),
        ("The blast was done by the other team, not Israel", set()),
        ("An analysis of IDF operational systems indicates rockets were fired", set()),
        ("Huge explosion at al-Ahli hospital, many casualties", set()),
        ("Central Russia hit by meteor shower", set()),  # hit, not hitting
        ("Russia meteor strike: at least 950 injured", set()),  # a place, not a weapon's owner
        # Forces that an act is done to or against: they receive it, they do not do it.
        ("82 servicemen laid down their arms and surrendered to the Russian armed forces", set()),
        ("Ukraine retook Kherson from Russian forces", set()),
        ("A counteroffensive against Russian troops near Kharkiv", set()),
        ("Russian forces shelled Kharkiv overnight", {"russia"}),
        # A side's proxies, its responsibility, a plane downed by its jet.
        ("The airliner was shot down by a missile fired by pro-Russian separatists", {"russia"}),
        ("Russian-backed rebels shelled the town", {"russia"}),
        ("Pro-Russian separatists say they downed a transport plane", set()),  # speakers
        ("Putin says Israel bears responsibility for the blast", {"israel"}),
        ("The plane was shot down by an Israeli fighter jet", {"israel"}),
    ],
)
def test_a_side_is_blamed_only_as_the_doer(text: str, blamed: set[str]) -> None:
    assert ACTORS.blamed(text) == blamed
    # The clusterer sees normalised text (lower case, no punctuation, some verbs folded).
    assert ACTORS.blamed(normalise(text).text) == blamed


def test_two_sides_of_one_conflict_oppose_and_of_two_conflicts_do_not() -> None:
    assert ACTORS.opposed(frozenset({"israel"}), frozenset({"armed-groups"})) == ("israel", "armed-groups")
    assert ACTORS.opposed(frozenset({"israel"}), frozenset({"russia"})) is None
    assert ACTORS.opposed(frozenset({"israel"}), frozenset({"israel", "armed-groups"})) is None
    assert ACTORS.opposed(frozenset(), frozenset({"israel"})) is None


def test_texts_blaming_no_one_have_the_same_doers_and_no_conflicts_blame_no_one() -> None:
    assert ACTORS.same_doers("explosion at the hospital", "blast at the hospital")
    assert not ACTORS.same_doers("explosion at the hospital", "israeli strike hits the hospital")
    assert ACTORS.same_doers("israeli strike hits the hospital", "israel bombed the hospital")
    assert NO_ACTORS.blamed("Israel bombed a hospital") == frozenset()
    assert NO_ACTORS.same_doers("explosion at the hospital", "israeli strike hits the hospital")


def test_the_registry_makes_one_side_of_parties_that_share_it() -> None:
    actors = load_registry(None).actors
    hamas, jihad = (
        actors.blamed("Hamas rockets hit Ashkelon"),
        actors.blamed("an Islamic Jihad rocket fell short"),
    )
    assert hamas == jihad == {"palestinian-armed-groups"}
    assert actors.blamed("Israeli jets struck the camp") == {"israel-government"}
    assert actors.named("the IDF said") == {"israel-government"}
