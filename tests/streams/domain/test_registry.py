"""Source weights: the registry's word for known sources, platform signals for the unknown."""

from __future__ import annotations

import orjson

from streams.domain.registry import load_registry
from streams.records import decode_item
from streams.stages import platform_signals

REG = load_registry(None)


def _weight(**signals: object) -> float:
    return REG.resolve(author="someone_new", outlet=None, url=None, **signals).weight  # type: ignore[arg-type]


def test_known_sources_weigh_what_the_registry_says_whatever_the_platform_says() -> None:
    info = REG.resolve(
        author="Reuters", outlet=None, url=None, verified=False, followers=3, account_age_days=1
    )
    assert info.known and info.kind == "wire" and info.weight == 1.0


def test_platform_signals_move_an_unknown_account_within_its_cap() -> None:
    base = _weight(verified=None)
    assert base == REG.unknown_weight
    assert _weight(verified=True) > base
    assert base < _weight(verified=None, followers=1_000) < _weight(verified=None, followers=1_000_000)
    assert _weight(verified=None, account_age_days=2) == base * REG.new_account_factor
    assert _weight(verified=True, followers=10**9) <= REG.unknown_cap


def test_signals_are_read_from_the_item_and_bad_ones_ignored() -> None:
    item = decode_item(
        orjson.dumps(
            {
                "id": "1",
                "text": "x y z",
                "created_at": "2021-09-06T05:00:00Z",
                "followers": 1200,
                "account_created_at": "2021-09-01T05:00:00Z",
            }
        )
    )
    assert platform_signals(item) == {"followers": 1200, "account_age_days": 5.0}
    odd = decode_item(
        orjson.dumps(
            {
                "id": "2",
                "text": "x",
                "created_at": "2021-09-06T05:00:00Z",
                "followers": "many",
                "account_created_at": "soon",
            }
        )
    )
    assert platform_signals(odd) == {}


def test_an_outlet_is_known_under_any_of_its_hosts() -> None:
    for host in ("edition.cnn.com", "https://www.bbc.co.uk/news/world-65819591", "feeds.bbci.co.uk"):
        info = REG.resolve(author="World desk", outlet=host, url=None, verified=None)
        assert info.known and info.kind == "broadcaster", host
    assert not REG.resolve(author="blog", outlet="cnn.com.example.org", url=None, verified=None).known
    assert not REG.resolve(author="shop", outlet="shop.co.uk", url=None, verified=None).known


def test_reports_citing_widely_known_outlets_name_them_and_nothing_else_does() -> None:
    cited = REG.cited_in("The dam collapsed overnight, according to the BBC")
    assert [s.id for s, _ in cited] == ["bbc"]
    assert [s.id for s, _ in REG.cited_in("Sky News reported flooding in Kherson")] == ["sky-news"]
    assert REG.cited_in("Her legal guardian told police she had left home") == []


def test_rt_is_cited_by_name_and_a_retweet_names_no_one() -> None:
    reg = load_registry()
    assert [s.id for s, _ in reg.cited_in("Explosion reported near the Pentagon, RT reports")] == ["rt"]
    assert [s.id for s, _ in reg.cited_in("according to RT, the strike hit a school")] == ["rt"]
    assert reg.cited_in("RT @AP: Obama said the dam held") == []
    assert reg.cited_in("Please RT: police said the road is closed") == []
