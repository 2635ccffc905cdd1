"""The two stateful stages as plain objects: bytes in, records out.

Why here and not in the agents: the agents only move bytes between topics;
everything that decides (validation, clustering, stance, independence, alert
policy) happens in these classes, which tests and batch tools drive directly
without a broker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from rapidfuzz import fuzz

from streams.domain.actors import NO_ACTORS, Actors
from streams.domain.asserted import claim_sentences
from streams.domain.blocking import (
    BlockEntry,
    BlockMatch,
    add_to_block,
    block_keys,
    block_matches,
    entries_agree,
)
from streams.domain.clustering import Assignment, ClaimClusterer, ClusterConfig, ClusterState
from streams.domain.contradiction import ContradictionConfig, Judge, contradiction
from streams.domain.cues import denies
from streams.domain.matching import SimilarityScorer, match_text
from streams.domain.merging import ClusterRef
from streams.domain.normalise import AliasTable, Normalised, load_aliases, normalise
from streams.domain.policy import (
    ClaimEvidence,
    EvidenceState,
    PolicyBook,
    PolicyConfig,
    Verdict,
    add_evidence,
    add_evidence_batch,
    decide,
    evaluate,
    go_quiet,
    is_quiet,
    support_summary,
    with_opposing,
)
from streams.domain.provenance import (
    EvidenceItem,
    Origin,
    attribution_targets,
    group_origins,
    linked_domains,
    text_fingerprint,
)
from streams.domain.registry import SourceRegistry, domain_of
from streams.domain.stance import StanceModel, default_stance_model
from streams.errors import InvalidItem
from streams.messages import (
    Alert,
    BlockAnnounce,
    ClaimAssigned,
    ClusterExemplars,
    ClusterLink,
    ClusterUpdate,
    EvidenceMoved,
    ExactText,
    MergeFound,
    OpposingSummary,
    QuietCheck,
)
from streams.records import Item, decode_item

__all__ = [
    "LINK_TEXT_CHARS",
    "PREFETCH_BATCH",
    "BlockStage",
    "ClusterOutput",
    "ClusterStage",
    "CorroborationStage",
    "DeadLetter",
    "Handled",
    "contradiction_links",
    "match_detail",
    "platform_signals",
]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    raw: bytes
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class ClusterOutput:
    claim: ClaimAssigned
    update: ClusterUpdate
    announces: tuple[BlockAnnounce, ...] = ()
    """New exemplars under each of their block keys, for cross-worker merging."""
    merges: tuple[MergeFound, ...] = ()
    """Clusters of this worker that the item showed to be one claim."""
    links: tuple[ClusterLink, ...] = ()
    """Clusters of this worker whose claim the item contradicts (one record per side)."""
    exemplars: tuple[BlockEntry, ...] = ()
    """All exemplars of the item's cluster, in order, when the item added one (else empty):
    what a restarted worker needs to rebuild the cluster (``ClusterExemplars``)."""
    exact: tuple[ExactText, ...] = ()
    """Texts seen for the first time (the item's own), with the cluster they now lead to."""


@dataclass(frozen=True, slots=True)
class Handled:
    """What one claims-topic record did to its cluster's evidence."""

    evidence: ClaimEvidence | None
    """To store; None when there is nothing (a quiet check for a claim not held here)."""
    alert: Alert | None
    sends: tuple[OpposingSummary, ...] = ()
    """Records for other clusters' owners (our supporting origins, for those we contradict)."""
    forget: bool = False
    """Delete the stored evidence: a claim that never alerted and went quiet (its cluster
    left the matcher), so that evidence does not outlive it and state stays bounded."""


T = TypeVar("T")

#: Items whose claim texts the cluster agent encodes in one pass (``ClusterStage.prefetch``):
#: a pass over one text costs about as much as over a dozen, bound by reading the weights.
PREFETCH_BATCH = 64

#: Cues that say only that one text denies or counts something, not what: they need
#: the texts to be surely about one thing (``ClusterConfig.weak_link_threshold``). A
#: denial of someone's part is one: naming them ("Russian diplomats") is no blame; so is
#: "confirms" against "denies", which may confirm and deny two things ("a commando
#: confirms jets are bombing Panjshir" / "the NRF denies Taliban claims Panjshir fell");
#: so are two negations of different words ("no accident" / "no indication of arson").
_WEAK_CUES = (
    "denial",
    "numbers",
    "model",
    "negation:involvement",
    "negation:crossed",
    "attribution",
    "antonym:confirm",
    "antonym:den",
)

#: Characters of each clashing text a link carries: a tweet whole, a wire sentence's
#: start, so a link stays small in the claims topic and in the evidence table.
LINK_TEXT_CHARS = 280


def contradiction_links(
    cluster_id: str,
    item_id: str,
    text: str,
    others: Sequence[tuple[str, str, str, float]],
    *,
    weak_bar: float = 0.0,
    judge: Judge | None = None,
    actors: Actors = NO_ACTORS,
) -> tuple[ClusterLink, ...]:
    """Links both ways for each ``(cluster, item, text, match score)`` that ``text`` contradicts.

    The texts were matched above the link threshold (about the same thing) but
    below the merge threshold, so a clash of polarity, opposite words or counts
    makes two claims of one event that cannot both hold. A negation or an
    opposite word clashes on what the texts share; a one-sided denial ("NRF
    denies Taliban claims") or another count may be about something else the
    other text does not say, so those need a match score of ``weak_bar`` or, below it,
    the shared words to say the same (``contradiction`` without the matcher's verdict);
    the learnt ``judge`` needs ``weak_bar`` (asked only there, where no cue fired: a pass
    of its own per pair). Two texts blaming different sides of one conflict (``actors``)
    are a weak cue too: "Israeli strikes pound Gaza" and "Hamas fires rockets from Gaza"
    may be two events. A cluster may come with several exemplars (best first): the first
    that clashes links it, once.
    """
    out: list[ClusterLink] = []
    cfg = ContradictionConfig(actors=actors)
    linked: set[str] = set()
    for other, other_item, other_text, score in others:
        if other == cluster_id or other in linked:
            continue
        found = contradiction(
            text, other_text, cfg, about_same=True, judge=judge if score >= weak_bar else None
        )
        # Below the weak bar, a denial still links when the shared words too say the two
        # are about one thing: two judgements of the subject instead of one.
        sure = score >= weak_bar or not found.cue.startswith(_WEAK_CUES)
        if found.contradicts and (sure or contradiction(text, other_text, cfg).contradicts):
            ours, theirs = text[:LINK_TEXT_CHARS], other_text[:LINK_TEXT_CHARS]
            out.append(
                ClusterLink(cluster_id, other, found.cue, score, (item_id, other_item), (ours, theirs))
            )
            out.append(
                ClusterLink(other, cluster_id, found.cue, score, (other_item, item_id), (theirs, ours))
            )
            linked.add(other)
    return tuple(out)


def _digest(summary: list[dict[str, Any]]) -> str:
    return hashlib.blake2b(orjson.dumps(summary, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


def platform_signals(item: Item) -> dict[str, Any]:
    """Followers and account age, where the connector passed them (``followers``,
    ``account_created_at`` as epoch seconds or ISO 8601); anything unreadable is ignored."""
    out: dict[str, Any] = {}
    followers = item.extra.get("followers")
    if isinstance(followers, int) and not isinstance(followers, bool) and followers >= 0:
        out["followers"] = followers
    created = item.extra.get("account_created_at")
    ts: float | None = None
    if isinstance(created, int | float) and not isinstance(created, bool):
        ts = float(created)
    elif isinstance(created, str):
        with contextlib.suppress(ValueError):
            ts = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    if ts is not None and ts <= item.created_at:
        out["account_age_days"] = (item.created_at - ts) / 86400.0
    return out


_TAGS_CAP = 10

#: Items an alert explains one by one (origin roots first); the counts stay exact.
ALERT_ITEMS = 20


def _explained_items(evidence: ClaimEvidence, origins: Sequence[Origin]) -> list[dict[str, Any]]:
    roots = {o.root_item for o in origins if o.via_cluster is None}
    ordered = sorted(evidence.items, key=lambda i: (i.item_id not in roots, i.created_at, i.item_id))
    claim = evidence.claim.lower()
    out = []
    for it in ordered[:ALERT_ITEMS]:
        span = fuzz.partial_ratio_alignment(claim, it.text.lower()) if claim and it.text else None
        out.append(
            {
                "item": it.item_id,
                "source": it.source_id,
                "stance": it.stance.value,
                "stance_cue": it.stance_cue,
                "match_score": round(it.match_score, 4),
                "span": None
                if span is None
                else [span.dest_start, span.dest_end, it.text[span.dest_start : span.dest_end]],
                "span_ratio": None if span is None else round(span.score / 100.0, 4),
                "url": it.url,
            }
        )
    return out


def match_detail(assignment: Assignment) -> dict[str, object]:
    """The matched spans of the newest member and its exemplar, for the cluster update."""
    query, matched = assignment.query, assignment.matched
    if query is None or matched is None or not query.match or not matched.match:
        return {}
    al = fuzz.partial_ratio_alignment(query.match, matched.match)
    if al is None:
        return {}
    return {
        "text": query.match,
        "span": [al.src_start, al.src_end, query.match[al.src_start : al.src_end]],
        "matched_text": matched.match,
        "matched_span": [al.dest_start, al.dest_end, matched.match[al.dest_start : al.dest_end]],
        "partial_ratio": round(al.score / 100.0, 4),
        "token_set_ratio": round(fuzz.token_set_ratio(query.match, matched.match) / 100.0, 4),
    }


class ClusterStage:
    """Validates raw items and assigns each to a claim cluster."""

    def __init__(
        self,
        config: ClusterConfig | None = None,
        *,
        aliases: AliasTable | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clusterer = ClaimClusterer(config)
        self._aliases = aliases or load_aliases()
        self._clock = clock
        self._prepared: dict[bytes, tuple[Item, list[Normalised]]] = {}
        """The last prefetched batch, decoded and normalised, so ``process`` does it once."""

    def _prepare(self, raw: bytes) -> tuple[Item, list[Normalised]]:
        """The item of ``raw`` and its claim sentences, normalised (``InvalidItem`` if bad)."""
        prepared = self._prepared.pop(raw, None)
        if prepared is not None:
            return prepared
        item = decode_item(raw)
        return item, [normalise(s, self._aliases) for s in claim_sentences(item.text)]

    def process(self, raw: bytes, *, match: bool = True, source: object = None) -> ClusterOutput | DeadLetter:
        """One raw item; ``source`` is its partition (event time is kept per partition)."""
        try:
            item, sentences = self._prepare(raw)
        except InvalidItem as exc:
            return DeadLetter(raw, exc.reason, exc.detail)
        item = item.stamped(self._clock())
        assignment = self.clusterer.assign(
            item.id,
            sentences,
            item.created_at,
            display_text=item.text,
            retweet_of=item.retweet_of,
            responds_to=item.reply_to or item.quote_of,
            now=item.ingested_at,
            source=source,
            match=match,
        )
        state = self.clusterer.get(assignment.cluster_id)
        assert state is not None  # assign() just touched it
        now = self._clock()
        announces = tuple(
            BlockAnnounce(
                key,
                BlockEntry(
                    cluster_id=state.cluster_id,
                    first_seen=state.created,
                    item_id=item.id,
                    match=sig.match,
                    full=sig.full,
                    numbers=tuple(sorted(sig.numbers)),
                    keys=keys,
                    touched_at=now,
                    event_ts=item.created_at,
                    entities=tuple(sorted(sig.entities)),
                    link_only=link_only,
                ),
            )
            for sigs, link_only in ((assignment.new_exemplars, False), (assignment.new_link_texts, True))
            for sig in sigs
            for keys in (block_keys(sig),)
            for key in keys
        )
        claim = ClaimAssigned(
            item=item,
            cluster_id=assignment.cluster_id,
            score=assignment.score,
            matched_item=assignment.matched_item,
            reason=assignment.reason,
            claim=state.representative,
            match_text=" ".join(m for n in sentences if (m := match_text(n))),
            text_urls=tuple(u for n in sentences for u in n.urls),
        )
        update = ClusterUpdate(
            cluster_id=state.cluster_id,
            representative=state.representative,
            size=state.size,
            first_seen=state.first_seen,
            last_seen=state.last_seen,
            members=list(state.members),
            newest={
                "item": item.id,
                "score": round(assignment.score, 4),
                "matched_item": assignment.matched_item,
                "reason": assignment.reason,
                "match": match_detail(assignment),
            },
        )
        joined = ClusterRef(state.created, state.cluster_id)
        merges = tuple(
            MergeFound(joined, ClusterRef(created, other), score, (item.id, item.id))
            for other, created, score in assignment.also_matched
        )
        # Each near cluster is judged against the sentence that came near it: "Taliban
        # claims of capturing Panjshir are false. NRF forces hold their positions in the
        # valley" denies the Taliban's claim, not a claim its second sentence resembles.
        near_by_text: dict[str, list[tuple[str, str, str, float]]] = {}
        for cid, score, ex, ex_item, sentence in assignment.near:
            near_by_text.setdefault(sentence.full, []).append((cid, ex_item, ex.full, score))
        links: list[ClusterLink] = []
        for own, others in near_by_text.items():
            # One link per other cluster: its first exemplar that clashes (best first).
            linked = {link.other for link in links if link.cluster_id == state.cluster_id}
            links += contradiction_links(
                state.cluster_id,
                item.id,
                own,
                [o for o in others if o[0] not in linked],
                weak_bar=self.clusterer.config.weak_link_threshold,
                judge=self.clusterer.config.judge,
                actors=self.clusterer.config.actors,
            )
        exemplars = (
            self._exemplar_record(state) if assignment.new_exemplars or assignment.new_link_texts else ()
        )
        if assignment.is_new and not exemplars:
            exemplars = (self._bare_entry(state, item.id),)
        exact = tuple(ExactText(cid, it, m) for m, cid, it in self.clusterer.drain_exact_added())
        return ClusterOutput(claim, update, announces, merges, tuple(links), exemplars, exact)

    def _exemplar_record(self, state: ClusterState) -> tuple[BlockEntry, ...]:
        """A cluster's exemplars, then its link texts, as the exemplars table keeps them, to
        re-learn after a restart."""
        held = self.clusterer
        return tuple(
            BlockEntry(
                cluster_id=state.cluster_id,
                first_seen=state.created,
                item_id=ex_item,
                match=ex.match,
                full=ex.full,
                numbers=ex.numbers,
                keys=(),
                touched_at=added_at,  # when this exemplar came: a restart re-learns them in that order
                event_ts=state.last_seen,
                entities=ex.entities,
                link_only=link_only,
            )
            for texts, link_only in (
                (held.exemplar_items(state.cluster_id), False),
                (held.exemplar_items(state.cluster_id, link_texts=True), True),
            )
            for ex, ex_item, added_at in texts
        )

    @staticmethod
    def _bare_entry(state: ClusterState, item_id: str) -> BlockEntry:
        """The record of a cluster founded by a text with nothing to match by (only common
        words, "wow"): no exemplar, but a restart must still know it, or each retweet of
        its post after the restart founds a cluster of its own (seen in the crash test:
        3 posts of 20,000 after a restart, each then merged back as an extra alert)."""
        return BlockEntry(
            cluster_id=state.cluster_id,
            first_seen=state.created,
            item_id=item_id,
            match="",
            full="",
            numbers=(),
            keys=(),
            touched_at=state.touched_at,
            event_ts=state.last_seen,
            entities=(),
        )

    def prefetch(self, raws: Sequence[bytes]) -> None:
        """Encode the claim texts of a batch of items in one pass, before they are processed.

        Why: the sentence encoder's pass over one text is bound by reading its 40 MB
        of layer weights, so one text costs about as much as a dozen in a batch; the
        items then find their vectors cached. Bad records and retweets (which join
        their original without matching) are skipped here and handled by ``process``.
        """
        encoder = self.clusterer.config.match.encoder
        if encoder is None:
            return
        self._prepared = {}
        texts: list[str] = []
        for raw in raws:
            try:
                item, sentences = self._prepared[raw] = self._prepare(raw)
            except InvalidItem:
                continue
            if item.retweet_of is None:
                texts += [sig.full for sig in self.clusterer.claim_texts(sentences)]
        if texts:
            encoder.embed_many(texts)

    def in_batches(self, records: Iterable[T], raw: Callable[[T], bytes]) -> Iterator[T]:
        """``records`` in order, ``PREFETCH_BATCH`` at a time, each batch ``prefetch``-ed
        before it is yielded: what the cluster agent does, for the batch tools."""
        chunk: list[T] = []
        for record in records:
            chunk.append(record)
            if len(chunk) == PREFETCH_BATCH:
                self.prefetch([raw(r) for r in chunk])
                yield from chunk
                chunk = []
        self.prefetch([raw(r) for r in chunk])
        yield from chunk

    def restore_clusters(self, records: Iterable[ClusterExemplars], exact: Iterable[ExactText] = ()) -> int:
        """Re-learn whole clusters as an earlier run held them (``restore_in_parts`` at once).
        Returns how many were restored."""
        return sum(len(part) for part in self.restore_in_parts(records, exact))

    def restore_in_parts(
        self, records: Iterable[ClusterExemplars], exact: Iterable[ExactText] = (), part: int = 5000
    ) -> Iterator[list[ClusterExemplars]]:
        """Re-learn whole clusters, yielding the records completed in each ``part`` of
        exemplars, so that a worker restoring a million of them can let its heartbeats
        run in between.

        The exemplars go in the order they came, across clusters (each entry's
        ``touched_at``, then cluster id; records of earlier versions carry their cluster's
        last touch on every entry, so theirs go cluster by cluster, in the order the
        clusters were last touched), then the texts that lead straight to them. That is
        the matcher's own order, which decides what a later post is compared with
        (``ClaimClusterer.restore``).
        Clusters the matcher holds already are left out: its copy is as new as the
        record or newer."""
        todo = [r for r in records if r.entries and self.clusterer.get(r.cluster_id) is None]
        order = sorted(
            (entry.touched_at, record.cluster_id, index, rank)
            for rank, record in enumerate(todo)
            for index, entry in enumerate(record.entries)
        )
        for start in range(0, len(order), part):
            done: list[ClusterExemplars] = []
            for _, _, index, rank in order[start : start + part]:
                record = todo[rank]
                entry = record.entries[index]
                self.clusterer.restore(
                    entry.cluster_id,
                    created=entry.first_seen,
                    item_id=entry.item_id,
                    exemplar=entry.signature(),
                    representative=record.representative,
                    event_ts=entry.event_ts or entry.first_seen,
                    touched_at=entry.touched_at,
                    link_only=entry.link_only,
                )
                if index == len(record.entries) - 1:
                    done.append(record)
            yield done
        restored = {r.cluster_id for r in todo}
        for text in exact:
            if text.cluster_id in restored:
                self.clusterer.restore_exact(text.match, text.cluster_id, text.item_id)

    def forget(self, cluster_ids: Iterable[str]) -> int:
        """Clusters of partitions this worker lost: ``ClaimClusterer.forget``."""
        return self.clusterer.forget(cluster_ids)

    def expire(self, now: float) -> int:
        return len(self.clusterer.expire(now))

    def drain_expired(self) -> list[str]:
        return self.clusterer.drain_expired()

    @property
    def watermark(self) -> float:
        return self.clusterer.watermark


class BlockStage:
    """One block key's recent exemplars: which clusters the new one makes one claim with."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self._scorer = SimilarityScorer(self.config.match)

    def process(
        self, announce: BlockAnnounce, entries: Sequence[BlockEntry], *, match: bool = True
    ) -> tuple[list[MergeFound], list[ClusterLink], list[BlockEntry]]:
        """The merges and contradictions the new exemplar shows, and the block with it added.

        Entries scoring at least the merge threshold make one claim with it;
        those between the link threshold and that are about the same thing and
        are checked for a contradiction. ``match=False`` only adds it
        (benchmarks filling a window of distinct claims).
        """
        cfg, new = self.config, announce.entry
        found = (
            block_matches(
                announce.key,
                new,
                entries,
                self._scorer,
                threshold=min(cfg.link_threshold, cfg.merge_threshold),
                quiet_seconds=cfg.quiet_seconds,
            )
            if match
            else []
        )

        def one_claim(hit: BlockMatch) -> bool:
            # A link text is compared for a clash only, never as the same claim.
            return (
                hit.score >= cfg.merge_threshold
                and not (new.link_only or hit.entry.link_only)
                and cfg.actors.same_doers(new.full, hit.entry.full)
            )

        merges = [
            MergeFound(
                ClusterRef(new.first_seen, new.cluster_id),
                ClusterRef(hit.entry.first_seen, hit.entry.cluster_id),
                hit.score,
                (new.item_id, hit.entry.item_id),
            )
            for hit in found
            if one_claim(hit) and entries_agree(new, hit.entry)
        ]
        links = contradiction_links(
            new.cluster_id,
            new.item_id,
            new.full,
            [
                (hit.entry.cluster_id, hit.entry.item_id, hit.entry.full, hit.score)
                for hit in found
                # A link text is set against what another cluster claims, not another link text.
                if not one_claim(hit) and not (new.link_only and hit.entry.link_only)
            ],
            weak_bar=cfg.weak_link_threshold,
            judge=cfg.judge,
            actors=cfg.actors,
        )
        kept = add_to_block(entries, new, max_entries=cfg.block_entries, quiet_seconds=cfg.quiet_seconds)
        return merges, list(links), kept


class CorroborationStage:
    """Folds cluster members into per-cluster evidence and decides alerts."""

    def __init__(
        self,
        registry: SourceRegistry,
        config: PolicyConfig | PolicyBook | None = None,
        *,
        aliases: AliasTable | None = None,
        stance_model: StanceModel | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.policies = config if isinstance(config, PolicyBook) else PolicyBook(config or PolicyConfig())
        self._stance = stance_model or default_stance_model()
        self._aliases = aliases or load_aliases()
        self._clock = clock

    def policy(self, evidence: ClaimEvidence) -> PolicyConfig:
        """The policy of the claim's topic."""
        return self.policies.for_topic(evidence.topic)

    def evidence_item(self, claim: ClaimAssigned) -> EvidenceItem:
        item = claim.item
        source = self.registry.resolve(
            author=item.author,
            outlet=item.outlet,
            url=item.url,
            verified=item.verified,
            **platform_signals(item),
        )
        if claim.match_text is None:  # a record from before the cluster stage sent its view
            norm = normalise(item.text, self._aliases)
            text, text_urls = match_text(norm), norm.urls
        else:
            text, text_urls = claim.match_text, claim.text_urls
        # A response joined because it answers a post of the cluster, not because it
        # restates the claim: its stance is the model's reading of a reply to the claim.
        relevance = None if claim.reason == "response" else claim.score
        stance = self._stance.classify(
            claim.claim or item.text, item.text, relevance=relevance, actors=self.registry.actors
        )
        cited = attribution_targets(item.text, source, self.registry, claim.claim)
        return EvidenceItem(
            item_id=item.id,
            author=item.author or f"unknown:{item.id}",
            source_id=source.id,
            source_kind=source.kind,
            weight=source.weight,
            party=source.party,
            domain=domain_of(item.outlet),
            created_at=item.created_at,
            stance=stance.stance,
            stance_cue=stance.cue,
            match_score=claim.score,
            fingerprint=text_fingerprint(text),
            n_tokens=len(text.split()),
            retweet_of=item.retweet_of,
            quote_of=item.quote_of,
            reply_to=item.reply_to,
            cited_sources=cited.speakers,
            claim_sources=cited.claimants,
            retweeted_author=cited.retweeted,
            cited_handles=tuple(h for h in cited.handles if h != item.author.lower()),
            linked_domains=linked_domains((*item.urls, *text_urls)),
            text=item.text[:280],
            denies=denies(item.text),
            url=item.url,
        )

    def process(
        self, claim: ClaimAssigned, evidence: ClaimEvidence | None
    ) -> tuple[ClaimEvidence, Alert | None]:
        if evidence is None:
            evidence = ClaimEvidence(cluster_id=claim.cluster_id, claim=claim.claim)
        elif not evidence.claim:  # opened by a contradiction link before its first claim
            evidence.claim = claim.claim
        ev_item = self.evidence_item(claim)
        evidence.touched_at = self._clock()
        tags = claim.item.extra.get("topics")
        if isinstance(tags, list) and tags:
            named = [str(t) for t in tags]
            if not evidence.topic:
                evidence.topic = self.policies.topic_of(named)
            for tag in named:
                if tag not in evidence.tags and len(evidence.tags) < _TAGS_CAP:
                    evidence.tags.append(tag)
        decided = add_evidence(evidence, ev_item, self.registry, self.policy(evidence))
        if decided is None:
            return evidence, None
        return evidence, self._alert(evidence, decided, ev_item.item_id, claim.item.ingested_at)

    def absorb(
        self, moved: EvidenceMoved, evidence: ClaimEvidence | None, claim_text: str = ""
    ) -> tuple[ClaimEvidence, Alert | None]:
        """Fold the evidence of a cluster merged into this one; one alert at most."""
        if evidence is None:
            evidence = ClaimEvidence(cluster_id=moved.cluster_id, claim=claim_text)
        items = sorted(moved.items, key=lambda i: (i.created_at, i.item_id))
        if moved.from_cluster and moved.from_cluster not in evidence.merged_from:
            evidence.merged_from.append(moved.from_cluster)
        # A claim merged in is no longer an opposing side (its supporters are ours now).
        dropped = evidence.opposed.pop(moved.from_cluster, None) is not None
        inherited = {k: v for k, v in moved.opposed.items() if not evidence.is_self(k)}
        new_links = {k: v for k, v in inherited.items() if k not in evidence.opposed}
        evidence.opposed.update(new_links)
        decided = add_evidence_batch(evidence, items, self.registry, self.policy(evidence))
        if decided is None and (new_links or dropped):
            decided = decide(evidence, self.registry, self.policy(evidence), at=evidence.last_seen, cause="")
        if decided is None:
            return evidence, None
        return evidence, self._alert(evidence, decided, items[-1].item_id if items else "", None)

    def link(
        self, link: ClusterLink, evidence: ClaimEvidence | None
    ) -> tuple[ClaimEvidence, OpposingSummary | None]:
        """Record that ``link.other`` contradicts this claim; our supporting origins, for it.

        The summary is answered on every delivery of the link, so a crash between
        recording the link and sending it cannot leave the other side without it.
        None when ``link.other`` is this claim under an id merged into it.
        """
        if evidence is None:
            evidence = ClaimEvidence(cluster_id=link.cluster_id, claim="")
        if evidence.is_self(link.other):
            return evidence, None
        if link.other not in evidence.opposed:
            evidence.opposed[link.other] = {
                # The clashing text stands for the other claim until its summary names it.
                "claim": link.texts[1],
                "cue": link.cue,
                "score": link.score,
                "items": list(link.items),
                "origins": [],
                "digest": "",
            }
        summary = self._summary(evidence)
        digest = _digest(summary)
        evidence.summary_sent = digest
        return evidence, OpposingSummary(link.other, evidence.cluster_id, evidence.claim, summary, digest)

    def oppose(
        self, summary: OpposingSummary, evidence: ClaimEvidence | None
    ) -> tuple[ClaimEvidence, Alert | None]:
        """Take in the supporting origins of a contradicting cluster; an alert if the state moves."""
        if evidence is None:
            evidence = ClaimEvidence(cluster_id=summary.cluster_id, claim="")
        if evidence.is_self(summary.from_cluster):
            return evidence, None  # our own claim under an old id, forwarded after a merge
        known = evidence.opposed.get(summary.from_cluster)
        if known is not None and known.get("digest") == summary.digest:
            return evidence, None  # redelivered or unchanged
        entry = dict(known or {"cue": "", "score": 0.0, "items": []})
        # A side whose evidence began with a link has no claim text yet: keep the clashing one.
        claim = summary.claim or str(entry.get("claim", ""))
        entry.update(claim=claim, origins=summary.origins, digest=summary.digest)
        evidence.opposed[summary.from_cluster] = entry
        decided = decide(evidence, self.registry, self.policy(evidence), at=evidence.last_seen, cause="")
        if decided is None:
            return evidence, None
        return evidence, self._alert(evidence, decided, f"contradiction from {summary.from_cluster}", None)

    def handle(
        self,
        record: ClaimAssigned | EvidenceMoved | ClusterLink | OpposingSummary | QuietCheck,
        current: ClaimEvidence | None,
    ) -> Handled:
        """Any record of the claims topic but an alias, for the cluster it names (already resolved).

        The stream's agent and ``streams.batch`` both call this, so they cannot drift apart.
        """
        alert: Alert | None = None
        sends: list[OpposingSummary] = []
        if isinstance(record, QuietCheck):
            if current is None:
                return Handled(None, None)
            if current.version == 0:  # never alerted: nothing to tell, nothing to keep once gone
                quiet = record.left_matcher or is_quiet(
                    current, self.policy(current), event_time=record.event_time, wall_time=record.wall_time
                )
                return Handled(None, None, forget=quiet)
            return Handled(current, self.check_quiet(record, current))
        if isinstance(record, EvidenceMoved):
            evidence, alert = self.absorb(record, current, record.claim)
        elif isinstance(record, ClusterLink):
            evidence, summary = self.link(record, current)
            if summary is not None:
                sends.append(summary)
        elif isinstance(record, OpposingSummary):
            evidence, alert = self.oppose(record, current)
        else:
            evidence, alert = self.process(record, current)
        sends.extend(self.summaries_due(evidence))
        return Handled(evidence, alert, tuple(sends))

    def summaries_due(self, evidence: ClaimEvidence) -> list[OpposingSummary]:
        """Our supporting origins for each contradicting cluster, when they changed since last sent."""
        if not evidence.opposed or evidence.items_total == evidence.summary_items:
            return []  # no item came since the last summary: our support cannot have changed
        summary = self._summary(evidence)
        digest = _digest(summary)
        if digest == evidence.summary_sent:
            return []
        evidence.summary_sent = digest
        return [
            OpposingSummary(other, evidence.cluster_id, evidence.claim, summary, digest)
            for other in sorted(evidence.opposed)
        ]

    def check_quiet(self, check: QuietCheck, evidence: ClaimEvidence | None) -> Alert | None:
        """The QUIET alert if the claim has been quiet for the period by the check's clocks."""
        if evidence is None or not is_quiet(
            evidence, self.policy(evidence), event_time=check.event_time, wall_time=check.wall_time
        ):
            return None
        return self.quiet(evidence, at=max(evidence.last_seen, min(check.event_time, check.wall_time)))

    def quiet(self, evidence: ClaimEvidence, *, at: float) -> Alert | None:
        """The QUIET alert of a claim nothing was heard of for the quiet period, if it had alerted."""
        if not go_quiet(evidence, at=at):
            return None
        origins = group_origins(evidence.items, self.registry)
        opposing = evidence.opposing_origins()
        verdict = evaluate(origins, self.policy(evidence), opposing)
        quiet = dataclasses.replace(verdict, state=EvidenceState.QUIET)
        return self._alert(evidence, (with_opposing(origins, opposing), quiet), "", None)

    def _summary(self, evidence: ClaimEvidence) -> list[dict[str, Any]]:
        evidence.summary_items = evidence.items_total
        return support_summary(group_origins(evidence.items, self.registry))

    def retire(self, evidence: ClaimEvidence, canonical: str) -> tuple[EvidenceMoved, Alert]:
        """The evidence of an alias cluster, for its canonical, and the alias's last alert."""
        evidence.version += 1
        alert = Alert(
            cluster_id=evidence.cluster_id,
            version=evidence.version,
            state="merged",
            claim=evidence.claim,
            independent_origins=0,
            support_origins=0,
            deny_origins=0,
            support_weight=0.0,
            deny_weight=0.0,
            items_total=evidence.items_total,
            first_seen=evidence.first_seen,
            last_seen=evidence.last_seen,
            caused_by="",
            emitted_at=self._clock(),
            merged_into=canonical,
            topics=list(evidence.tags),
        )
        moved = EvidenceMoved(
            canonical, evidence.cluster_id, list(evidence.items), evidence.claim, dict(evidence.opposed)
        )
        return moved, alert

    def _alert(
        self,
        evidence: ClaimEvidence,
        decided: tuple[Sequence[Origin], Verdict],
        caused_by: str,
        ingested_at: float | None,
    ) -> Alert:
        origins, verdict = decided
        return Alert(
            cluster_id=evidence.cluster_id,
            version=evidence.version,
            state=verdict.state.value,
            claim=evidence.claim,
            independent_origins=verdict.independent_support,
            support_origins=verdict.support_origins,
            deny_origins=verdict.deny_origins,
            support_weight=round(verdict.support_weight, 3),
            deny_weight=round(verdict.deny_weight, 3),
            items_total=evidence.items_total,
            first_seen=evidence.first_seen,
            last_seen=evidence.last_seen,
            caused_by=caused_by,
            origins=[o.to_dict() for o in origins],
            timeline=list(evidence.timeline),
            emitted_at=self._clock(),
            ingested_at=ingested_at,
            topics=list(evidence.tags),
            evidence=_explained_items(evidence, origins),
            contradicting=[
                {
                    "cluster_id": cid,
                    "claim": o.get("claim", ""),
                    "cue": o.get("cue", ""),
                    "score": o.get("score"),
                }
                for cid, o in sorted(evidence.opposed.items())
            ],
        )
