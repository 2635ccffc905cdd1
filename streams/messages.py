"""Records that flow between stages and out to consumers (schema version 1).

Merging (see ``streams.domain.merging``): ``BlockAnnounce`` (topic ``blocks``,
key block word) carries a new exemplar to the worker that owns that block;
``MergeFound`` (topic ``merges``, one partition) says two clusters make one
claim; ``ClusterAlias`` (topic ``claims``, key alias id) retires the alias;
``EvidenceMoved`` (topic ``claims``, key canonical id) hands its evidence on.

``ClaimAssigned`` (topic ``claims``, key cluster id): an item and the cluster it
joined, so the corroboration stage sees every member of a cluster on one
partition. ``ClusterUpdate`` (topic ``clusters``, compacted, key cluster id):
the latest view of a cluster. ``Alert`` (topic ``alerts``, compacted, key
cluster id): an evidence-state change; ``alert_id`` is ``cluster_id:version``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.domain.blocking import BlockEntry
from streams.domain.merging import ClusterRef
from streams.domain.provenance import EvidenceItem
from streams.records import Item

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "BlockAnnounce",
    "ClaimAssigned",
    "ClaimsRecord",
    "ClusterAlias",
    "ClusterExemplars",
    "ClusterLink",
    "ClusterUpdate",
    "EvidenceMoved",
    "ExactText",
    "MergeFound",
    "OpposingSummary",
    "QuietCheck",
    "SchemaError",
    "decode_claims_record",
]

SCHEMA_VERSION = 1


class SchemaError(ValueError):
    """A stage record from another version or writer; the bytes go to the dead-letter topic."""


def _check_version(obj: dict[str, Any], kind: str) -> None:
    if obj.get("v") != SCHEMA_VERSION:
        raise SchemaError(f"{kind} v={obj.get('v')!r}, this reader knows v={SCHEMA_VERSION}")


@dataclass(frozen=True, slots=True)
class ClaimAssigned:
    item: Item
    cluster_id: str
    score: float
    matched_item: str | None
    reason: str
    claim: str
    """The cluster's representative text at assignment time."""
    match_text: str | None = None
    """The item's text as the matcher compares it, so corroboration need not normalise it again."""
    text_urls: tuple[str, ...] = ()
    """URLs found in the text (beside ``item.urls``), from the same normalisation."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "cluster_id": self.cluster_id,
                "score": round(self.score, 4),
                "matched_item": self.matched_item,
                "reason": self.reason,
                "claim": self.claim,
                "match_text": self.match_text,
                "text_urls": list(self.text_urls),
                "item": self.item.to_dict(),
            }
        )

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> ClaimAssigned:
        """From a claims-topic record already read and version-checked (``decode_claims_record``)."""
        return cls(
            item=Item.from_dict(obj["item"]),
            cluster_id=obj["cluster_id"],
            score=float(obj["score"]),
            matched_item=obj.get("matched_item"),
            reason=obj.get("reason", ""),
            claim=obj.get("claim", ""),
            match_text=obj.get("match_text"),
            text_urls=tuple(obj.get("text_urls") or ()),
        )


@dataclass(frozen=True, slots=True)
class ClusterUpdate:
    cluster_id: str
    representative: str
    size: int
    first_seen: float
    last_seen: float
    members: list[str]
    newest: dict[str, Any]
    """``{"item": id, "score": s, "matched_item": id, "reason": r}``."""

    merged_into: str | None = None
    """Set on the last update of a cluster that became an alias of another."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "cluster_id": self.cluster_id,
                "merged_into": self.merged_into,
                "representative": self.representative,
                "size": self.size,
                "first_seen": self.first_seen,
                "last_seen": self.last_seen,
                "members": self.members,
                "newest": self.newest,
            }
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """An evidence-state change of one claim, explained."""

    cluster_id: str
    version: int
    state: str
    claim: str
    independent_origins: int
    support_origins: int
    deny_origins: int
    support_weight: float
    deny_weight: float
    items_total: int
    first_seen: float
    last_seen: float
    caused_by: str
    origins: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    emitted_at: float = 0.0
    ingested_at: float | None = None
    """When the item that caused the alert entered the pipeline (for latency)."""
    merged_into: str | None = None
    """With state ``merged``: the cluster that now holds this claim's evidence."""
    topics: list[str] = field(default_factory=list)
    """Topic tags of the claim's items (routing: which desks get it)."""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    """Per item (origin roots first, capped): item, source, stance and its cue, the match
    score, and the span of the item that matches the claim ``[start, end, text]``."""
    contradicting: list[dict[str, Any]] = field(default_factory=list)
    """Other claims found to contradict this one: cluster, claim, cue, score; their
    supporting origins are among ``origins`` with ``via_cluster`` set and stance deny."""

    @property
    def alert_id(self) -> str:
        return f"{self.cluster_id}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["v"] = SCHEMA_VERSION
        out["alert_id"] = self.alert_id
        return out

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_json(cls, raw: bytes) -> Alert:
        obj = orjson.loads(raw)
        _check_version(obj, "Alert")
        fields = {k: obj[k] for k in cls.__dataclass_fields__ if k in obj}
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class BlockAnnounce:
    key: str
    entry: BlockEntry

    def to_json(self) -> bytes:
        return orjson.dumps({"v": SCHEMA_VERSION, "key": self.key, "entry": self.entry.to_list()})

    @classmethod
    def from_json(cls, raw: bytes) -> BlockAnnounce:
        obj = orjson.loads(raw)
        _check_version(obj, "BlockAnnounce")
        return cls(str(obj["key"]), BlockEntry.from_list(obj["entry"]))


@dataclass(frozen=True, slots=True)
class ClusterExemplars:
    """A cluster's exemplars in the order the matcher holds them (the founding one first).

    Why: the matcher lives in memory, and its exemplars are what decides where
    the next post goes. The cluster agent writes this record whenever a
    cluster gains an exemplar (to the changelog of table ``exemplars``, on the
    cluster's ``home`` partition: the items partition of the post that founded
    it), so a restarted worker finds the clusters of its partitions as they
    were when its last committed items were processed, not only those the
    block agent had caught up with.
    """

    cluster_id: str
    home: int
    representative: str
    entries: tuple[BlockEntry, ...]

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "cluster_id": self.cluster_id,
                "home": self.home,
                "representative": self.representative,
                "entries": [e.to_list() for e in self.entries],
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> ClusterExemplars:
        obj = orjson.loads(raw)
        _check_version(obj, "ClusterExemplars")
        return cls(
            str(obj["cluster_id"]),
            int(obj["home"]),
            str(obj["representative"]),
            tuple(BlockEntry.from_list(e) for e in obj["entries"]),
        )


@dataclass(frozen=True, slots=True)
class ExactText:
    """A text the matcher saw first in ``item_id``: a later post saying exactly it joins
    ``cluster_id`` without scoring. Kept beside ``ClusterExemplars`` (same table), one
    record per text, for the same reason."""

    cluster_id: str
    item_id: str
    match: str

    def key(self) -> bytes:
        digest = hashlib.blake2b(self.match.encode(), digest_size=12).hexdigest()
        return f"x:{self.cluster_id}:{digest}".encode()

    def to_json(self) -> bytes:
        return orjson.dumps({"v": SCHEMA_VERSION, "exact": [self.cluster_id, self.item_id, self.match]})

    @classmethod
    def from_json(cls, raw: bytes) -> ExactText:
        obj = orjson.loads(raw)
        _check_version(obj, "ExactText")
        cid, item, match = obj["exact"]
        return cls(str(cid), str(item), str(match))


def _ref(v: Any) -> ClusterRef:
    return ClusterRef(float(v[1]), str(v[0]))


@dataclass(frozen=True, slots=True)
class MergeFound:
    a: ClusterRef
    b: ClusterRef
    score: float
    items: tuple[str, str]
    """The two exemplar items whose texts matched."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "a": [self.a.cluster_id, self.a.first_seen],
                "b": [self.b.cluster_id, self.b.first_seen],
                "score": round(self.score, 4),
                "items": list(self.items),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> MergeFound:
        obj = orjson.loads(raw)
        _check_version(obj, "MergeFound")
        items = obj.get("items") or ["", ""]
        return cls(_ref(obj["a"]), _ref(obj["b"]), float(obj["score"]), (str(items[0]), str(items[1])))


@dataclass(frozen=True, slots=True)
class ClusterAlias:
    alias: str
    canonical: str
    score: float
    alias_first_seen: float | None = None
    canonical_first_seen: float | None = None
    """The clusters' ranks (``ClusterRef.first_seen``), so that whoever handles the record
    can unite what each has already been merged into by the same rule as the merge
    agent. None on records of earlier versions: the alias is then retired as named."""

    def to_json(self) -> bytes:
        obj: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "kind": "alias",
            "alias": self.alias,
            "canonical": self.canonical,
            "score": round(self.score, 4),
        }
        if self.alias_first_seen is not None and self.canonical_first_seen is not None:
            obj["alias_first_seen"] = self.alias_first_seen
            obj["canonical_first_seen"] = self.canonical_first_seen
        return orjson.dumps(obj)


@dataclass(frozen=True, slots=True)
class EvidenceMoved:
    cluster_id: str
    from_cluster: str
    items: list[EvidenceItem]
    claim: str = ""
    opposed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The retired cluster's contradicting clusters, which the canonical one inherits."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "kind": "evidence",
                "cluster_id": self.cluster_id,
                "from_cluster": self.from_cluster,
                "claim": self.claim,
                "items": [i.to_dict() for i in self.items],
                "opposed": self.opposed,
            }
        )


@dataclass(frozen=True, slots=True)
class ClusterLink:
    """Cluster ``other`` says something incompatible with ``cluster_id`` (sent to both, each way)."""

    cluster_id: str
    other: str
    cue: str
    score: float
    items: tuple[str, str]
    """The item of ``cluster_id``'s side and of ``other``'s side whose texts clash."""
    texts: tuple[str, str] = ("", "")
    """Those two items' clashing sentences, normalised as the matcher read them (the
    exemplars keep no raw text) and capped by the stage that found the clash.

    Why carried: the other cluster's claim reaches this one only with its answer
    (an ``OpposingSummary``), and an alert raised in between must still say what
    contradicts the claim, not name a bare cluster id."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "kind": "link",
                "cluster_id": self.cluster_id,
                "other": self.other,
                "cue": self.cue,
                "score": round(self.score, 4),
                "items": list(self.items),
                "texts": list(self.texts),
            }
        )


@dataclass(frozen=True, slots=True)
class OpposingSummary:
    """The supporting origins of ``from_cluster``, which contradicts ``cluster_id``."""

    cluster_id: str
    from_cluster: str
    claim: str
    origins: list[dict[str, Any]]
    digest: str
    """Identifies this set of origins: a redelivered or unchanged summary changes nothing."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "kind": "opposing",
                "cluster_id": self.cluster_id,
                "from_cluster": self.from_cluster,
                "claim": self.claim,
                "origins": self.origins,
                "digest": self.digest,
            }
        )


@dataclass(frozen=True, slots=True)
class QuietCheck:
    """The expiry timer asks the owner of ``cluster_id``'s evidence whether it went quiet.

    Why a record and not a direct table write: a faust table is only written
    while handling a record of its partition, so the timer that notices a
    quiet claim sends this to the claims topic under the cluster's key.
    """

    cluster_id: str
    event_time: float
    """The newest item time this worker has seen: quiet in event time (replays)."""
    wall_time: float
    left_matcher: bool = False
    """The cluster stage dropped the cluster (quiet, or pushed out by ``max_live``): a claim
    that never alerted has nothing left to gain, and its evidence is deleted."""

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": SCHEMA_VERSION,
                "kind": "quiet",
                "cluster_id": self.cluster_id,
                "event_time": self.event_time,
                "wall_time": self.wall_time,
                "left_matcher": self.left_matcher,
            }
        )


ClaimsRecord = ClaimAssigned | ClusterAlias | EvidenceMoved | ClusterLink | OpposingSummary | QuietCheck


def decode_claims_record(raw: bytes) -> ClaimsRecord:
    """The record kinds of the claims topic (a claim has no ``kind``)."""
    obj = orjson.loads(raw)
    _check_version(obj, "claims record")
    kind = obj.get("kind")
    if kind == "alias":
        ranked = obj.get("alias_first_seen") is not None and obj.get("canonical_first_seen") is not None
        return ClusterAlias(
            str(obj["alias"]),
            str(obj["canonical"]),
            float(obj.get("score", 0.0)),
            float(obj["alias_first_seen"]) if ranked else None,
            float(obj["canonical_first_seen"]) if ranked else None,
        )
    if kind == "evidence":
        return EvidenceMoved(
            str(obj["cluster_id"]),
            str(obj.get("from_cluster", "")),
            [EvidenceItem.from_dict(i) for i in obj["items"]],
            str(obj.get("claim", "")),
            dict(obj.get("opposed") or {}),
        )
    if kind == "link":
        items = obj.get("items") or ["", ""]
        texts = obj.get("texts") or ["", ""]  # absent from records written before it was carried
        return ClusterLink(
            str(obj["cluster_id"]),
            str(obj["other"]),
            str(obj.get("cue", "")),
            float(obj.get("score", 0.0)),
            (str(items[0]), str(items[1])),
            (str(texts[0]), str(texts[1])),
        )
    if kind == "quiet":
        return QuietCheck(
            str(obj["cluster_id"]),
            float(obj["event_time"]),
            float(obj["wall_time"]),
            bool(obj.get("left_matcher", False)),
        )
    if kind == "opposing":
        origins = obj["origins"]
        if not isinstance(origins, list) or not all(isinstance(o, dict) for o in origins):
            raise SchemaError("opposing summary origins must be a list of objects")
        return OpposingSummary(
            str(obj["cluster_id"]),
            str(obj["from_cluster"]),
            str(obj.get("claim", "")),
            origins,
            str(obj["digest"]),
        )
    return ClaimAssigned.from_dict(obj)
