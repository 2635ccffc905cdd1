"""The corroboration stage's side of a merge: an alias hands on its evidence, once."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from streams.domain.registry import load_registry
from streams.messages import ClaimAssigned, ClusterAlias, decode_claims_record
from streams.records import decode_item
from streams.stages import ClusterOutput, ClusterStage, CorroborationStage, DeadLetter


def _claim(cluster: str, item_id: str, author: str, text: str) -> ClaimAssigned:
    raw = orjson.dumps({"id": item_id, "text": text, "author": author, "created_at": "2021-09-06T05:00:00Z"})
    return ClaimAssigned(decode_item(raw), cluster, 0.9, None, "similar", text)


def test_an_alias_hands_its_evidence_to_the_canonical_cluster_once() -> None:
    stage = CorroborationStage(load_registry(None), clock=lambda: 1.0)
    alias_ev, _ = stage.process(
        _claim("c-alias", "1", "a1", "Pakistani jets bombing Panjshir valley now"), None
    )
    alias_ev, _ = stage.process(
        _claim("c-alias", "2", "a2", "Jets from Pakistan bomb the Panjshir"), alias_ev
    )
    canon_ev, _ = stage.process(
        _claim("c-canon", "3", "a3", "Pakistani aircraft over Panjshir, bombing"), None
    )
    before = canon_ev.signature

    moved, last = stage.retire(alias_ev, "c-canon")
    assert (
        last.state == "merged"
        and last.merged_into == "c-canon"
        and last.alert_id == "c-alias:" + str(last.version)
    )
    wire = decode_claims_record(moved.to_json())
    assert wire == moved
    canon_ev, _ = stage.absorb(moved, canon_ev)
    assert canon_ev.items_total == 3
    assert canon_ev.signature == ("UNVERIFIED", 3, 0) != before  # three unknown accounts: below the weight
    again, repeat = stage.absorb(moved, canon_ev)  # redelivered: nothing changes
    assert again.items_total == 3 and repeat is None


def test_corroboration_uses_the_cluster_stages_text_view_as_if_it_normalised_itself() -> None:
    stage = ClusterStage(clock=lambda: 1.0)
    raw = orjson.dumps(
        {
            "id": "w1",
            "text": "Pakistani jets bombing Panjshir. See https://news18.com/a1 for more",
            "author": "a1",
            "created_at": "2021-09-06T05:00:00Z",
        }
    )
    out = stage.process(raw)
    assert isinstance(out, ClusterOutput) and out.claim.match_text is not None
    corroboration = CorroborationStage(load_registry(None), clock=lambda: 1.0)
    viewed = corroboration.evidence_item(out.claim)
    recomputed = corroboration.evidence_item(dataclasses.replace(out.claim, match_text=None, text_urls=()))
    assert viewed == recomputed
    assert viewed.linked_domains == ("news18.com",)


def test_a_restarted_cluster_stage_puts_a_known_claims_posts_in_its_old_cluster() -> None:
    from streams.messages import ClusterExemplars

    def item(n: int, text: str) -> bytes:
        return orjson.dumps({"id": f"t:{n}", "text": text, "created_at": 1630900000 + n, "author": f"a{n}"})

    first = ClusterStage()
    out = first.process(item(1, "Pakistani aircraft are bombing resistance positions in the Panjshir valley"))
    assert isinstance(out, ClusterOutput) and out.exemplars
    record = ClusterExemplars(out.claim.cluster_id, 0, out.update.representative, out.exemplars)

    restarted = ClusterStage()
    assert restarted.restore_clusters([ClusterExemplars.from_json(record.to_json())]) == 1
    later = restarted.process(
        item(2, "Pakistani jets bombing resistance positions in Panjshir valley, sources say")
    )
    fresh = ClusterStage().process(
        item(2, "Pakistani jets bombing resistance positions in Panjshir valley, sources say")
    )
    assert isinstance(later, ClusterOutput) and isinstance(fresh, ClusterOutput)
    assert later.claim.cluster_id == out.claim.cluster_id, "joins the cluster of the earlier run"
    assert fresh.claim.cluster_id != out.claim.cluster_id, "without the restore it would found its own"


def test_the_evidence_of_a_claim_that_never_alerted_is_forgotten_once_it_went_quiet() -> None:
    from streams.messages import QuietCheck

    stage = CorroborationStage(load_registry(None))
    lone = stage.handle(_claim("c1", "tw:1", "someone", "Kabul weather: rain all day"), None).evidence
    assert lone is not None and lone.version == 0
    hour = 3600.0
    early = QuietCheck("c1", lone.last_seen + hour, lone.touched_at + hour)
    assert not stage.handle(early, lone).forget, "not quiet yet"
    late = QuietCheck("c1", lone.last_seen + 49 * hour, lone.touched_at + 49 * hour)
    assert stage.handle(late, lone).forget
    assert stage.handle(dataclasses.replace(early, left_matcher=True), lone).forget, "pushed out by max_live"

    alerted = dataclasses.replace(lone, version=2)
    kept = stage.handle(late, alerted)
    assert not kept.forget and kept.evidence is alerted, "an alerted claim goes QUIET instead"


def test_expired_clusters_are_reported_once() -> None:
    stage = ClusterStage()
    out = stage.process(orjson.dumps({"id": "x:1", "text": "Kabul weather: rain", "created_at": 1630900000}))
    assert isinstance(out, ClusterOutput)
    assert stage.expire(out.claim.item.ingested_at + 49 * 3600) == 1  # type: ignore[operator]
    assert stage.drain_expired() == [out.claim.cluster_id] and stage.drain_expired() == []


def test_a_prefetched_batch_is_clustered_without_another_pass_of_the_encoder() -> None:
    """The cluster agent encodes a batch's claim texts at once; processing then finds them cached."""
    stage = ClusterStage(clock=lambda: 1.0)
    encoder = stage.clusterer.config.match.encoder
    assert encoder is not None
    texts = [
        "Pakistani aircraft are bombing resistance positions in the Panjshir valley right now",
        "Pakistan air force jets strike the Panjshir resistance, sources tell CNN-News18",
        "The Taliban say Panjshir province has been completely conquered. The war is over.",
    ]
    raws = [
        orjson.dumps({"id": f"p{i}", "text": t, "created_at": "2021-09-06T05:00:00Z"})
        for i, t in enumerate(texts)
    ]
    stage.prefetch([*raws, b"not json"])
    before = encoder.encoded
    for raw in raws:
        assert isinstance(stage.process(raw), ClusterOutput)
    assert encoder.encoded == before


def test_a_prefetched_item_is_decoded_and_normalised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import streams.stages

    stage = ClusterStage(clock=lambda: 1.0)
    raw = orjson.dumps({"id": "p0", "text": "Jets bomb the Panjshir valley", "created_at": 1630900000})
    calls: list[str] = []
    real = streams.stages.claim_sentences
    monkeypatch.setattr(streams.stages, "claim_sentences", lambda text: calls.append(text) or real(text))
    stage.prefetch([raw, b"not json"])
    assert isinstance(stage.process(raw), ClusterOutput)
    assert isinstance(stage.process(b"not json"), DeadLetter)
    assert len(calls) == 1
    # Redelivered after its batch: prepared again, not from a stale entry.
    assert isinstance(stage.process(raw), ClusterOutput) and len(calls) == 2


def test_a_one_sided_denial_links_two_claims_only_when_they_surely_are_about_one_thing() -> None:
    from streams.stages import contradiction_links

    claim = "Pakistani jets are bombing the resistance in Panjshir"
    denial = "The NRF denies Taliban claims that Panjshir has fallen"
    negated = "Pakistani jets are not bombing the resistance in Panjshir"
    weak = contradiction_links("c1", "i1", claim, [("c2", "i2", denial, 0.35)], weak_bar=0.5)
    assert weak == ()
    sure = contradiction_links("c1", "i1", claim, [("c2", "i2", denial, 0.55)], weak_bar=0.5)
    assert {link.cluster_id for link in sure} == {"c1", "c2"} and sure[0].cue.startswith("denial")
    strong = contradiction_links("c1", "i1", claim, [("c3", "i3", negated, 0.35)], weak_bar=0.5)
    assert [link.cue for link in strong] == ["negation", "negation"]
    # Below the weak bar a denial still links when the shared words too say it is about the claim.
    debunk = "Reports of Pakistani jets bombing the resistance in Panjshir are fake"
    both = contradiction_links("c1", "i1", claim, [("c4", "i4", debunk, 0.35)], weak_bar=0.5)
    assert [link.cue for link in both] == ["denial:fake", "denial:fake"]
    # "Confirms" against "denies" is as one-sided: each may be about something else.
    confirms = "An Afghan commando on the ground confirms it: Pakistani aircraft bombing Panjshir"
    nrf = "The National Resistance Front denies Taliban claims that Panjshir has fallen"
    assert contradiction_links("c1", "i1", confirms, [("c5", "i5", nrf, 0.4)], weak_bar=0.5) == ()
    linked = contradiction_links("c1", "i1", confirms, [("c5", "i5", nrf, 0.55)], weak_bar=0.5)
    assert [link.cue for link in linked] == ["antonym:confirms/denies"] * 2


def test_a_near_claim_is_judged_against_the_sentence_that_came_near_it() -> None:
    # The denial is of the Taliban's claim; the second sentence, which resembles the
    # jets claim, denies nothing. Judged as a whole, the item denied the jets claim.
    stage = ClusterStage()
    jets = "Pakistani jets are bombing resistance positions in the Panjshir valley"
    stage.process(orjson.dumps({"id": "a", "text": jets, "created_at": 1630900000, "author": "x"}))
    item = (
        "Taliban claims of capturing Panjshir are false. "
        "NRF forces hold their positions in the Panjshir valley despite bombing."
    )
    out = stage.process(orjson.dumps({"id": "b", "text": item, "created_at": 1630900060, "author": "y"}))
    assert isinstance(out, ClusterOutput) and out.claim.reason == "new"
    assert out.links == ()


def test_the_learnt_judge_is_asked_only_about_claims_matched_as_surely_as_the_weak_cues() -> None:
    from streams.stages import contradiction_links

    asked: list[str] = []

    def judge(_a: str, b: str) -> float:
        asked.append(b)
        return 0.9

    claim = "The convoy left the city at dawn"
    parked = "The convoy is parked in the city"
    assert (
        contradiction_links("c1", "i1", claim, [("c2", "i2", parked, 0.35)], weak_bar=0.5, judge=judge) == ()
    )
    assert asked == []
    sure = contradiction_links("c1", "i1", claim, [("c2", "i2", parked, 0.55)], weak_bar=0.5, judge=judge)
    assert [link.cue for link in sure] == ["model:0.90", "model:0.90"] and asked == [parked]


def test_a_stage_restored_from_its_exemplar_records_places_later_posts_as_an_undisturbed_one() -> None:
    from streams.messages import ClusterExemplars, ExactText

    posts = [
        "Pakistani aircraft are bombing resistance positions in the Panjshir valley",
        "Taliban say Panjshir province has been completely conquered",
        "Floods close the main road from Kabul to Jalalabad",
        "Pakistani jets bombing resistance positions in Panjshir valley tonight, sources say",
        "Panjshir has been completely conquered, Taliban spokesman says",
        "Main road from Kabul to Jalalabad closed by floods",
        "Reports: Pakistani aircraft bombing the Panjshir valley",
        "Taliban claim Panjshir completely conquered",
        "Kabul to Jalalabad road closed after floods",
    ]

    def item(n: int) -> bytes:
        return orjson.dumps(
            {"id": f"t:{n}", "text": posts[n], "created_at": 1630900000 + n, "author": f"a{n}"}
        )

    undisturbed = ClusterStage()
    expected = []
    for n in range(len(posts)):
        out = undisturbed.process(item(n))
        assert isinstance(out, ClusterOutput)
        expected.append(out.claim.cluster_id)

    first = ClusterStage()
    records: dict[str, bytes] = {}  # the changelog, compacted: the latest record per cluster
    texts: dict[bytes, bytes] = {}
    for n in range(4):
        out = first.process(item(n))
        assert isinstance(out, ClusterOutput)
        if out.exemplars:
            record = ClusterExemplars(out.claim.cluster_id, 0, out.update.representative, out.exemplars)
            records[record.cluster_id] = record.to_json()
        texts.update((t.key(), t.to_json()) for t in out.exact)
    assert len(texts) == 4, "one record per text first seen"
    restarted = ClusterStage()
    restored = restarted.restore_clusters(
        (ClusterExemplars.from_json(r) for r in records.values()),
        [ExactText.from_json(t) for t in texts.values()],
    )
    assert restored == 3
    assert restarted.restore_clusters(ClusterExemplars.from_json(r) for r in records.values()) == 0, (
        "a cluster the matcher holds keeps its own (newer) state"
    )
    again = []
    for n in range(4, len(posts)):
        out = restarted.process(item(n))
        assert isinstance(out, ClusterOutput)
        again.append(out.claim.cluster_id)
    assert again == expected[4:]
    assert len(set(expected)) == 3


def test_an_alias_record_carries_the_ranks_of_both_clusters_and_reads_without_them() -> None:
    ranked = ClusterAlias("c9", "c1", 0.91, 9.0, 1.0)
    assert decode_claims_record(ranked.to_json()) == ranked
    earlier = orjson.dumps({"v": 1, "kind": "alias", "alias": "c9", "canonical": "c1", "score": 0.9})
    assert decode_claims_record(earlier) == ClusterAlias("c9", "c1", 0.9)


@pytest.mark.parametrize("stop_at", [300, 1700])
def test_a_stage_restored_mid_stream_assigns_every_later_post_as_one_never_stopped(stop_at: int) -> None:
    # The order exemplars came in decides what a later post is compared with: the index
    # reads only the newest ``max_scan`` clusters of a word (kept small here so that order
    # matters). Restored cluster by cluster, post 2761 founded a cluster after a restart at
    # 1700 instead of joining one (the crash test found this at full scale).
    from bench.synthetic import synthetic_items
    from streams.domain.clustering import ClusterConfig
    from streams.messages import ClusterExemplars, ExactText

    config = ClusterConfig(max_scan=4)
    raws = [raw for _, raw in synthetic_items(3000, claims=400, seed=41)]

    def assign(stage: ClusterStage, raw: bytes) -> ClusterOutput:
        out = stage.process(raw, source=0)
        assert isinstance(out, ClusterOutput)
        return out

    undisturbed = ClusterStage(config)
    expected = [assign(undisturbed, raw).claim.cluster_id for raw in raws]
    first = ClusterStage(config)
    records: dict[str, bytes] = {}
    texts: list[bytes] = []
    for raw in raws[:stop_at]:
        out = assign(first, raw)
        if out.exemplars:
            records[out.claim.cluster_id] = ClusterExemplars(
                out.claim.cluster_id, 0, out.update.representative, out.exemplars
            ).to_json()
        texts += [t.to_json() for t in out.exact]
    restarted = ClusterStage(config)
    restarted.restore_clusters(
        (ClusterExemplars.from_json(r) for r in records.values()), [ExactText.from_json(t) for t in texts]
    )
    # A crash redoes the posts after the last commit: they land where they landed.
    again = [assign(restarted, raw).claim.cluster_id for raw in raws[stop_at - 50 :]]
    assert again == expected[stop_at - 50 :]


def test_a_restart_knows_a_cluster_founded_by_a_text_with_nothing_to_match_by() -> None:
    from streams.messages import ClusterExemplars

    def post(n: int, text: str, retweet_of: str | None = None) -> bytes:
        return orjson.dumps(
            {
                "id": f"t:{n}",
                "text": text,
                "created_at": 1630900000 + n,
                "author": f"a{n}",
                "retweet_of": retweet_of,
            }
        )

    first = ClusterStage()
    founded = first.process(post(1, "out of all of them, what is the most"))
    assert isinstance(founded, ClusterOutput) and founded.claim.reason == "new"
    assert founded.exemplars, "a record even without an exemplar, or a restart forgets the cluster"
    restarted = ClusterStage()
    record = ClusterExemplars(founded.claim.cluster_id, 0, founded.update.representative, founded.exemplars)
    assert restarted.restore_clusters([ClusterExemplars.from_json(record.to_json())]) == 1
    retweet = restarted.process(post(2, "RT @a1: out of all of them, what is the most", retweet_of="t:1"))
    assert isinstance(retweet, ClusterOutput)
    assert (retweet.claim.cluster_id, retweet.claim.reason) == (founded.claim.cluster_id, "retweet")


def test_link_texts_are_announced_for_clashes_only_and_come_back_after_a_restart() -> None:
    from streams.domain.normalise import normalise
    from streams.domain.pair_features import Signature
    from streams.messages import ClusterExemplars
    from streams.stages import BlockStage

    def item(n: int, text: str) -> bytes:
        return orjson.dumps({"id": f"t:{n}", "text": text, "created_at": 1630900000 + n, "author": f"a{n}"})

    safe = "Police say the mayor is safe after a hoax post about a shooting at city hall"
    first = ClusterStage()
    founded = first.process(item(1, safe))
    story = first.process(item(2, safe + ". The mayor was not hurt, police said."))
    assert isinstance(founded, ClusterOutput) and isinstance(story, ClusterOutput)
    said = [a.entry for a in story.announces]
    assert said and all(e.link_only and e.full == "the mayor was not hurt police said" for e in said)
    assert [e.link_only for e in story.exemplars] == [False, True]
    # In a block, a link text meets another cluster's claim for a clash, never for a merge,
    # and never meets another link text.
    blocks = BlockStage()
    twin = dataclasses.replace(said[0], cluster_id="c-other", item_id="t:9", link_only=False)
    merges, _, kept = blocks.process(story.announces[0], [twin])
    assert merges == [] and len(kept) == 2
    hurt = Signature.of(normalise("The mayor was hurt, police said"))
    claim = dataclasses.replace(twin, match=hurt.match, full=hurt.full)
    _, links, _ = blocks.process(story.announces[0], [claim])
    assert [link.other for link in links if link.cluster_id == said[0].cluster_id] == ["c-other"]
    both = dataclasses.replace(claim, link_only=True)
    assert blocks.process(story.announces[0], [both])[:2] == ([], [])

    record = ClusterExemplars(story.claim.cluster_id, 0, story.update.representative, story.exemplars)
    restarted = ClusterStage()
    assert restarted.restore_clusters([ClusterExemplars.from_json(record.to_json())]) == 1
    state = restarted.clusterer.get(story.claim.cluster_id)
    assert state is not None and [s.full for s in state.link_texts] == ["the mayor was not hurt police said"]
    assert len(state.exemplars) == 1
