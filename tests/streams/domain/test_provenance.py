"""One test per kind of echo: each must fold into an existing origin, with its reason."""

from __future__ import annotations

import pytest

from streams.domain.provenance import (
    EvidenceItem,
    attribution_targets,
    claim_sentence,
    group_origins,
    passes_on,
)
from streams.domain.registry import load_registry
from streams.domain.stance import Stance

REG = load_registry()


def ev(item_id: str, author: str, t: float, **kw: object) -> EvidenceItem:
    base: dict[str, object] = {
        "item_id": item_id,
        "author": author,
        "source_id": f"acct:{author.lower()}",
        "source_kind": "anonymous",
        "weight": 0.3,
        "party": None,
        "domain": None,
        "created_at": t,
        "stance": Stance.SUPPORT,
        "stance_cue": "assertion",
        "match_score": 0.8,
        "fingerprint": f"fp-{item_id}",
        "n_tokens": 8,
    }
    base.update(kw)
    return EvidenceItem(**base)  # type: ignore[arg-type]


def reasons(items: list[EvidenceItem]) -> tuple[int, list[str]]:
    origins = group_origins(items, REG)
    return len(origins), [r for o in origins for _, r in o.echoes]


def test_independent_accounts_are_separate_origins() -> None:
    assert reasons([ev("1", "a", 0), ev("2", "b", 1)])[0] == 2


def test_retweet_is_an_echo_even_before_the_original_arrives() -> None:
    n, why = reasons([ev("2", "rter", 1, retweet_of="1", retweeted_author="orig"), ev("1", "orig", 0)])
    assert n == 1 and why == ["retweet of 1"]
    origins = group_origins([ev("2", "rter", 1, retweet_of="1", retweeted_author="habibkhant")], REG)
    assert origins[0].source_id == "habib-khan"


def test_quote_without_a_claim_of_its_own_is_an_echo() -> None:
    n, why = reasons([ev("1", "a", 0), ev("2", "b", 1, quote_of="1", n_tokens=1)])
    assert n == 1 and why == ["quote of 1 adding no claim"]


def test_quote_that_asserts_is_its_own_origin() -> None:
    assert reasons([ev("1", "a", 0), ev("2", "b", 1, quote_of="1", n_tokens=9)])[0] == 2


def test_reply_repeating_the_claim_is_an_echo() -> None:
    n, why = reasons([ev("1", "a", 0), ev("2", "b", 1, reply_to="1")])
    assert n == 1 and why == ["reply repeating 1"]


def test_accounts_of_one_organisation_are_one_origin() -> None:
    nrf = {
        "source_id": "nrf",
        "source_kind": "party",
        "party": "afghanistan-2021",
        "stance": Stance.DENY,
    }
    n, why = reasons([ev("1", "NRFafg", 0, **nrf), ev("2", "AliNazary", 1, **nrf)])
    assert n == 1 and why == ["same organisation (nrf)"]


def test_syndicated_wire_copy_across_outlets_is_one_origin() -> None:
    long = {"fingerprint": "same", "n_tokens": 30}
    n, why = reasons(
        [
            ev("1", "AP", 0, domain="apnews.com", **long),
            ev("2", "Local", 5, domain="local.com", **long),
        ]
    )
    assert n == 1 and why == ["syndicated copy of 1"]


def test_report_citing_an_outlet_is_an_echo_of_that_outlet() -> None:
    cnn = ev("1", "CNNnews18", 0, source_id="cnn-news18", source_kind="broadcaster", weight=0.8)
    fpj = ev("2", "FPJ", 5, domain="freepressjournal.in", cited_sources=("cnn-news18",))
    n, why = reasons([cnn, fpj])
    assert n == 1 and why == ["cites cnn-news18"]


def test_cited_outlet_never_seen_is_the_origin_with_its_own_weight() -> None:
    fpj = ev("2", "FPJ", 5, domain="freepressjournal.in", cited_sources=("cnn-news18",))
    origins = group_origins([fpj], REG)
    assert origins[0].source_id == "cnn-news18" and origins[0].cited_only


def test_link_to_another_outlets_article_is_an_echo() -> None:
    cnn = ev("1", "CNNnews18", 0, source_id="cnn-news18", domain="news18.com")
    blog = ev("2", "blogger", 5, linked_domains=("news18.com",))
    n, why = reasons([cnn, blog])
    assert n == 1 and why == ["links to an article on news18.com"]


def test_a_post_relaying_an_account_is_that_accounts_origin_even_without_its_post() -> None:
    station = ev("1", "KHOU_desk", 0, cited_handles=("reuters",))
    origins = group_origins([station], REG)
    assert (origins[0].source_id, origins[0].cited_only, origins[0].weight) == ("reuters", True, 1.0)
    blog = ev("2", "blogger", 0, cited_handles=("somebody_local",))
    origins = group_origins([blog], REG)
    assert (origins[0].source_id, origins[0].cited_only) == ("acct:somebody_local", True)


def test_copy_paste_burst_is_one_origin_flagged_as_coordination() -> None:
    burst = [ev(str(i), f"acct{i}", i * 10.0, fingerprint="same") for i in range(4)]
    origins = group_origins(burst, REG)
    assert len(origins) == 1 and origins[0].coordinated
    assert {r for _, r in origins[0].echoes} == {"copy-paste of 0"}


def test_copies_name_the_first_post_of_their_text_in_any_arrival_order() -> None:
    posts = [ev(str(i), f"acct{i}", 10.0 * i, fingerprint="same") for i in range(4)]
    for order in (posts, posts[::-1], [posts[2], posts[0], posts[3], posts[1]]):
        origins = group_origins(order, REG)
        assert len(origins) == 1 and origins[0].root_item == "0"
        assert sorted(origins[0].echoes) == [
            ("1", "copy-paste of 0"),
            ("2", "copy-paste of 0"),
            ("3", "copy-paste of 0"),
        ]


def test_a_burst_copying_an_older_post_is_flagged_and_retweets_are_not() -> None:
    original = ev("0", "journalist", 0.0, fingerprint="same")
    burst = [ev(str(i), f"acct{i}", 2400.0 + i, fingerprint="same") for i in range(1, 4)]
    assert group_origins([original, *burst], REG)[0].coordinated
    spread = [ev(str(i), f"acct{i}", 2400.0 * i, fingerprint="same") for i in range(1, 4)]
    assert not group_origins([original, *spread], REG)[0].coordinated
    shares = [ev(str(i), f"acct{i}", 60.0 + i, fingerprint="same", retweet_of="0") for i in range(1, 4)]
    assert not group_origins([original, *shares], REG)[0].coordinated


def test_a_report_of_what_a_party_says_is_its_echo_even_when_it_came_first() -> None:
    wire = ev(
        "1", "Reuters", 0, source_id="reuters", source_kind="wire", weight=1.0, cited_sources=("taliban",)
    )
    party = ev("2", "Zabehulah_M33", 60, source_id="taliban", source_kind="party", party="afghanistan-2021")
    origins = group_origins([wire, party], REG)
    assert len(origins) == 1
    assert (origins[0].source_id, origins[0].root_item) == ("taliban", "2")
    assert origins[0].echoes == [("1", "cites taliban")] and not origins[0].independent_support


def test_denial_citing_its_speaker_echoes_the_speaker_not_the_claimant() -> None:
    taliban = ev("1", "Zabehulah_M33", 0, source_id="taliban", source_kind="party", party="afghanistan-2021")
    nrf = ev(
        "2",
        "NRFafg",
        1,
        source_id="nrf",
        source_kind="party",
        party="afghanistan-2021",
        stance=Stance.DENY,
        denies=True,
    )
    afp = ev(
        "3",
        "AFP",
        2,
        source_id="afp",
        source_kind="wire",
        weight=1.0,
        stance=Stance.DENY,
        cited_sources=("nrf",),
        claim_sources=("taliban",),
        denies=True,
    )
    origins = group_origins([taliban, nrf, afp], REG)
    assert [(o.source_id, o.stance.value, sorted(o.items)) for o in origins] == [
        ("taliban", "support", ["1"]),
        ("nrf", "deny", ["2", "3"]),
    ]


def test_in_a_cluster_founded_by_a_denial_the_sides_keep_their_sources() -> None:
    # "Taliban claims ... are false" founded the cluster: the denials support it, and a
    # report of the Taliban's claim denies it, still as an echo of the Taliban.
    nrf = ev("1", "NRFafg", 0, source_id="nrf", source_kind="party", party="afghanistan-2021", denies=True)
    taliban = ev(
        "2",
        "Zabehulah_M33",
        1,
        source_id="taliban",
        source_kind="party",
        party="afghanistan-2021",
        stance=Stance.DENY,
    )
    times_now = ev(
        "3",
        "TimesNow",
        2,
        source_id="times-now",
        source_kind="broadcaster",
        weight=0.8,
        stance=Stance.DENY,
        claim_sources=("taliban",),
    )
    afp = ev(
        "4",
        "AFP",
        3,
        source_id="afp",
        source_kind="wire",
        weight=1.0,
        cited_sources=("nrf",),
        claim_sources=("taliban",),
        denies=True,
    )
    origins = group_origins([nrf, taliban, times_now, afp], REG)
    assert [(o.source_id, o.stance.value, sorted(o.items)) for o in origins] == [
        ("nrf", "support", ["1", "4"]),
        ("taliban", "deny", ["2", "3"]),
    ]


def test_party_support_is_not_independent_confirmation() -> None:
    party = group_origins([ev("1", "Zabehulah_M33", 0, source_id="taliban", party="afghanistan-2021")], REG)
    assert not party[0].independent_support


def test_a_retweet_that_came_first_never_heads_an_origin_with_a_post_of_its_own() -> None:
    rt = ev("rt", "ahmadzai_k", 0, retweet_of="orig", retweeted_author="habibkhant")
    own = ev("quote", "HabibKhanT", 5)  # the author's own later post, joined through his account
    origins = group_origins([rt, own], REG)
    assert len(origins) == 1 and origins[0].root_item == "quote"
    assert origins[0].source_id != "acct:ahmadzai_k"


def test_who_passed_a_post_on_keeps_their_own_word() -> None:
    hoax = ev("1", "celeb_breaking_now", 0)
    share = ev("2", "fan_account", 60, retweet_of="1", retweeted_author="celeb_breaking_now")
    denial = ev("3", "fan_account", 600, stance=Stance.DENY, reply_to="1", fingerprint="fp-3")
    origins = group_origins([hoax, share, denial], REG)
    assert [(o.source_id, o.stance, o.items) for o in origins] == [
        ("acct:celeb_breaking_now", Stance.SUPPORT, ["1", "2"]),
        ("acct:fan_account", Stance.DENY, ["3"]),
    ]


def test_an_origin_stands_where_its_source_spoke_last() -> None:
    report = ev("1", "DailyPlanet", 0, fingerprint="fp-1")
    copy = ev("2", "reader", 60, fingerprint="fp-1")
    correction = ev("3", "DailyPlanet", 3600, stance=Stance.DENY, fingerprint="fp-3")
    shared = ev("4", "fan", 7200, retweet_of="3", retweeted_author="dailyplanet", stance=Stance.DENY)
    origins = group_origins([report, copy, correction, shared], REG)
    assert [(o.source_id, o.stance, o.items) for o in origins] == [
        ("acct:dailyplanet", Stance.DENY, ["1", "2", "3", "4"])
    ]
    assert origins[0].last_seen == 3600  # others passing it on say nothing for it


def test_a_source_stands_where_its_newest_word_reported_by_others_does() -> None:
    # Ukraine's president says the defenders were killed; four days later the stream has
    # Ukraine's word only as outlets report it ("..., Ukraine's navy says"): alive.
    own = ev("1", "ZelenskyyUa", 0, source_id="ukraine-government", source_kind="party", fingerprint="fp-1")
    relay = ev(
        "2", "Reuters", 600, source_id="reuters", cited_sources=("ukraine-government",), fingerprint="fp-2"
    )
    newer = ev(
        "3",
        "Associated Press",
        345600,
        source_id="ap",
        stance=Stance.DENY,
        cited_sources=("ukraine-government",),
        fingerprint="fp-3",
    )
    # A retweet of the older report, however late, is no newer word of the source.
    late = ev(
        "4",
        "fan",
        400000,
        retweet_of="2",
        retweeted_author="reuters",
        cited_sources=("ukraine-government",),
        fingerprint="fp-2",
    )
    origins = group_origins([own, relay, newer, late], REG)
    assert [(o.source_id, o.stance, sorted(o.items)) for o in origins] == [
        ("ukraine-government", Stance.DENY, ["1", "2", "3", "4"])
    ]
    assert origins[0].last_seen == 345600


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "Snake Island soldiers who swore at Russian warship are alive, Ukraine confirms",
            "ukraine-government",
        ),
        ("Russia denies any involvement in the blast at the dam", "russia-government"),
        ("Rescuers are still searching the rubble, the BBC announced", "bbc"),
    ],
)
def test_every_verb_of_attribution_the_registry_knows_names_the_speaker(text: str, speaker: str) -> None:
    # A quick look for attribution words let only some of them through ("says", "according
    # to"), so "..., Ukraine confirms" was the outlet's own word.
    guardian = REG.resolve(author="The Guardian", outlet="theguardian.com", url=None, verified=None)
    assert attribution_targets(text, guardian, REG).speakers == (speaker,)


def test_whom_a_report_attributes_the_claim_to_is_read_where_it_says_the_claim() -> None:
    ap = REG.resolve(author="Associated Press", outlet="apnews.com", url=None, verified=None)
    text = (
        "Hundreds killed in blast at Gaza hospital. Hamas blames an Israeli airstrike; "
        "Israel says a misfired Palestinian rocket hit it."
    )
    assert claim_sentence(text, "Huge explosion at al-Ahli hospital in Gaza, many casualties") == (
        "Hundreds killed in blast at Gaza hospital."
    )
    own = attribution_targets(text, ap, REG, "Huge explosion at al-Ahli hospital in Gaza, many casualties")
    assert own.speakers == ()  # the blast in AP's own voice
    assert attribution_targets(text, ap, REG).speakers == ("israel-government",)
    quoted = attribution_targets(text, ap, REG, "A misfired Palestinian rocket hit the Gaza hospital")
    assert quoted.speakers == ("israel-government",)


def test_an_outlet_reporting_a_sources_word_is_its_echo_though_the_source_only_passed_reports_on() -> None:
    # RT's own "Reports of an explosion ..." asserts nothing (a comment); "..., RT reports"
    # on another outlet makes the claim RT's word all the same.
    rt = ev("1", "RT_com", 0, source_id="rt", source_kind="broadcaster", weight=0.3, stance=Stance.COMMENT)
    relay = ev("2", "Republic World", 60, domain="republicworld.com", cited_sources=("rt",))
    retraction = ev("3", "Republic World", 3600, domain="republicworld.com", stance=Stance.DENY)
    origins = group_origins([rt, relay, retraction], REG)
    assert [(o.source_id, o.stance, sorted(o.items)) for o in origins] == [
        ("rt", Stance.SUPPORT, ["1", "2"]),
        # Its own retraction is the outlet's word, not folded into RT's origin by its account.
        ("acct:republic world", Stance.DENY, ["3"]),
    ]


def test_an_origin_that_only_passes_reports_on_never_confirms() -> None:
    # "Reports of ..." founding a cluster states its claim (RumourEval labels a source post
    # so), but stands behind nothing: on the claim's side of a contest, no confirmation.
    relay = ev("1", "osint_watch", 0, text="Reports of an explosion near the Pentagon in Washington DC")
    tagged = ev("2", "feed_x", 60, text="Large explosion near the Pentagon complex - initial report")
    witness = ev(
        "3", "dc_local", 90, text="Huge explosion near the Pentagon just now, I heard it from my office"
    )
    refuted = ev("4", "fire_dept", 120, text="Reports of an explosion are false", stance=Stance.DENY)
    origins = {o.source_id: o for o in group_origins([relay, tagged, witness, refuted], REG)}
    assert origins["acct:osint_watch"].hedged and not origins["acct:osint_watch"].independent_support
    assert origins["acct:feed_x"].hedged
    assert not origins["acct:dc_local"].hedged and origins["acct:dc_local"].independent_support
    assert not origins["acct:fire_dept"].hedged
    # The hedge of another clause stands behind nothing less: "expected" is about the court.
    wire = ev("5", "wire_x", 150, text="Arrest made in the bridge bombing; suspect expected in federal court")
    photo = ev(
        "6", "osint_y", 160, text="Reports of a fire at the depot. Image circulating shows black smoke"
    )
    assert not passes_on(wire.text) and passes_on(photo.text)
