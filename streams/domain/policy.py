"""Evidence state of a claim cluster, and when a change in it is worth an alert.

Why versions: the pipeline is at-least-once, so the same item can arrive
twice and a restarted worker replays what it had not committed. The state
remembers which items it has seen (a redelivery changes nothing) and every
alert carries ``cluster_id:version``; downstream consumers keep the highest
version per cluster and drop the rest.

An alert is raised when the state changes, and again while a claim is
corroborated or contradicted whenever the count of independent origins on
either side changes: an analyst wants "now 4 independent sources", not a
silent update. Echoes alone never raise an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from streams.domain.provenance import EvidenceItem, Origin, group_origins
from streams.domain.registry import SourceRegistry
from streams.domain.stance import Stance

__all__ = [
    "ClaimEvidence",
    "EvidenceState",
    "PolicyConfig",
    "Verdict",
    "add_evidence",
    "add_evidence_batch",
    "evaluate",
]


class EvidenceState(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    CORROBORATED = "CORROBORATED"
    CONTRADICTED = "CONTRADICTED"
    QUIET = "QUIET"


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
    =================  =======  ===============================================
    """

    min_origins: int = 2
    min_weight: float = 1.0
    min_side_weight: float = 0.3
    window_seconds: float = 24 * 3600.0
    max_items: int = 300


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


def evaluate(origins: Sequence[Origin], config: PolicyConfig) -> Verdict:
    newest = max((o.first_seen for o in origins), default=0.0)
    live = [o for o in origins if o.first_seen >= newest - config.window_seconds]
    support = [o for o in live if o.stance is Stance.SUPPORT]
    deny = [o for o in live if o.stance is Stance.DENY]
    independent = [o for o in support if o.independent_support]
    support_weight = sum(o.weight for o in support)
    independent_weight = sum(o.weight for o in independent)
    deny_weight = sum(o.weight for o in deny)
    if support and deny and min(support_weight, deny_weight) >= config.min_side_weight:
        state = EvidenceState.CONTRADICTED
    elif len(independent) >= config.min_origins and independent_weight >= config.min_weight:
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
        )


_SEEN_CAP = 5000
_TIMELINE_CAP = 12


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
    origins = group_origins(evidence.items, registry)
    verdict = evaluate(origins, config)
    if verdict.signature == evidence.signature:
        return None
    evidence.signature = verdict.signature
    if verdict.state is EvidenceState.UNVERIFIED and evidence.state is EvidenceState.UNVERIFIED:
        return None
    evidence.state = verdict.state
    evidence.version += 1
    last = max(items, key=lambda i: (i.created_at, i.item_id))
    evidence.timeline.append(
        {
            "at": last.created_at,
            "item": last.item_id,
            "state": verdict.state.value,
            "independent_support": verdict.independent_support,
            "deny_origins": verdict.deny_origins,
        }
    )
    del evidence.timeline[:-_TIMELINE_CAP]
    return origins, verdict
