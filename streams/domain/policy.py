"""Evidence state of a claim cluster, and when a change in it is worth an alert.

Why versions: the pipeline is at-least-once, so the same item can arrive
twice and a restarted worker replays what it had not committed. The state
remembers which items it has seen (a redelivery changes nothing) and every
alert carries ``cluster_id:version``; downstream consumers keep the highest
version per cluster and drop the rest.

An alert is raised when the state changes (unverified, corroborated,
contested, quiet), and again while a claim is corroborated or contested
whenever the count of independent origins on either side changes: an
analyst wants "now 4 independent sources", not a silent update. Echoes alone never raise an alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from streams.domain.provenance import EvidenceItem, Origin, group_origins
from streams.domain.registry import SourceRegistry
from streams.domain.stance import Stance
from streams.errors import PolicyError
from streams.tomlfile import read_toml

__all__ = [
    "ClaimEvidence",
    "EvidenceState",
    "PolicyBook",
    "PolicyConfig",
    "Verdict",
    "add_evidence",
    "add_evidence_batch",
    "decide",
    "evaluate",
    "go_quiet",
    "is_quiet",
    "load_policy_book",
    "support_summary",
    "with_opposing",
]


class EvidenceState(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    CORROBORATED = "CORROBORATED"
    CONTESTED = "CONTESTED"
    QUIET = "QUIET"
    """Nothing new for the quiet period: the analyst can stop watching. A new item wakes it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyConfig:
    """When evidence is enough.

    =================  =======  ===============================================
    field              default  meaning
    =================  =======  ===============================================
    min_origins        2        independent supporting origins to corroborate
    min_weight         1.0      their summed source weight
    min_side_weight    0.3      weight each side needs for a contradiction
    window_seconds     86400    origins older than this before the newest don't count
    max_items          300      items kept per cluster for explanation (count exact)
    quiet_seconds      172800   an alerted claim with nothing new for this long goes QUIET
    =================  =======  ===============================================
    """

    min_origins: int = 2
    min_weight: float = 1.0
    min_side_weight: float = 0.3
    window_seconds: float = 24 * 3600.0
    max_items: int = 300
    quiet_seconds: float = 48 * 3600.0


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """The default policy and the policies of topics (an item's ``topics`` tags).

    Why per topic: a desk watching a war wants three independent origins in
    twelve hours; one watching a storm is content with two in a day. A cluster
    takes the policy of the first topic of its first tagged item that has one.
    """

    default: PolicyConfig = field(default_factory=PolicyConfig)
    topics: dict[str, PolicyConfig] = field(default_factory=dict)

    def for_topic(self, topic: str) -> PolicyConfig:
        return self.topics.get(topic, self.default)

    @property
    def shortest_quiet(self) -> float:
        return min(p.quiet_seconds for p in (self.default, *self.topics.values()))

    def topic_of(self, tags: Sequence[str]) -> str:
        """The first of ``tags`` with a policy of its own, or ``""`` (the default)."""
        return next((t for t in tags if t in self.topics), "")


_POLICY_KEYS = {
    "min_origins": int,
    "min_weight": float,
    "min_side_weight": float,
    "window_hours": float,
    "max_items": int,
    "quiet_hours": float,
}


def _policy_from(raw: Mapping[str, Any], base: PolicyConfig, where: str) -> PolicyConfig:
    unknown = sorted(set(raw) - set(_POLICY_KEYS))
    if unknown:
        raise PolicyError(f"{where}: unknown keys {unknown}; known: {sorted(_POLICY_KEYS)}")
    values: dict[str, Any] = {}
    for key, kind in _POLICY_KEYS.items():
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PolicyError(f"{where}: {key} must be a non-negative number, got {value!r}")
        if key.endswith("_hours"):
            values[key.replace("_hours", "_seconds")] = float(value) * 3600.0
        else:
            values[key] = kind(value)
    return replace(base, **values)


def load_policy_book(path: Path | None, default: PolicyConfig | None = None) -> PolicyBook:
    """Policies from a TOML file (``[default]`` and ``[topics.NAME]`` tables) over ``default``."""
    base = default or PolicyConfig()
    if path is None:
        return PolicyBook(base)
    data = read_toml(path, PolicyError, "policy file")
    unknown = sorted(set(data) - {"default", "topics"})
    if unknown:
        raise PolicyError(f"{path}: unknown tables {unknown}; expected [default] and [topics.NAME]")
    book_default = _policy_from(data.get("default", {}), base, f"{path} [default]")
    topics = {
        str(name): _policy_from(raw, book_default, f"{path} [topics.{name}]")
        for name, raw in data.get("topics", {}).items()
    }
    return PolicyBook(book_default, topics)


@dataclass(frozen=True, slots=True)
class Verdict:
    state: EvidenceState
    independent_support: int
    support_origins: int
    deny_origins: int
    support_weight: float
    deny_weight: float

    @property
    def signature(self) -> tuple[str, int, int]:
        return (self.state.value, self.independent_support, self.deny_origins)


def with_opposing(origins: Sequence[Origin], opposing: Sequence[Origin]) -> list[Origin]:
    """Our origins and the contradicting claims' supporters; a source on both sides counts
    once, on the side it spoke on last (an outlet's correction outweighs its report; at a
    tie, where it speaks in this cluster)."""
    last_own: dict[str, float] = {}
    for o in origins:
        last_own[o.source_id] = max(o.last_seen, last_own.get(o.source_id, o.last_seen))
    last_other: dict[str, float] = {}
    for o in opposing:
        last_other[o.source_id] = max(o.last_seen, last_other.get(o.source_id, o.last_seen))
    turned = {sid for sid, at in last_other.items() if sid in last_own and at > last_own[sid]}
    return [
        *(o for o in origins if o.source_id not in turned),
        *(o for o in opposing if o.source_id not in last_own or o.source_id in turned),
    ]


def _converged(independent: Sequence[Origin], config: PolicyConfig) -> bool:
    """Did ``min_origins`` independent origins with ``min_weight`` between them appear
    within some ``window_seconds``?

    Why any window and not the one before the newest origin: a claim three outlets
    confirmed on Monday is not unconfirmed by a fourth on Wednesday; and the window
    is about convergence only. A denial a day and a half after the claim spread (a
    navy saying the trapped girl never existed) contests it however old its support.
    """
    ordered = sorted(independent, key=lambda o: o.first_seen)
    start, weight = 0, 0.0
    for end, origin in enumerate(ordered):
        weight += origin.weight
        while origin.first_seen - ordered[start].first_seen > config.window_seconds:
            weight -= ordered[start].weight
            start += 1
        if end - start + 1 >= config.min_origins and weight >= config.min_weight - 1e-9:
            return True
    return False


def evaluate(origins: Sequence[Origin], config: PolicyConfig, opposing: Sequence[Origin] = ()) -> Verdict:
    """The evidence state of a claim from its origins and those of contradicting claims.

    ``opposing`` are the supporting origins of other clusters found to
    contradict this one, already turned to deny; a source on both sides
    counts once, where it spoke last (``with_opposing``).
    """
    origins = with_opposing(origins, opposing)
    support = [o for o in origins if o.stance is Stance.SUPPORT]
    deny = [o for o in origins if o.stance is Stance.DENY]
    independent = [o for o in support if o.independent_support]
    support_weight = sum(o.weight for o in support)
    deny_weight = sum(o.weight for o in deny)
    if support and deny and min(support_weight, deny_weight) >= config.min_side_weight:
        state = EvidenceState.CONTESTED
    elif _converged(independent, config):
        state = EvidenceState.CORROBORATED
    else:
        state = EvidenceState.UNVERIFIED
    return Verdict(state, len(independent), len(support), len(deny), support_weight, deny_weight)


@dataclass(slots=True)
class ClaimEvidence:
    """Everything the corroboration stage keeps per cluster (stored as JSON in a table)."""

    cluster_id: str
    claim: str
    items: list[EvidenceItem] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    items_total: int = 0
    version: int = 0
    state: EvidenceState = EvidenceState.UNVERIFIED
    signature: tuple[str, int, int] = ("UNVERIFIED", 0, 0)
    first_seen: float = 0.0
    last_seen: float = 0.0
    timeline: list[dict[str, Any]] = field(default_factory=list)
    opposed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Contradicting clusters: id -> {"claim", "cue", "score", "origins": their supporting origins}."""
    summary_sent: str = ""
    """Digest of the supporting origins last sent to the contradicting clusters."""
    summary_items: int = -1
    """``items_total`` when that digest was computed: no new item, no new summary."""
    touched_at: float = 0.0
    """Wall-clock time of the last change: a live claim goes quiet by this or by event time."""
    topic: str = ""
    """The topic whose policy this claim follows (``""``: the default)."""
    tags: list[str] = field(default_factory=list)
    """Topic tags seen on the claim's items (first ten), for routing alerts."""
    merged_from: list[str] = field(default_factory=list)
    """Clusters merged into this one: never an opposing side, even if a link says so."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "claim": self.claim,
            "items": [i.to_dict() for i in self.items],
            "seen": self.seen,
            "items_total": self.items_total,
            "version": self.version,
            "state": self.state.value,
            "signature": list(self.signature),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "timeline": self.timeline,
            "opposed": self.opposed,
            "summary_sent": self.summary_sent,
            "summary_items": self.summary_items,
            "touched_at": self.touched_at,
            "topic": self.topic,
            "merged_from": self.merged_from,
            "tags": self.tags,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimEvidence:
        sig = d.get("signature", ["UNVERIFIED", 0, 0])
        return cls(
            cluster_id=d["cluster_id"],
            claim=d["claim"],
            items=[EvidenceItem.from_dict(i) for i in d.get("items", [])],
            seen=list(d.get("seen", [])),
            items_total=int(d.get("items_total", 0)),
            version=int(d.get("version", 0)),
            state=EvidenceState(d.get("state", "UNVERIFIED")),
            signature=(str(sig[0]), int(sig[1]), int(sig[2])),
            first_seen=float(d.get("first_seen", 0.0)),
            last_seen=float(d.get("last_seen", 0.0)),
            timeline=list(d.get("timeline", [])),
            opposed=dict(d.get("opposed", {})),
            summary_sent=str(d.get("summary_sent", "")),
            summary_items=int(d.get("summary_items", -1)),
            touched_at=float(d.get("touched_at", 0.0)),
            topic=str(d.get("topic", "")),
            merged_from=[str(c) for c in d.get("merged_from", [])],
            tags=[str(t) for t in d.get("tags", [])],
        )

    def is_self(self, cluster_id: str) -> bool:
        """``cluster_id`` is this claim or was merged into it."""
        return cluster_id == self.cluster_id or cluster_id in self.merged_from

    def opposing_origins(self) -> list[Origin]:
        """Supporting origins of the contradicting clusters, as deniers; one per source."""
        out: dict[str, Origin] = {}
        for cluster, link in sorted(self.opposed.items()):
            for o in link.get("origins", []):
                origin = Origin.opposing(o, cluster)
                if origin.source_id not in out or origin.weight > out[origin.source_id].weight:
                    out[origin.source_id] = origin
        return list(out.values())


_SEEN_CAP = 5000
_TIMELINE_CAP = 12
_SUMMARY_CAP = 20
_SUMMARY_FIELDS = (
    "origin_id",
    "source",
    "kind",
    "weight",
    "party",
    "first_seen",
    "last_seen",
    "root_item",
    "coordinated",
)


def add_evidence(
    evidence: ClaimEvidence,
    item: EvidenceItem,
    registry: SourceRegistry,
    config: PolicyConfig,
) -> tuple[list[Origin], Verdict] | None:
    """Fold one item into the evidence; return origins and verdict if an alert is due.

    Mutates ``evidence``. A redelivered item id returns ``None`` and changes nothing.
    """
    return add_evidence_batch(evidence, (item,), registry, config)


def _fold(evidence: ClaimEvidence, item: EvidenceItem, config: PolicyConfig) -> bool:
    """Record one item; False when it cannot change the verdict (seen, or an echo past the cap)."""
    if item.item_id in evidence.seen:
        return False
    evidence.seen.append(item.item_id)
    if len(evidence.seen) > _SEEN_CAP:
        del evidence.seen[: len(evidence.seen) - _SEEN_CAP]
    evidence.items_total += 1
    evidence.first_seen = min(evidence.first_seen or item.created_at, item.created_at)
    evidence.last_seen = max(evidence.last_seen, item.created_at)
    full = len(evidence.items) >= config.max_items
    if full and item.retweet_of is not None and any(i.item_id == item.retweet_of for i in evidence.items):
        return False  # a retweet of a kept item cannot add an origin
    if len(evidence.items) < config.max_items:
        evidence.items.append(item)
    return True


def add_evidence_batch(
    evidence: ClaimEvidence,
    items: Sequence[EvidenceItem],
    registry: SourceRegistry,
    config: PolicyConfig,
) -> tuple[list[Origin], Verdict] | None:
    """Fold several items (the evidence of a merged cluster) and decide once.

    Grouping origins costs a pass over the kept items, so a merge of a large
    cluster folded item by item would cost its size squared.
    """
    changed = False
    for item in items:
        changed = _fold(evidence, item, config) or changed
    if not changed:
        return None
    last = max(items, key=lambda i: (i.created_at, i.item_id))
    return decide(evidence, registry, config, at=last.created_at, cause=last.item_id)


def decide(
    evidence: ClaimEvidence,
    registry: SourceRegistry,
    config: PolicyConfig,
    *,
    at: float,
    cause: str,
) -> tuple[list[Origin], Verdict] | None:
    """Re-evaluate the evidence; origins and verdict when that is worth an alert (a new version)."""
    origins = group_origins(evidence.items, registry)
    opposing = evidence.opposing_origins()
    verdict = evaluate(origins, config, opposing)
    if verdict.signature == evidence.signature and evidence.state is not EvidenceState.QUIET:
        return None
    evidence.signature = verdict.signature
    if verdict.state is EvidenceState.UNVERIFIED and evidence.state is EvidenceState.UNVERIFIED:
        return None
    evidence.state = verdict.state
    evidence.version += 1
    evidence.timeline.append(
        {
            "at": at,
            "item": cause,
            "state": verdict.state.value,
            "independent_support": verdict.independent_support,
            "deny_origins": verdict.deny_origins,
        }
    )
    del evidence.timeline[:-_TIMELINE_CAP]
    return with_opposing(origins, opposing), verdict


def support_summary(origins: Sequence[Origin]) -> list[dict[str, Any]]:
    """The supporting origins a contradicting cluster counts against its own claim (capped)."""
    backing = [o for o in origins if o.stance is Stance.SUPPORT and o.via_cluster is None]
    backing.sort(key=lambda o: (-o.weight, o.first_seen, o.origin_id))
    out = []
    for o in backing[:_SUMMARY_CAP]:
        d = o.to_dict()
        out.append({k: d[k] for k in _SUMMARY_FIELDS} | {"items": o.items[:5]})
    return out


def is_quiet(evidence: ClaimEvidence, config: PolicyConfig, *, event_time: float, wall_time: float) -> bool:
    """Nothing new for the quiet period, in event time (replays) or in wall-clock time."""
    return (
        event_time - evidence.last_seen >= config.quiet_seconds
        or wall_time - evidence.touched_at >= config.quiet_seconds
    )


def go_quiet(evidence: ClaimEvidence, *, at: float) -> bool:
    """Mark an alerted claim quiet (one new version); False when there is nothing to say."""
    if evidence.state in (EvidenceState.UNVERIFIED, EvidenceState.QUIET):
        return False
    evidence.state = EvidenceState.QUIET
    evidence.version += 1
    evidence.timeline.append({"at": at, "item": "", "state": EvidenceState.QUIET.value})
    del evidence.timeline[:-_TIMELINE_CAP]
    return True
