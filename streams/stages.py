"""The two stateful stages as plain objects: bytes in, records out.

Why here and not in the agents: the agents only move bytes between topics;
everything that decides (validation, clustering, stance, independence, alert
policy) happens in these classes, which tests and batch tools drive directly
without a broker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from streams.domain.blocking import BlockEntry, add_to_block, block_keys, block_matches
from streams.domain.clustering import Assignment, ClaimClusterer, ClusterConfig
from streams.domain.matching import SimilarityScorer, match_text
from streams.domain.merging import ClusterRef
from streams.domain.normalise import AliasTable, load_aliases, normalise, split_sentences
from streams.domain.policy import ClaimEvidence, PolicyConfig, Verdict, add_evidence, add_evidence_batch
from streams.domain.provenance import (
    EvidenceItem,
    Origin,
    attribution_targets,
    linked_domains,
    text_fingerprint,
)
from streams.domain.registry import SourceRegistry, domain_of
from streams.domain.stance import classify_stance
from streams.errors import InvalidItem
from streams.messages import Alert, BlockAnnounce, ClaimAssigned, ClusterUpdate, EvidenceMoved, MergeFound
from streams.records import decode_item

__all__ = [
    "BlockStage",
    "ClusterOutput",
    "ClusterStage",
    "CorroborationStage",
    "DeadLetter",
    "match_detail",
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

    def process(self, raw: bytes, *, match: bool = True) -> ClusterOutput | DeadLetter:
        try:
            item = decode_item(raw)
        except InvalidItem as exc:
            return DeadLetter(raw, exc.reason, exc.detail)
        item = item.stamped(self._clock())
        sentences = [normalise(s, self._aliases) for s in split_sentences(item.text)]
        assignment = self.clusterer.assign(
            item.id,
            sentences,
            item.created_at,
            display_text=item.text,
            retweet_of=item.retweet_of,
            now=item.ingested_at,
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
                ),
            )
            for sig in assignment.new_exemplars
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
        return ClusterOutput(claim, update, announces, merges)

    def expire(self, now: float) -> int:
        return len(self.clusterer.expire(now))


class BlockStage:
    """One block key's recent exemplars: which clusters the new one makes one claim with."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self._scorer = SimilarityScorer(self.config.match)

    def process(
        self, announce: BlockAnnounce, entries: Sequence[BlockEntry], *, match: bool = True
    ) -> tuple[list[MergeFound], list[BlockEntry]]:
        """The merges the new exemplar shows, and the block with it added.

        ``match=False`` only adds it (benchmarks filling a window of distinct claims).
        """
        cfg, new = self.config, announce.entry
        found = (
            block_matches(
                announce.key,
                new,
                entries,
                self._scorer,
                threshold=cfg.merge_threshold,
                quiet_seconds=cfg.quiet_seconds,
            )
            if match
            else []
        )
        merges = [
            MergeFound(
                ClusterRef(new.first_seen, new.cluster_id),
                ClusterRef(hit.entry.first_seen, hit.entry.cluster_id),
                hit.score,
                (new.item_id, hit.entry.item_id),
            )
            for hit in found
        ]
        kept = add_to_block(entries, new, max_entries=cfg.block_entries, quiet_seconds=cfg.quiet_seconds)
        return merges, kept


class CorroborationStage:
    """Folds cluster members into per-cluster evidence and decides alerts."""

    def __init__(
        self,
        registry: SourceRegistry,
        config: PolicyConfig | None = None,
        *,
        aliases: AliasTable | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.config = config or PolicyConfig()
        self._aliases = aliases or load_aliases()
        self._clock = clock

    def evidence_item(self, claim: ClaimAssigned) -> EvidenceItem:
        item = claim.item
        source = self.registry.resolve(
            author=item.author, outlet=item.outlet, url=item.url, verified=item.verified
        )
        if claim.match_text is None:  # a record from before the cluster stage sent its view
            norm = normalise(item.text, self._aliases)
            text, text_urls = match_text(norm), norm.urls
        else:
            text, text_urls = claim.match_text, claim.text_urls
        stance = classify_stance(item.text, relevance=claim.score)
        cited = attribution_targets(item.text, source, self.registry)
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
        )

    def process(
        self, claim: ClaimAssigned, evidence: ClaimEvidence | None
    ) -> tuple[ClaimEvidence, Alert | None]:
        if evidence is None:
            evidence = ClaimEvidence(cluster_id=claim.cluster_id, claim=claim.claim)
        ev_item = self.evidence_item(claim)
        decided = add_evidence(evidence, ev_item, self.registry, self.config)
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
        decided = add_evidence_batch(evidence, items, self.registry, self.config)
        if decided is None or not items:
            return evidence, None
        return evidence, self._alert(evidence, decided, items[-1].item_id, None)

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
        )
        return EvidenceMoved(canonical, evidence.cluster_id, list(evidence.items), evidence.claim), alert

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
        )
