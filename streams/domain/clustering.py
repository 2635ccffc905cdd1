"""Online clustering of claims: each new text joins the best matching live cluster or starts one.

Why an inverted index and not a scan: a window of live claims grows to hundreds
of thousands, and verification with rapidfuzz costs microseconds a pair. Each
cluster is indexed under the content words of a few exemplar texts; a query
collects clusters that share words with it, favouring rare words (a word whose
posting list is longer than ``max_posting`` tells nothing and is skipped), and
verifies only the ``max_candidates`` best. Exact repeats (retweet storms,
copy-paste accounts) are found by a hash lookup before any of that.

Cluster ids are derived from the first item's id, so a replay of the same
input in the same order gives the same ids: alerts keyed by them stay
idempotent across restarts.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice

from streams.domain.matching import MatchConfig, SimilarityScorer, match_text
from streams.domain.normalise import Normalised

__all__ = ["Assignment", "ClaimClusterer", "ClusterConfig", "ClusterState", "cluster_id_for"]


def cluster_id_for(first_item_id: str) -> str:
    return "c" + hashlib.blake2b(first_item_id.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    """Bounds of the clusterer; every one keeps per-claim cost flat.

    ================  ========  ================================================
    field             default   meaning
    ================  ========  ================================================
    quiet_seconds     172800    a cluster with no new member for this long expires
    max_exemplars     4         texts per cluster that queries are compared with
    max_candidates    16        clusters verified per query
    min_overlap       0.3       share of the query's words a candidate must have
    max_scan          200       newest clusters read from one word's posting list
    max_posting       20000     a word in more live clusters than this is skipped
    max_members       200       member ids kept per cluster (the count stays exact)
    ================  ========  ================================================
    """

    quiet_seconds: float = 48 * 3600.0
    max_exemplars: int = 4
    max_candidates: int = 16
    min_overlap: float = 0.3
    max_scan: int = 200
    max_posting: int = 20000
    max_members: int = 200
    match: MatchConfig = field(default_factory=MatchConfig)


@dataclass(slots=True)
class ClusterState:
    """What the clusterer keeps per live cluster."""

    cluster_id: str
    representative: str
    first_seen: float
    last_seen: float
    touched_at: float = 0.0
    """Wall-clock time of the newest member: expiry runs on this, so replays of old
    data are not expired on arrival."""
    size: int = 0
    members: list[str] = field(default_factory=list)
    exemplars: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one item went and why."""

    cluster_id: str
    score: float
    matched_item: str | None
    is_new: bool
    reason: str
    """``new``, ``exact``, ``retweet`` or ``similar``."""


class ClaimClusterer:
    """Single-owner online clusterer (one instance per worker; not thread-safe)."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self._scorer = SimilarityScorer(self.config.match)
        self._clusters: OrderedDict[str, ClusterState] = OrderedDict()  # by last_seen
        self._postings: dict[str, deque[str]] = {}
        self._exact: dict[str, tuple[str, str]] = {}  # match text -> (cluster, item)
        self._item_cluster: dict[str, str] = {}
        self._item_order: deque[tuple[str, str]] = deque()  # (item, cluster) for expiry
        self._exemplar_item: dict[tuple[str, str], str] = {}
        self._now = 0.0

    def __len__(self) -> int:
        return len(self._clusters)

    def get(self, cluster_id: str) -> ClusterState | None:
        return self._clusters.get(cluster_id)

    def cluster_of(self, item_id: str) -> str | None:
        return self._item_cluster.get(item_id)

    def assign(
        self,
        item_id: str,
        sentences: Sequence[Normalised],
        ts: float,
        *,
        display_text: str = "",
        retweet_of: str | None = None,
        now: float | None = None,
    ) -> Assignment:
        """Put one item in a cluster. Idempotent: a seen item id returns its cluster again.

        ``sentences`` are the item's normalised sentences (one for a tweet); the
        item matches a cluster through its best sentence, so a lead that adds
        context does not dilute the claim in the headline.
        """
        seen = self._item_cluster.get(item_id)
        if seen is not None and seen in self._clusters:
            return Assignment(seen, 1.0, None, False, "duplicate")
        self._now = ts if now is None else now
        whole = " ".join(t for n in sentences for t in match_text(n).split())
        if retweet_of is not None:
            parent = self._item_cluster.get(retweet_of)
            if parent is not None and parent in self._clusters:
                self._add(parent, item_id, whole, ts, ())
                return Assignment(parent, 1.0, retweet_of, False, "retweet")
        exact = self._exact.get(whole) if whole else None
        if exact is not None and exact[0] in self._clusters:
            self._add(exact[0], item_id, whole, ts, ())
            return Assignment(exact[0], 1.0, exact[1], False, "exact")
        claims = self._claim_texts(sentences, whole)
        best: tuple[str, float, str | None] | None = None
        best_text = whole
        for text in claims:
            found = self._best_candidate(text)
            if found is not None and (best is None or found[1] > best[1]):
                best, best_text = found, text
        if best is not None and best[1] >= self.config.match.threshold:
            cid, score, matched = best
            self._add(cid, item_id, whole, ts, (best_text,))
            return Assignment(cid, score, matched, False, "similar")
        cid = cluster_id_for(item_id)
        self._clusters[cid] = ClusterState(
            cluster_id=cid,
            representative=display_text or whole,
            first_seen=ts,
            last_seen=ts,
            touched_at=self._now,
        )
        self._add(cid, item_id, whole, ts, claims)
        return Assignment(cid, 1.0, None, True, "new")

    def _claim_texts(self, sentences: Sequence[Normalised], whole: str) -> tuple[str, ...]:
        """Check-worthy sentences of a multi-sentence item, else the whole text."""
        if len(sentences) > 1:
            texts = [match_text(n) for n in sentences]
            worthy = tuple(t for t in texts if len(t.split()) >= self.config.match.min_tokens)
            if worthy:
                return worthy
        return (whole,) if whole else ()

    def _best_candidate(self, text: str) -> tuple[str, float, str | None] | None:
        if not text:
            return None
        cfg = self.config
        overlap: Counter[str] = Counter()
        tokens = set(text.split())
        for token in tokens:
            posting = self._postings.get(token)
            if posting is None or len(posting) >= cfg.max_posting:
                continue
            weight = 1.0 + 1.0 / (1.0 + len(posting))  # rare words count for more
            # Only the most recent clusters of a common word: recency over completeness.
            for cid in islice(reversed(posting), cfg.max_scan):
                overlap[cid] += weight  # type: ignore[assignment]
        if not overlap:
            return None
        # A cluster sharing too few words cannot reach the threshold: skip its scoring.
        floor = max(1.0, cfg.min_overlap * len(tokens))
        cands: list[str] = []
        owners: list[str] = []
        for cid, shared in overlap.most_common(cfg.max_candidates):
            if shared < floor:
                break
            state = self._clusters.get(cid)
            if state is None:
                continue
            for ex in state.exemplars:
                cands.append(ex)
                owners.append(cid)
        if not cands:
            return None
        scores = self._scorer.score_many(text, cands)
        idx = max(range(len(scores)), key=scores.__getitem__)
        cid = owners[idx]
        return cid, scores[idx], self._exemplar_item.get((cid, cands[idx]))

    def _add(self, cid: str, item_id: str, whole: str, ts: float, exemplars: Sequence[str]) -> None:
        state = self._clusters[cid]
        state.size += 1
        state.last_seen = max(state.last_seen, ts)
        state.first_seen = min(state.first_seen, ts)
        state.touched_at = max(state.touched_at, self._now)
        if len(state.members) < self.config.max_members:
            state.members.append(item_id)
        self._clusters.move_to_end(cid)
        self._item_cluster[item_id] = cid
        self._item_order.append((item_id, cid))
        if whole and whole not in self._exact:
            self._exact[whole] = (cid, item_id)
        for text in exemplars:
            if len(state.exemplars) >= self.config.max_exemplars:
                break
            if text and text not in state.exemplars:
                state.exemplars.append(text)
                self._exemplar_item[(cid, text)] = item_id
                for token in set(text.split()):
                    self._postings.setdefault(token, deque()).append(cid)

    def expire(self, now: float) -> list[ClusterState]:
        """Drop clusters untouched (wall clock) for longer than the quiet period; return them."""
        horizon = now - self.config.quiet_seconds
        gone: list[ClusterState] = []
        while self._clusters:
            cid, state = next(iter(self._clusters.items()))
            if state.touched_at > horizon:
                break
            del self._clusters[cid]
            gone.append(state)
            for ex in state.exemplars:
                self._exemplar_item.pop((cid, ex), None)
        if gone:
            self._compact()
        return gone

    def _compact(self) -> None:
        live = self._clusters
        for token in list(self._postings):
            kept = deque(c for c in self._postings[token] if c in live)
            if kept:
                self._postings[token] = kept
            else:
                del self._postings[token]
        self._exact = {t: v for t, v in self._exact.items() if v[0] in live}
        while self._item_order and self._item_order[0][1] not in live:
            item, _ = self._item_order.popleft()
            if self._item_cluster.get(item) not in live:
                self._item_cluster.pop(item, None)
