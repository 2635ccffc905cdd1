"""Block keys and per-block matching: how near-duplicates on different workers find each other.

Why bottom-k words: a block key must be computable from one text alone, and
two texts that make the same claim must share at least one key with high
probability. The k content words with the smallest stable hash are a
min-hash sketch: two texts whose word sets have Jaccard similarity J share a
key with probability about ``1 - (1 - J) ** k`` (k = 4: 0.94 at J = 0.5);
texts of at most k words are keyed by every word, so they never miss. Each exemplar is sent to the
partition of each of its keys, so the cost per claim is k messages and at
most ``max_entries`` comparisons per key, whatever the size of the window.

A pair sharing several keys is scored in one block only: the one of its
smallest shared key. So a merge is found once, not once per shared word.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from streams.domain.matching import SimilarityScorer
from streams.domain.pair_features import Exemplar, Signature, names_agree

__all__ = [
    "BlockEntry",
    "BlockMatch",
    "add_to_block",
    "block_keys",
    "block_matches",
    "entries_agree",
    "key_rank",
]

DEFAULT_KEYS = 4
#: Share of the longer text's words two exemplars must have in common to be scored.
MERGE_MIN_OVERLAP = 0.35


def key_rank(word: str) -> bytes:
    """A hash stable across processes and Python versions (``hash()`` is salted)."""
    return hashlib.blake2b(word.encode(), digest_size=8).digest()


def block_keys(sig: Signature, k: int = DEFAULT_KEYS) -> tuple[str, ...]:
    """The ``k`` content words of ``sig`` with the smallest stable hash, smallest first."""
    return tuple(sorted(sig.words, key=key_rank)[:k])


@dataclass(frozen=True, slots=True)
class BlockEntry:
    """One exemplar as a block keeps it; a list of plain values on the wire."""

    cluster_id: str
    first_seen: float
    item_id: str
    match: str
    full: str
    numbers: tuple[str, ...]
    keys: tuple[str, ...]
    touched_at: float
    """Wall-clock time it was announced."""
    event_ts: float = 0.0
    """``created_at`` of the item that made it an exemplar."""
    entities: tuple[str, ...] = ()
    link_only: bool = False
    """A sentence said in the cluster that is no exemplar of it: compared with other
    clusters' texts for a clash, never for a merge (``ClaimClusterer`` link texts)."""

    def signature(self) -> Signature:
        return Exemplar(self.match, self.full, self.numbers, self.entities).signature()

    def to_list(self) -> list[object]:
        return [
            self.cluster_id,
            self.first_seen,
            self.item_id,
            self.match,
            self.full,
            list(self.numbers),
            list(self.keys),
            self.touched_at,
            self.event_ts,
            list(self.entities),
            *((True,) if self.link_only else ()),
        ]

    @classmethod
    def from_list(cls, v: Sequence[object]) -> BlockEntry:
        # Ten values; an eleventh, true, marks a link text (records before it have ten).
        cid, first, item, match, full, numbers, keys, touched, event_ts, entities = v[:10]
        return cls(
            str(cid),
            float(first),  # type: ignore[arg-type]
            str(item),
            str(match),
            str(full),
            tuple(str(n) for n in numbers),  # type: ignore[attr-defined]
            tuple(str(k) for k in keys),  # type: ignore[attr-defined]
            float(touched),  # type: ignore[arg-type]
            float(event_ts),  # type: ignore[arg-type]
            tuple(str(e) for e in entities),  # type: ignore[attr-defined]
            len(v) > 10 and v[10] is True,
        )


@dataclass(frozen=True, slots=True)
class BlockMatch:
    entry: BlockEntry
    score: float


def block_matches(
    key: str,
    new: BlockEntry,
    entries: Sequence[BlockEntry],
    scorer: SimilarityScorer,
    *,
    threshold: float,
    quiet_seconds: float,
    min_overlap: float = MERGE_MIN_OVERLAP,
) -> list[BlockMatch]:
    """Entries of other clusters in this block that make the same claim as ``new``.

    Only entries sharing at least ``min_overlap`` of the longer text's words
    (and two words) are scored: on PIT-2015 and the URL corpus, 99 % of the
    pairs that score 0.8 or more share at least 36 % of the longer text's words.
    """
    sig = new.signature()
    words = sig.words
    n_words = len(words)
    # Keys are sorted by rank: the pair belongs to this block unless the entry also
    # has one of our keys ranked before this one.
    earlier = frozenset(new.keys[: new.keys.index(key)] if key in new.keys else new.keys)
    eligible: list[BlockEntry] = []
    for entry in entries:
        if entry.cluster_id == new.cluster_id or abs(entry.event_ts - new.event_ts) > quiet_seconds:
            continue
        if earlier and not earlier.isdisjoint(entry.keys):
            continue  # scored in the block of the smallest shared key
        theirs_words = entry.match.split()
        shared = len(words.intersection(theirs_words))
        if shared < 2 or shared < min_overlap * max(n_words, len(set(theirs_words))):
            continue
        eligible.append(entry)
    # One call, so the encoder sees every entry it lacks in one batch.
    scores = scorer.score_many(sig, [e.signature() for e in eligible])
    return [BlockMatch(e, score) for e, score in zip(eligible, scores, strict=True) if score >= threshold]


def entries_agree(a: BlockEntry, b: BlockEntry) -> bool:
    """The names of two exemplars allow merging their clusters (``names_agree``)."""
    sa, sb = a.signature(), b.signature()
    return names_agree(sa.entities, sa.tokens, sb.entities, sb.tokens)


def add_to_block(
    entries: Sequence[BlockEntry], new: BlockEntry, *, max_entries: int, quiet_seconds: float
) -> list[BlockEntry]:
    """The block after adding ``new``.

    A redelivered entry replaces itself; entries quiet for ``quiet_seconds`` (wall
    clock, or event time before ``new``) and the oldest over the cap are dropped.
    """
    wall, event = new.touched_at - quiet_seconds, new.event_ts - quiet_seconds
    kept = [
        e
        for e in entries
        if e.touched_at > wall
        and e.event_ts > event
        and not (e.cluster_id == new.cluster_id and e.match == new.match)
    ]
    kept.append(new)
    return kept[-max_entries:]
