"""Online clustering of claims: each new text joins the best matching live cluster or starts one.

Why an inverted index and not a scan: a window of live claims grows to hundreds
of thousands, and verification with rapidfuzz costs microseconds a pair. Each
cluster is indexed under the content words of a few exemplar texts; a query
counts, for each cluster among the ``max_scan`` newest of each of its words,
how many words it shares (a word in more than ``max_posting`` live clusters
tells nothing and is skipped), and verifies only the ``max_candidates`` best. Exact repeats (retweet storms,
copy-paste accounts) are found by a hash lookup before any of that.

Cluster ids are derived from the first item's id, so a replay of the same
input in the same order gives the same ids: alerts keyed by them stay
idempotent across restarts.

One clusterer sees only the partitions of its worker. Every exemplar it adds
is reported in ``Assignment.new_exemplars``; the stream announces them under
their block keys (``streams.domain.blocking``) so that near-duplicates that
landed on another worker, or before a restart, are found and the two
clusters merged (``streams.domain.merging``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

from streams.domain.actors import Actors
from streams.domain.contradiction import Judge, contradiction, negates, opposes
from streams.domain.cues import denies
from streams.domain.matching import MIN_CONTENT_TOKENS as MIN_CONTENT_WORDS
from streams.domain.matching import MatchConfig, SimilarityScorer
from streams.domain.normalise import Normalised
from streams.domain.pair_features import Exemplar, Signature, names_agree, shares_name, spelled_out
from streams.domain.registry import load_registry
from streams.domain.vectors import ExemplarVectors
from streams.domain.watermark import Watermark

__all__ = ["Assignment", "ClaimClusterer", "ClusterConfig", "ClusterState", "cluster_id_for"]


def _denying(claims: Sequence[Signature]) -> Sequence[Signature]:
    """What a founding item claims: of a denial in several sentences, the sentences that
    deny. "... are aware of a report about an explosion near X. There is NO explosion ..."
    claims there was none; its first sentence, kept as an exemplar, would have later
    reports of the explosion join the denial's cluster as if they said what it says, and
    another denial contradict it."""
    if len(claims) < 2:
        return claims
    # Only the word a negation governs: "No deaths from the floods were reported" negates
    # deaths, and leaves "Floods hit the city" standing.
    denying = [
        c
        for c in claims
        if denies(c.full) or any(negates(c.full, o.full, scope=1) for o in claims if o is not c)
    ]
    return denying if denying and len(denying) < len(claims) else claims


def _same_way(text: str, root: str) -> bool:
    """Whether ``text`` says what the cluster's founding text says the same way round:
    neither denies it, nor negates a word the other states, nor states the opposite of
    one ("... are alive" of "... were killed"). A text joining the other way round
    ("Official says no arrest has been made" in the cluster of "official says an arrest
    has been made") is no exemplar of it, and the clusters it comes near are most likely
    the claim it opposes again, said otherwise."""
    return (
        denies(text) == denies(root)
        and negates(text, root, scope=1) == negates(root, text, scope=1)
        and not opposes(text, root)
    )


def _beside(names: set[str], text: str) -> set[str]:
    """Words of ``text`` written next to one of ``names``: "Boston Marathon bombing" names
    the cluster of "the Marathon bombing" more fully, and brings no other place to it."""
    words = text.split()
    return {
        w
        for i, w in enumerate(words)
        if (i > 0 and words[i - 1] in names) or (i + 1 < len(words) and words[i + 1] in names)
    }


def cluster_id_for(first_item_id: str) -> str:
    return "c" + hashlib.blake2b(first_item_id.encode(), digest_size=8).hexdigest()


def _bundled_actors() -> Actors:
    return load_registry(None).actors


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    """Bounds of the clusterer; every one keeps per-claim cost flat.

    ================  ========  ================================================
    field             default   meaning
    ================  ========  ================================================
    quiet_seconds     172800    a cluster with no new member for this long expires, in
                                event time (newest created_at seen) or in wall-clock time
    max_exemplars     4         texts per cluster that queries are compared with
    max_link_texts    4         other sentences said in a cluster, compared with
                                later posts for a clash only (never to join)
    max_candidates    16        clusters verified per query
    min_overlap       0.3       share of the query's words a candidate must have
    max_scan          200       newest clusters read from one word's posting list
    max_posting       20000     a word in more live clusters than this is skipped
    max_members       200       member ids kept per cluster (the count stays exact)
    join_threshold    0.6       match probability at which a claim joins a cluster
    merge_threshold   0.8       match probability at which two clusters become one
    link_threshold    0.3       match probability from which two clusters that clash
                                (negation, opposite word) contradict
    weak_link_...     0.5       the same for the weaker cues (a one-sided denial, a count)
    block_entries     32        newest exemplars a block key keeps for merge detection
    max_live          200000    live clusters at most; beyond, the longest quiet leaves
                                early (a worker holds about 6 KB per
                                live claim, all its state together)
    ================  ========  ================================================

    Why ``join_threshold`` is stricter than the matcher's own (pair) threshold:
    a claim is compared with up to ``max_candidates`` clusters and joins the
    best, so a pair-level operating point would let one of many topical
    neighbours through ("Taliban conquered Panjshir" vs "jets bombing
    Panjshir"); and a wrong join corrupts a cluster's evidence, while a missed
    one only delays it. Why ``merge_threshold`` is stricter still: a merge
    joins two whole clusters, and merges chain (A with B, B with C); at the
    join threshold, chains of sympathy tweets joined the Boston bombing and
    the West Texas explosion into one cluster of 900 (CrisisLexT26). Why
    ``link_threshold`` is below the pair threshold: two claims that contradict
    are not paraphrases, and the model (whose cosine sees the meaning) scores
    "Panjshir province has been completely conquered" against "Panjshir has not
    fallen and the fight will continue" about 0.3; a negation or opposite word on
    what they share is the evidence. Why ``weak_link_threshold`` is higher: "NRF
    denies Taliban claims that Panjshir has fallen" denies something, not
    necessarily what "Pakistani jets are bombing our positions in Panjshir" says.
    """

    quiet_seconds: float = 48 * 3600.0
    max_exemplars: int = 4
    max_link_texts: int = 4
    max_candidates: int = 16
    min_overlap: float = 0.3
    max_scan: int = 200
    max_posting: int = 20000
    max_members: int = 200
    join_threshold: float = 0.6
    merge_threshold: float = 0.8
    link_threshold: float = 0.3
    weak_link_threshold: float = 0.5
    block_entries: int = 32
    max_live: int = 200_000
    match: MatchConfig = field(default_factory=MatchConfig)
    actors: Actors = field(default_factory=_bundled_actors)
    """The sides of the conflicts followed (the source registry's parties): a text blaming
    one joins and merges only with texts blaming the same (``streams.domain.actors``)."""
    judge: Judge | None = None
    """The learnt contradiction model, asked about near claims where no cue fires and the
    match score reaches ``weak_link_threshold`` (``streams.domain.entailment``); None: cues alone."""


@dataclass(slots=True)
class ClusterState:
    """What the clusterer keeps per live cluster."""

    cluster_id: str
    representative: str
    first_seen: float
    last_seen: float
    created: float = 0.0
    """Event time of the founding item; never changes, so merges can rank clusters by it."""
    touched_at: float = 0.0
    """Wall-clock time of the newest member: expiry runs on this, so replays of old
    data are not expired on arrival."""
    size: int = 0
    members: list[str] = field(default_factory=list)
    exemplars: list[Exemplar] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    """People and places the exemplars name: a post naming only others is about something else."""
    shortest: int = 1_000_000
    """Content words of the shortest exemplar (how many shared words make it a candidate)."""
    link_texts: list[Exemplar] = field(default_factory=list)
    """Sentences its items said that are no exemplar of it ("The AP's account was hacked.
    The president was not injured"): what a later post is checked against for a clash,
    so that a clash is found whichever of the two texts came first."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one item went and why."""

    cluster_id: str
    score: float
    matched_item: str | None
    is_new: bool
    reason: str
    """``new``, ``exact``, ``retweet``, ``similar``, ``response`` (a reply or quote that joins
    the cluster of the post it answers) or ``duplicate`` (a redelivered item)."""
    query: Signature | None = None
    """The item's text that matched (its best sentence), or its whole text."""
    matched: Signature | None = None
    """The exemplar it matched, for ``similar``, ``exact`` and ``retweet``."""
    new_exemplars: tuple[Signature, ...] = ()
    """Texts this item added to the cluster's exemplars: announce them for merging."""
    also_matched: tuple[tuple[str, float, float], ...] = ()
    """Other live clusters this item matched as well: ``(cluster id, created, score)``.
    They make the same claim as the one it joined, so the stream merges them."""
    near: tuple[tuple[str, float, Signature, str, Signature], ...] = ()
    """Other live clusters whose exemplars this item scored at least the link threshold
    against but below the merge threshold: ``(cluster id, score, exemplar, its item, the
    item's sentence that scored it)``, one entry per exemplar that near, best first in each
    cluster. About the same thing; the stream checks the sentence and the exemplar for a
    contradiction. Every exemplar near enough is there, not only the best: the sentence
    of a denial most like the claim is often not the one that denies it ("... aware of a
    report about an explosion near X. There is NO explosion ..."). Left empty when the
    item joined a cluster the other way round (a denial of its claim)."""
    new_link_texts: tuple[Signature, ...] = ()
    """Texts this item added to the cluster's link texts: announce them for clashes only."""


class ClaimClusterer:
    """Single-owner online clusterer (one instance per worker; not thread-safe)."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self._scorer = SimilarityScorer(self.config.match)
        #: The vectors of the live exemplars (with the encoder on): each encoded once.
        self._vectors = ExemplarVectors()
        self._clusters: OrderedDict[str, ClusterState] = OrderedDict()  # by last_seen
        self._postings: dict[str, deque[str]] = {}
        self._link_postings: dict[str, deque[str]] = {}  # the same, of link texts
        self._exact: dict[str, tuple[str, str]] = {}  # match text -> (cluster, item)
        self._exact_added: list[tuple[str, str, str]] = []  # (match text, cluster, item) since drained
        self._item_cluster: dict[str, str] = {}
        #: Per exemplar, the item that gave it and when it came (the clock of that post),
        #: so that a restart re-learns exemplars in that order (see ``restore``).
        self._exemplar_of: dict[tuple[str, str], tuple[str, float]] = {}
        self._now = 0.0
        self._watermark = 0.0  # event time: the slowest active source's newest (``Watermark``)
        self._event_time = Watermark()
        self._swept_at = 0.0  # watermark at the last event-time sweep
        self._dead_since_compact = 0
        self.expired_total = 0
        self.evicted_total = 0
        self._expired: list[str] = []

    def __len__(self) -> int:
        return len(self._clusters)

    def get(self, cluster_id: str) -> ClusterState | None:
        return self._clusters.get(cluster_id)

    @property
    def items_tracked(self) -> int:
        """Items whose cluster the matcher remembers (for duplicates and retweets): those of
        the live clusters, and of clusters gone since the last compaction."""
        return len(self._item_cluster)

    def exemplar_items(
        self, cluster_id: str, *, link_texts: bool = False
    ) -> list[tuple[Exemplar, str, float]]:
        """A live cluster's exemplars (or its link texts) in order, each with the item that
        gave it and when it came."""
        state = self._clusters.get(cluster_id)
        if state is None:
            return []
        return [
            (ex, *self._exemplar_of.get((cluster_id, ex.match), ("", state.touched_at)))
            for ex in (state.link_texts if link_texts else state.exemplars)
        ]

    def _exemplar_item(self, cid: str, match: str) -> str:
        """The item that gave an exemplar ("" when not known)."""
        return self._exemplar_of.get((cid, match), ("", 0.0))[0]

    def cluster_of(self, item_id: str) -> str | None:
        """The live cluster of a seen item (None once that cluster expired)."""
        cid = self._item_cluster.get(item_id)
        return cid if cid in self._clusters else None

    def assign(
        self,
        item_id: str,
        sentences: Sequence[Normalised],
        ts: float,
        *,
        display_text: str = "",
        retweet_of: str | None = None,
        responds_to: str | None = None,
        now: float | None = None,
        source: object = None,
        match: bool = True,
    ) -> Assignment:
        """Put one item in a cluster. Idempotent: a seen item id returns its cluster again.

        ``sentences`` are the item's normalised sentences (one for a tweet); the
        item matches a cluster through its best sentence, so a lead that adds
        context does not dilute the claim in the headline. ``match=False``
        founds a new cluster without looking (benchmarks fill a window of
        known-distinct claims that way). ``responds_to`` is the post a reply or
        quote answers: when the item makes no claim of its own that joins a
        cluster, it joins the cluster of that post as a response (its stance
        toward that claim is evidence), if that post is known here. ``source``
        is the partition the item came from: event time is the slowest active
        partition's (``Watermark``), so a partition read ahead cannot expire
        claims whose posts another partition has not delivered yet.
        """
        seen = self._item_cluster.get(item_id)
        if seen is not None and seen in self._clusters:
            return Assignment(seen, 1.0, None, False, "duplicate")
        self._now = ts if now is None else now
        self._watermark = self._event_time.observe(source, ts, self._now)
        if self._watermark - self._swept_at >= self.config.quiet_seconds / 48:
            # A replay runs through days of event time in seconds: sweep by event time
            # too, or a claim of last month would still be live for today's posts.
            self._swept_at = self._watermark
            self.expire(self._now)
        whole = Signature.of_parts(sentences)
        if not match:
            return self._found(item_id, whole, ts, display_text, self._claim_texts(sentences, whole))
        if retweet_of is not None:
            parent = self._item_cluster.get(retweet_of)
            if parent is not None and parent in self._clusters:
                self._add(parent, item_id, whole, ts, ())
                return Assignment(parent, 1.0, retweet_of, False, "retweet", whole, whole)
        exact = self._exact.get(whole.match) if whole.match else None
        if exact is not None and exact[0] in self._clusters:
            self._add(exact[0], item_id, whole, ts, ())
            return Assignment(exact[0], 1.0, exact[1], False, "exact", whole, whole)
        claims = self._claim_texts(sentences, whole)
        best: tuple[str, float, Signature] | None = None
        best_text = whole
        matched_clusters: dict[str, float] = {}
        near: dict[str, dict[tuple[str, str], tuple[float, Signature, Signature]]] = {}
        actors = self.config.actors
        for text in claims:
            for found in self._candidates(text):
                if self._names_clash(found[0], whole):
                    continue
                # A text blaming a side and one blaming another, or no one, are two claims
                # however alike their words ("Israeli strike hits hospital" / "explosion
                # at the hospital"): near, so a clash between them is found, never one.
                same_doers = actors.same_doers(text.full, found[2].full)
                if same_doers and found[1] >= self.config.merge_threshold:
                    matched_clusters[found[0]] = max(found[1], matched_clusters.get(found[0], 0.0))
                elif found[1] >= self.config.link_threshold:
                    # Per exemplar and own sentence: score, exemplar, own sentence.
                    entries = near.setdefault(found[0], {})
                    for score, ex in ((found[1], found[2]), *found[3]):
                        key = (ex.match, text.full)
                        if score >= self.config.link_threshold and score > entries.get(key, (-1.0,))[0]:
                            entries[key] = (score, ex, text)
                if (
                    same_doers
                    and (best is None or found[1] > best[1])
                    and found[1] >= self._join_bar(found[0], whole)
                ):
                    best, best_text = (found[0], found[1], found[2]), text
        if best is not None:
            cid, score, matched = best
            # An exemplar must itself say what the cluster's founding text says, so
            # exemplars cannot drift step by step to another claim; and say it the same
            # way round: a denial joins the claim it denies, but is no exemplar of it.
            root = self._clusters[cid].exemplars[:1]
            same_way = not root or _same_way(best_text.full, root[0].full)
            near_root = (
                bool(root)
                and same_way
                and self._scorer.score(best_text, root[0].signature(), self._vectors)
                >= self.config.join_threshold
            )
            # Nor may it bring names the cluster never used: "First Boston, now Texas"
            # joins the Boston cluster, but must not make "Texas" one of its names.
            joined = self._clusters[cid]
            # A name given in full where the cluster knows it by its initials is no new
            # name, nor are the initials a run of capitalised words gives, where the
            # cluster knows every word of the run.
            known = joined.names | self._said(joined)
            new_names = set(whole.entities - known) if joined.names else set()
            if new_names:
                new_names -= spelled_out(joined.names, whole.full)
                new_names = {
                    n for n in new_names if not (w := spelled_out((n,), whole.full)) or not w <= known
                }
                new_names -= _beside(joined.names, whole.full)
            adds_names = bool(new_names)
            exemplar = (best_text,) if near_root and not adds_names else ()
            if same_way:  # else its near clusters are dropped below
                self._near_link_texts(near, (best_text,), matched_clusters, whole)
            added = self._add(cid, item_id, whole, ts, exemplar)
            # Kept from the exemplars only for the names it brings, what it says can still
            # clash with a later post: "FBI finds no link ..., despite Islamic State claim"
            # in the cluster of the FBI's own "no connection" meets the claim it rejects.
            rest = [c for c in claims if c is not best_text]
            said = self._add_link_texts(
                cid,
                item_id,
                whole,
                [best_text, *rest] if near_root and adds_names else rest,
                stands=(best_text,),
            )
            matched_item = self._exemplar_item(cid, matched.match) or None
            also = tuple(
                (other, state.created, sc)
                for other, sc in sorted(matched_clusters.items())
                if other != cid
                and (state := self._clusters.get(other)) is not None
                and self._names_agree(cid, state)
            )
            others = self._near(near, cid) if same_way else ()
            return Assignment(
                cid, score, matched_item, False, "similar", best_text, matched, added, also, others, said
            )
        if responds_to is not None:
            parent = self._item_cluster.get(responds_to)
            if parent is not None and parent in self._clusters:
                self._add(parent, item_id, whole, ts, ())
                score = best[1] if best is not None and best[0] == parent else 0.0
                return Assignment(parent, score, responds_to, False, "response", whole, None)
        kept = _denying(claims)
        self._near_link_texts(near, kept, matched_clusters, whole)
        founded = self._found(item_id, whole, ts, display_text, claims, kept)
        return dataclasses.replace(founded, near=self._near(near, founded.cluster_id))

    def _near_link_texts(
        self,
        near: dict[str, dict[tuple[str, str], tuple[float, Signature, Signature]]],
        claims: Sequence[Signature],
        same_claim: dict[str, float],
        whole: Signature,
    ) -> None:
        """Add to ``near`` the link texts of other clusters that ``claims`` (what this item
        claims in its cluster) come near. A link text is set against what another cluster
        claims, never against another link text: neither is the claim of its cluster."""
        for text in claims:
            for cid, score, said in self._link_candidates(text):
                if cid in same_claim or score < self.config.link_threshold or self._names_clash(cid, whole):
                    continue
                entries = near.setdefault(cid, {})
                key = (said.match, text.full)
                if score > entries.get(key, (-1.0,))[0]:
                    entries[key] = (score, said, text)

    def _near(
        self, near: dict[str, dict[tuple[str, str], tuple[float, Signature, Signature]]], joined: str
    ) -> tuple[tuple[str, float, Signature, str, Signature], ...]:
        return tuple(
            (cid, score, ex, self._exemplar_item(cid, ex.match), text)
            for cid, entries in sorted(near.items())
            if cid != joined
            for score, ex, text in sorted(entries.values(), key=lambda e: (-e[0], e[1].match, e[2].full))
        )

    def _found(
        self,
        item_id: str,
        whole: Signature,
        ts: float,
        display_text: str,
        claims: Sequence[Signature],
        kept: Sequence[Signature] | None = None,
    ) -> Assignment:
        """Found a cluster with the item; ``kept``: its exemplars (``_denying(claims)``) if
        the caller has them already."""
        cid = cluster_id_for(item_id)
        self._clusters[cid] = ClusterState(
            cluster_id=cid,
            representative=display_text or whole.match,
            first_seen=ts,
            last_seen=ts,
            created=ts,
            touched_at=self._now,
        )
        kept = _denying(claims) if kept is None else kept
        added = self._add(cid, item_id, whole, ts, kept)
        rest = [c for c in claims if all(c is not k for k in kept)]
        said = self._add_link_texts(cid, item_id, whole, rest, stands=kept)
        if len(self._clusters) > self.config.max_live:
            self._evict(len(self._clusters) - self.config.max_live)
        return Assignment(cid, 1.0, None, True, "new", whole, None, added, new_link_texts=said)

    def claim_texts(self, sentences: Sequence[Normalised]) -> tuple[Signature, ...]:
        """The texts an item with these sentences is matched by (what ``assign`` compares)."""
        return self._claim_texts(sentences, Signature.of_parts(sentences))

    def _claim_texts(self, sentences: Sequence[Normalised], whole: Signature) -> tuple[Signature, ...]:
        """Check-worthy sentences of a multi-sentence item, else the whole text."""
        if len(sentences) > 1:
            sigs = [Signature.of(n) for n in sentences]
            worthy = tuple(s for s in sigs if s.length >= self.config.match.min_tokens)
            if worthy:
                return worthy
        return (whole,) if whole.match else ()

    def _candidates(
        self, text: Signature
    ) -> list[tuple[str, float, Signature, tuple[tuple[float, Signature], ...]]]:
        """Each candidate cluster with its best-scoring exemplar, and its other exemplars."""
        if not text.match:
            return []
        cfg = self.config
        overlap = self._shared_words(self._postings, text)
        if not overlap:
            return []
        # A cluster sharing too few words cannot reach the threshold: skip its scoring.
        # "Too few" is a share of the shorter of the two texts, so that whether two
        # claims are compared does not depend on which of them came first.
        n_words = len(text.words)
        floor = max(1.0, cfg.min_overlap * min(n_words, MIN_CONTENT_WORDS))
        cands: list[Signature] = []
        owners: list[str] = []
        for cid, shared in overlap.most_common(cfg.max_candidates):
            if shared < floor:
                break
            state = self._clusters.get(cid)
            if state is None or shared < cfg.min_overlap * min(n_words, state.shortest):
                continue
            for ex in state.exemplars:
                cands.append(ex.signature())
                owners.append(cid)
        if not cands:
            return []
        best: dict[str, tuple[str, float, Signature]] = {}
        rest: dict[str, list[tuple[float, Signature]]] = {}
        scores = self._scorer.score_many(text, cands, self._vectors)
        for owner, cand, score in zip(owners, cands, scores, strict=True):
            prior = best.get(owner)
            if prior is None or score > prior[1]:
                best[owner] = (owner, score, cand)
                if prior is not None:
                    rest.setdefault(owner, []).append((prior[1], prior[2]))
            else:
                rest.setdefault(owner, []).append((score, cand))
        return [(*b, tuple(rest.get(owner, ()))) for owner, b in best.items()]

    def _shared_words(self, postings: dict[str, deque[str]], text: Signature) -> Counter[str]:
        """Per cluster of an index, how many of ``text``'s words it has."""
        overlap: Counter[str] = Counter()
        # Sorted: ties in the count are broken by first appearance, and a set's order
        # changes with the process's hash seed; the same input must give the same clusters.
        for token in sorted(text.words):
            posting = postings.get(token)
            if posting is None or len(posting) >= self.config.max_posting:
                continue
            # Only the most recent clusters of a common word: recency over completeness.
            # (Counter.update on an iterable counts in C: this loop is the hot path.)
            overlap.update(islice(reversed(posting), self.config.max_scan))
        return overlap

    def _link_candidates(self, text: Signature) -> list[tuple[str, float, Signature]]:
        """Link texts of live clusters that share words with ``text``, each with its score.

        Why an index of their own: link texts never decide a join or a merge, so they
        must not take a place among the exemplars of the word lists, nor a candidate's
        slot. Few clusters have any (items of several sentences), so this costs little.
        """
        if not text.match or not self._link_postings:
            return []
        cfg = self.config
        overlap = self._shared_words(self._link_postings, text)
        n_words = len(text.words)
        cands: list[Signature] = []
        owners: list[str] = []
        for cid, shared in overlap.most_common(cfg.max_candidates):
            state = self._clusters.get(cid)
            if state is None:
                continue
            for said in state.link_texts:
                sig = said.signature()
                if shared >= max(1.0, cfg.min_overlap * min(n_words, len(sig.words))):
                    cands.append(sig)
                    owners.append(cid)
        if not cands:
            return []
        scores = self._scorer.score_many(text, cands, self._vectors)
        return list(zip(owners, scores, cands, strict=True))

    def _add_link_texts(
        self,
        cid: str,
        item_id: str,
        whole: Signature,
        texts: Sequence[Signature],
        *,
        stands: Sequence[Signature],
    ) -> tuple[Signature, ...]:
        """Keep the item's other sentences as link texts, but only those that agree with the
        sentences by which it stands in the cluster (``stands``). Why: "Reports said the
        dam burst. Officials deny it" stands with a denial; its first sentence tells what
        is denied, and set against a later "the dam did not burst" would oppose two denials."""
        state = self._clusters[cid]
        added: list[Signature] = []
        for sig in texts:
            if len(state.link_texts) >= self.config.max_link_texts:
                break
            if not sig.match or any(ex.match == sig.match for ex in (*state.exemplars, *state.link_texts)):
                continue
            if any(own is not sig and contradiction(sig.full, own.full).contradicts for own in stands):
                continue
            self._keep_link_text(cid, item_id, whole, sig, self._now)
            added.append(sig)
        return tuple(added)

    def _keep_link_text(self, cid: str, item_id: str, whole: Signature, sig: Signature, at: float) -> None:
        state = self._clusters[cid]
        if not whole.entities <= sig.entities:
            sig = dataclasses.replace(sig, entities=sig.entities | whole.entities)
        state.link_texts.append(Exemplar.of(sig))
        self._keep_vector(sig.full)
        self._exemplar_of.setdefault((cid, sig.match), (item_id, at))
        for token in sig.words:
            self._link_postings.setdefault(token, deque()).append(cid)

    def _add(
        self, cid: str, item_id: str, whole: Signature, ts: float, exemplars: Sequence[Signature]
    ) -> tuple[Signature, ...]:
        state = self._clusters[cid]
        state.size += 1
        state.last_seen = max(state.last_seen, ts)
        state.first_seen = min(state.first_seen, ts)
        state.touched_at = max(state.touched_at, self._now)
        if len(state.members) < self.config.max_members:
            state.members.append(item_id)
        self._clusters.move_to_end(cid)
        self._item_cluster[item_id] = cid
        if whole.match and whole.match not in self._exact:
            self._exact[whole.match] = (cid, item_id)
            self._exact_added.append((whole.match, cid, item_id))
        added: list[Signature] = []
        for sig in exemplars:
            if len(state.exemplars) >= self.config.max_exemplars:
                break
            if sig.match and all(ex.match != sig.match for ex in state.exemplars):
                # The whole item's names, not the sentence's: "#PrayForVisayas. Keep safe
                # everyone!" gives the exemplar "keep safe everyone", about the Visayas.
                if not whole.entities <= sig.entities:
                    sig = dataclasses.replace(sig, entities=sig.entities | whole.entities)
                state.exemplars.append(Exemplar.of(sig))
                self._keep_vector(sig.full)
                state.names.update(sig.entities)
                state.shortest = min(state.shortest, len(sig.words))
                added.append(sig)
                self._exemplar_of[(cid, sig.match)] = (item_id, self._now)
                for token in sig.words:
                    self._postings.setdefault(token, deque()).append(cid)
        return tuple(added)

    def restore(
        self,
        cid: str,
        *,
        created: float,
        item_id: str,
        exemplar: Signature,
        representative: str,
        event_ts: float,
        touched_at: float,
        link_only: bool = False,
    ) -> None:
        """Re-learn an exemplar a previous run announced (the stream's blocks table keeps them),
        or with ``link_only`` a link text.

        Why: the index lives in memory, so after a restart a post of a claim seen
        before would found a new cluster and be merged back later, an alias and
        extra alert versions a crash should not cause. Restored clusters keep
        their ids and times; their member count restarts from their exemplars.
        ``touched_at`` is when this exemplar came: call in that order, across clusters.
        The index keeps only the newest clusters of a common word (``max_scan``), so the
        order decides which clusters a later post is compared with; restored cluster by
        cluster, 6 of 20,000 later posts went elsewhere than in a run never stopped.
        """
        state = self._clusters.get(cid)
        if state is None:
            state = ClusterState(
                cluster_id=cid,
                representative=representative,
                first_seen=created,
                last_seen=event_ts,
                created=created,
                touched_at=touched_at,
            )
            self._clusters[cid] = state
        if link_only:
            if (
                exemplar.match
                and len(state.link_texts) < self.config.max_link_texts
                and all(said.match != exemplar.match for said in state.link_texts)
            ):
                self._keep_link_text(cid, item_id, exemplar, exemplar, touched_at)
            return
        if any(ex.match == exemplar.match for ex in state.exemplars):
            return
        state.last_seen = max(state.last_seen, event_ts)
        state.touched_at = max(state.touched_at, touched_at)
        self._clusters.move_to_end(cid)
        state.size += 1
        if len(state.members) < self.config.max_members:
            state.members.append(item_id)
        self._item_cluster.setdefault(item_id, cid)
        if exemplar.match and exemplar.match not in self._exact:
            self._exact[exemplar.match] = (cid, item_id)
        if len(state.exemplars) < self.config.max_exemplars and exemplar.match:
            state.exemplars.append(Exemplar.of(exemplar))
            self._keep_vector(exemplar.full)
            state.names.update(exemplar.entities)
            state.shortest = min(state.shortest, len(exemplar.words))
            self._exemplar_of[(cid, exemplar.match)] = (item_id, touched_at)
            for token in exemplar.words:
                self._postings.setdefault(token, deque()).append(cid)

    def drain_exact_added(self) -> list[tuple[str, str, str]]:
        """``(match text, cluster, item)`` of each text first seen since the last call: the
        cluster a later post with exactly that text joins without scoring. (The cluster
        stage drains this after every item; a direct user must too, or it grows.)"""
        out, self._exact_added = self._exact_added, []
        return out

    def restore_exact(self, match: str, cid: str, item_id: str) -> None:
        """Re-learn which live cluster a text joins outright (``drain_exact_added`` of an
        earlier run). Why: which of two clusters with one text a later post joins, and
        whether a rewording too far from every exemplar joins at all, depend on it."""
        if not match or cid not in self._clusters:
            return
        self._exact[match] = (cid, item_id)
        if item_id not in self._item_cluster:
            self._item_cluster[item_id] = cid

    def _join_bar(self, cid: str, whole: Signature) -> float:
        """Score a post needs to join ``cid``: higher when the cluster names a place or
        person and the post names none.

        Why: "thoughts and prayers to all those affected" fits every disaster; with
        the plain bar, one week's sympathy posts for the West Texas explosion all
        joined the live Boston cluster that first said it with "Boston" in it.
        """
        state = self._clusters.get(cid)
        if state is not None and state.names and not whole.entities:
            return self.config.merge_threshold
        return self.config.join_threshold

    def _names_agree(self, cid: str, other: ClusterState) -> bool:
        """Two clusters may merge as far as their names go (``names_agree``: every name of
        each is in the other's names or words)."""
        state = self._clusters[cid]
        return names_agree(state.names, self._said(state), other.names, self._said(other))

    @staticmethod
    def _said(state: ClusterState) -> frozenset[str]:
        return frozenset().union(*(ex.signature().tokens for ex in state.exemplars))

    def _names_clash(self, cid: str, text: Signature) -> bool:
        """``text`` names people or places, the cluster names others, and none of them is shared.

        The pair rule (``different_names``) sees only the exemplar matched; a
        sympathy post naming New York can match "hope everyone in that pub is
        safe" word for word while the cluster is about Glasgow. ``text`` is the
        whole item, not the sentence that matched: "Train derailed in NYC. My
        heart goes out to the victims" matches through its second sentence,
        and is still about New York.
        """
        if not text.entities:
            return False
        state = self._clusters.get(cid)
        if (
            state is None
            or not state.names
            or not state.names.isdisjoint(text.entities)
            or shares_name(state.names, text.tokens)
        ):
            return False
        return not any(shares_name(text.entities, ex.signature().tokens) for ex in state.exemplars)

    def expire(self, now: float) -> list[ClusterState]:
        """Drop clusters quiet for longer than the quiet period; return them.

        Quiet in wall-clock time (``now``) or in event time (the newest
        ``created_at`` seen). Clusters are kept in order of their last new
        member, so the sweep stops at the first live one.
        """
        wall_horizon = now - self.config.quiet_seconds
        event_horizon = self._watermark - self.config.quiet_seconds
        gone: list[ClusterState] = []
        while self._clusters:
            state = next(iter(self._clusters.values()))
            if state.touched_at > wall_horizon and state.last_seen > event_horizon:
                break
            gone.append(self._drop_oldest())
        self.expired_total += len(gone)
        self._dropped(len(gone))
        return gone

    def _evict(self, n: int) -> None:
        """A flood of new claims past ``max_live``: the longest quiet clusters leave early,
        as if expired, so memory stays bounded whatever arrives."""
        for _ in range(n):
            self._drop_oldest()
        self.evicted_total += n
        self._dropped(n)

    def _drop_oldest(self) -> ClusterState:
        """Remove the cluster quiet longest; its owner is told through ``drain_expired``."""
        cid = next(iter(self._clusters))
        self._expired.append(cid)
        state = self._remove(cid)
        assert state is not None
        return state

    def _remove(self, cid: str) -> ClusterState | None:
        """Take a cluster out of the matcher (lookups skip what else still names it)."""
        state = self._clusters.pop(cid, None)
        if state is not None:
            for ex in (*state.exemplars, *state.link_texts):
                self._exemplar_of.pop((cid, ex.match), None)
                self._vectors.release(ex.full)
        return state

    def _keep_vector(self, text: str) -> None:
        """A new exemplar's vector is kept with it: the post's own, computed for its batch
        (``ClusterStage.prefetch``) or its scoring, else when it is first compared."""
        encoder = self.config.match.encoder
        if encoder is not None:
            self._vectors.keep(text, encoder.cached(text))

    def forget(self, cids: Iterable[str]) -> int:
        """Drop clusters another worker owns now (their partition was revoked), without
        announcing them as expired: their owner goes on with them. Returns how many were live.

        Why: a worker that gets the partition back later must re-learn the cluster as
        the other worker left it, not go on from its own stale copy."""
        n = sum(self._remove(cid) is not None for cid in cids)
        self._dropped(n)
        return n

    def _dropped(self, n: int) -> None:
        # Lookups skip dead clusters anyway; compact once they are a sizeable share.
        self._dead_since_compact += n
        if self._dead_since_compact > max(1000, len(self._clusters) // 10):
            self._compact()
            self._dead_since_compact = 0

    def drain_expired(self) -> list[str]:
        """Ids of clusters expired since the last call (by either clock), oldest first."""
        out, self._expired = self._expired, []
        return out

    @property
    def watermark(self) -> float:
        """Event time as the matcher sees it (the slowest active source's newest)."""
        return self._watermark

    def _compact(self) -> None:
        live = self._clusters
        for postings in (self._postings, self._link_postings):
            for token in list(postings):
                kept = deque(c for c in postings[token] if c in live)
                if kept:
                    postings[token] = kept
                else:
                    del postings[token]
        self._exact = {t: v for t, v in self._exact.items() if v[0] in live}
        # Every gone claim's items, wherever they are: forgetting only those that came
        # before the oldest live claim let one claim kept live (retweeted all day) hold
        # every item of a flood that came after it.
        self._item_cluster = {i: c for i, c in self._item_cluster.items() if c in live}
