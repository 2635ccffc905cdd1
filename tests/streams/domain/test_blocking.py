from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from streams.domain.blocking import (
    BlockEntry,
    add_to_block,
    block_keys,
    block_matches,
    entries_agree,
    key_rank,
)
from streams.domain.matching import SimilarityScorer
from streams.domain.normalise import normalise
from streams.domain.pair_features import Signature


def _entry(cid: str, text: str, touched: float = 100.0, event_ts: float = 100.0) -> BlockEntry:
    sig = Signature.of(normalise(text))
    numbers = tuple(sorted(sig.numbers))
    return BlockEntry(
        cid,
        1.0,
        f"i-{cid}",
        sig.match,
        sig.full,
        numbers,
        block_keys(sig),
        touched,
        event_ts,
        tuple(sig.entities),
    )


def test_keys_are_stable_and_bounded() -> None:
    sig = Signature.of(
        normalise("Pakistani jets are bombing resistance positions across the Panjshir valley today")
    )
    keys = block_keys(sig)
    assert keys == block_keys(
        Signature.of(normalise("today Panjshir valley: Pakistani jets bombing resistance positions across"))
    )
    assert len(keys) == 4
    assert list(keys) == sorted(keys, key=key_rank)


@given(
    st.lists(
        st.sampled_from(["panjshir", "taliban", "jets", "bombing", "valley", "kabul", "nrf"]),
        min_size=1,
        max_size=4,
    )
)
def test_short_texts_are_keyed_by_every_word(words: list[str]) -> None:
    sig = Signature.of(normalise(" ".join(words)))
    assert set(block_keys(sig)) == sig.words


def test_a_pair_is_scored_in_exactly_one_block() -> None:
    scorer = SimilarityScorer()
    a = _entry("ca", "Pakistani jets are bombing resistance positions in Panjshir valley")
    b = _entry("cb", "Pakistani jets bombing the resistance positions in the Panjshir valley")
    shared = set(a.keys) & set(b.keys)
    assert len(shared) > 1
    found = [key for key in shared if block_matches(key, b, [a], scorer, threshold=0.6, quiet_seconds=3600)]
    assert found == [min(shared, key=key_rank)]


def test_same_cluster_and_different_claims_are_not_merges() -> None:
    scorer = SimilarityScorer()
    a = _entry("ca", "Pakistani jets are bombing resistance positions in Panjshir valley")
    same_cluster = _entry("ca", "Pakistani jets bombing the resistance positions in the Panjshir valley")
    other = _entry("cb", "Taliban claim to have completely conquered Panjshir valley")
    for key in set(a.keys):
        assert block_matches(key, same_cluster, [a], scorer, threshold=0.6, quiet_seconds=3600) == []
        assert block_matches(key, other, [a], scorer, threshold=0.6, quiet_seconds=3600) == []


def test_block_drops_quiet_entries_keeps_the_newest_and_ignores_redelivery() -> None:
    old = _entry("c1", "one two three four", touched=10.0)
    entries = [old, *(_entry(f"c{i}", f"word{i} two three four", touched=100.0 + i) for i in range(2, 6))]
    new = _entry("c9", "nine two three four", touched=200.0)
    kept = add_to_block(entries, new, max_entries=3, quiet_seconds=150.0)
    assert [e.cluster_id for e in kept] == ["c4", "c5", "c9"]
    again = add_to_block(kept, new, max_entries=3, quiet_seconds=150.0)
    assert [e.cluster_id for e in again] == ["c4", "c5", "c9"]


def test_block_forgets_entries_quiet_in_event_time_during_a_replay() -> None:
    last_month = _entry("c1", "strong earthquake northern italy", event_ts=0.0)
    today = _entry("c2", "strong earthquake northern italy", event_ts=30 * 86400.0)
    scorer = SimilarityScorer()
    key = min(set(today.keys), key=key_rank)
    assert block_matches(key, today, [last_month], scorer, threshold=0.6, quiet_seconds=172800) == []
    assert add_to_block([last_month], today, max_entries=8, quiet_seconds=172800) == [today]


def test_exemplars_merge_only_when_each_ones_names_are_in_the_other() -> None:
    boston = _entry("b", "Our thoughts are with everyone affected by the explosions in Boston")
    boston_caps = _entry(
        "B", "THOUGHTS WITH EVERYONE AFFECTED BY THE BOSTON EXPLOSIONS"
    )  # no names, the word
    nameless = _entry("n", "Our thoughts are with everyone affected by the explosions")
    both = _entry("x", "#prayforboston #prayfortexas thoughts with everyone affected")
    assert entries_agree(boston, boston_caps) and entries_agree(nameless, nameless)
    assert not entries_agree(boston, nameless), "a place against no place"
    assert not entries_agree(boston, both), "a post naming two events bridges nothing"


def test_a_link_text_is_marked_on_the_wire_and_records_before_the_mark_read_as_exemplars() -> None:
    entry = _entry("ca", "The mayor was not hurt, police said")
    said = BlockEntry.from_list(dataclasses.replace(entry, link_only=True).to_list())
    assert said.link_only and said == dataclasses.replace(entry, link_only=True)
    assert len(entry.to_list()) == 10 and not BlockEntry.from_list(entry.to_list()).link_only
