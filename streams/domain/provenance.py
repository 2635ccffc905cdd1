"""Group the items of a claim cluster into independent origins.

Why union-find over items *and* sources: an echo is a link between two posts
(retweet, quote without words of its own, a reply that repeats, identical
text) or between a post and a source it repeats (same account, same
organisation, same outlet, "according to CNN-News18", a link to another
outlet's article). Making accounts, sources and domains nodes of the same
forest lets one rule ("this item belongs to CNN-News18") join every post that
leans on CNN-News18, including re-reports of a broadcast we never saw. Every
union records why, and the alert shows those reasons.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from streams.domain.asserted import clauses, content_words, most_like
from streams.domain.cues import explicit_denial, hedges
from streams.domain.normalise import split_sentences
from streams.domain.registry import ATTRIBUTION_CUE, SourceInfo, SourceRegistry, domain_of
from streams.domain.stance import Stance

__all__ = [
    "COORDINATION_WINDOW_SECONDS",
    "Attribution",
    "EvidenceItem",
    "Origin",
    "attribution_targets",
    "claim_sentence",
    "group_origins",
    "linked_domains",
    "passes_on",
    "text_fingerprint",
]

#: Identical text from this many accounts within the window is flagged.
COORDINATION_MIN_ACCOUNTS = 3
COORDINATION_WINDOW_SECONDS = 300.0
#: Texts at least this long that recur verbatim across outlets are syndicated copy.
SYNDICATION_MIN_TOKENS = 20

_RT_AUTHOR = re.compile(r"^\s*RT\s+@(\w{1,30})\s*:", re.IGNORECASE)
_VIA_HANDLE = re.compile(r"\b(?:via|h/t|hat tip|ht|cc)\s*:?\s*@(\w{1,30})", re.IGNORECASE)


def text_fingerprint(match_text: str) -> str:
    return hashlib.blake2b(match_text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """What the corroboration stage keeps of one item of a cluster."""

    item_id: str
    author: str
    source_id: str
    source_kind: str
    weight: float
    party: str | None
    domain: str | None
    created_at: float
    stance: Stance
    stance_cue: str
    match_score: float
    fingerprint: str
    n_tokens: int
    retweet_of: str | None = None
    quote_of: str | None = None
    reply_to: str | None = None
    cited_sources: tuple[str, ...] = ()
    claim_sources: tuple[str, ...] = ()
    retweeted_author: str | None = None
    cited_handles: tuple[str, ...] = ()
    linked_domains: tuple[str, ...] = ()
    text: str = ""
    denies: bool = False
    """The text denies what it talks about (its polarity, whatever its stance to the claim)."""
    url: str | None = None
    """Where an analyst reads the post (its permalink), for the alert's links."""

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvidenceItem:
        d = dict(d)
        d["stance"] = Stance(d["stance"])
        for key in ("cited_sources", "claim_sources", "cited_handles", "linked_domains"):
            d[key] = tuple(d.get(key, ()))
        return cls(**d)


@dataclass(slots=True)
class Origin:
    """One independent origin: the posts that all go back to it, and why."""

    origin_id: str
    source_id: str
    kind: str
    weight: float
    party: str | None
    stance: Stance
    first_seen: float
    root_item: str | None
    items: list[str] = field(default_factory=list)
    echoes: list[tuple[str, str]] = field(default_factory=list)
    """(item id, reason) for every item other than the root."""
    coordinated: bool = False
    cited_only: bool = False
    """The source was never seen posting; it stands here because others cite it."""
    via_cluster: str | None = None
    """Set when the origin backs a contradicting claim of another cluster (cross-cluster)."""
    last_seen: float = 0.0
    """When its own source last spoke (echoes aside): a source that spoke on both sides of
    a contradiction (a report and its correction) counts where it spoke last."""
    hedged: bool = False
    """Its support only passes the claim on ("Reports of an explosion near X", "... -
    initial report", "reportedly"): on the claim's side of a contest, never a confirmation."""

    @property
    def independent_support(self) -> bool:
        """Counts toward corroboration: supports, stands behind what it says (no hedge),
        and is not a party to the conflict."""
        return self.stance is Stance.SUPPORT and self.party is None and not self.hedged

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin_id": self.origin_id,
            "source": self.source_id,
            "kind": self.kind,
            "weight": round(self.weight, 3),
            "party": self.party,
            "stance": self.stance.value,
            "first_seen": self.first_seen,
            "root_item": self.root_item,
            "items": self.items,
            "echoes": [{"item": i, "reason": r} for i, r in self.echoes],
            "coordinated": self.coordinated,
            "cited_only": self.cited_only,
            "via_cluster": self.via_cluster,
            "last_seen": self.last_seen,
            "hedged": self.hedged,
        }

    @classmethod
    def opposing(cls, d: dict[str, Any], via_cluster: str) -> Origin:
        """A supporting origin of a contradicting cluster, counted here as denying."""
        return cls(
            origin_id=f"{via_cluster}/{d['origin_id']}",
            source_id=str(d["source"]),
            kind=str(d["kind"]),
            weight=float(d["weight"]),
            party=d.get("party"),
            stance=Stance.DENY,
            first_seen=float(d["first_seen"]),
            root_item=d.get("root_item"),
            items=[str(i) for i in d.get("items", [])],
            coordinated=bool(d.get("coordinated", False)),
            cited_only=bool(d.get("cited_only", False)),
            via_cluster=via_cluster,
            last_seen=float(d.get("last_seen", d["first_seen"])),  # summaries before it was sent
        )


@dataclass(frozen=True, slots=True)
class Attribution:
    speakers: tuple[str, ...]
    """Sources the text reports as saying it ("X says", "according to X")."""
    claimants: tuple[str, ...]
    """Sources whose *claim* the text reports ("X claims"): the target of a denial."""
    handles: tuple[str, ...]
    """``via @x`` / ``h/t @x`` accounts."""
    retweeted: str | None
    """The author named in an ``RT @handle:`` prefix."""


def claim_sentence(text: str, claim: str) -> str:
    """The sentence of ``text`` that says ``claim`` (``text`` itself when it is one sentence).

    Why: whom a report attributes the claim to is said where it says the claim. "Hundreds
    killed in blast at Gaza hospital. Hamas blames an Israeli airstrike; Israel says a
    misfired rocket hit it" reports the blast in the outlet's own voice; the parties it
    quotes after are no source of that.
    """
    sentences = split_sentences(text)
    if len(sentences) < 2 or not claim:
        return text
    return most_like(sentences, claim)


def attribution_targets(
    text: str, own: SourceInfo, registry: SourceRegistry, claim: str | None = None
) -> Attribution:
    """Whom ``text`` attributes its content to; with ``claim``, whom the sentence saying
    the claim attributes it to (``claim_sentence``)."""
    if claim:
        text = claim_sentence(text, claim)
    handles = tuple(h.lower() for h in _VIA_HANDLE.findall(text))
    rt = _RT_AUTHOR.match(text)
    retweeted = rt.group(1).lower() if rt else None
    if not ATTRIBUTION_CUE.search(text):
        return Attribution((), (), handles, retweeted)
    cited = [(s, as_claim) for s, as_claim in registry.cited_in(text) if s.id != own.id]
    speakers = tuple(s.id for s, as_claim in cited if not as_claim)
    claimants = tuple(s.id for s, as_claim in cited if as_claim)
    return Attribution(speakers, claimants, handles, retweeted)


class _Forest:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.reason: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, item: str, other: str, reason: str, *, explicit: bool = False) -> None:
        """Join ``item`` to ``other``.

        An explicit link (retweet, quote, reply) always records its reason, even
        before its target arrives; a shared account, organisation or outlet only
        when something was already there to share it with.
        """
        existed = other in self.parent
        a, b = self.find(item), self.find(other)
        if a != b:
            self.parent[a] = b
        if explicit or (existed and a != b):
            self.reason.setdefault(item, reason)


def _stance_rank(stance: Stance) -> int:
    return {Stance.SUPPORT: 0, Stance.DENY: 0, Stance.QUERY: 1, Stance.COMMENT: 2}[stance]


def group_origins(items: Sequence[EvidenceItem], registry: SourceRegistry) -> list[Origin]:
    """Origins of a cluster's items, oldest first. Items must be in arrival order."""
    forest = _Forest()
    by_id = {it.item_id: it for it in items}
    # A copy is a copy of the first post of its text, whichever partition delivered first.
    first_of_text: dict[str, EvidenceItem] = {}
    for it in items:
        if it.n_tokens >= 4 and it.retweet_of is None:
            known = first_of_text.get(it.fingerprint)
            if known is None or (it.created_at, it.item_id) < (known.created_at, known.item_id):
                first_of_text[it.fingerprint] = it
    for it in items:
        node = f"item:{it.item_id}"
        forest.find(node)
        # Specific links first: the first reason recorded for an item is the one shown.
        if it.retweet_of:
            forest.union(node, f"item:{it.retweet_of}", f"retweet of {it.retweet_of}", explicit=True)
            if it.retweeted_author:
                # The original may arrive later (partitions are not in time order).
                forest.union(f"item:{it.retweet_of}", f"acct:{it.retweeted_author}", "retweeted author")
        shares = it.retweet_of is not None  # passing a post on, not saying something
        if it.quote_of and (it.n_tokens < 3 or it.stance in (Stance.QUERY, Stance.COMMENT)):
            shares = True
            forest.union(
                node,
                f"item:{it.quote_of}",
                f"quote of {it.quote_of} adding no claim",
                explicit=True,
            )
        if it.reply_to and it.reply_to in by_id and it.stance is by_id[it.reply_to].stance:
            shares = True
            forest.union(node, f"item:{it.reply_to}", f"reply repeating {it.reply_to}", explicit=True)
        first = first_of_text.get(it.fingerprint) if it.n_tokens >= 4 and it.retweet_of is None else None
        if first is not None and first is not it:
            kind = "syndicated copy" if it.n_tokens >= SYNDICATION_MIN_TOKENS else "copy-paste"
            forest.union(node, f"item:{first.item_id}", f"{kind} of {first.item_id}", explicit=True)
        repeats = it.stance is Stance.SUPPORT
        # A text that denies repeats its speaker ("NRF denies ...") but not the claimant
        # it denies; one that asserts ("Taliban claim ...") repeats both, whichever side of
        # the cluster's claim it is on (the claim may itself be a denial).
        echoed = it.cited_sources if it.denies else (*it.cited_sources, *it.claim_sources)
        relays = False
        for sid in echoed:
            if (repeats or it.stance is Stance.DENY) and sid != it.source_id:
                forest.union(node, f"src:{sid}", f"cites {sid}", explicit=True)
                relays = True
        for handle in it.cited_handles:
            forest.union(node, f"acct:{handle}", f"via @{handle}", explicit=True)
            # The account relayed is the origin even when its own post is not here.
            cited = registry.resolve(author=handle, outlet=None, url=None, verified=None)
            forest.union(node, f"src:{cited.id}", f"via @{handle}", explicit=True)
        for dom in it.linked_domains:
            if dom != it.domain and (repeats or it.stance is Stance.DENY):
                forest.union(node, f"dom:{dom}", f"links to an article on {dom}", explicit=True)
        if shares or relays:
            # Who passed a post on is no author of it: the fan who retweeted a death hoax
            # and later denied it must not have the denial folded into the hoax's origin.
            # Nor is an outlet that reports a claim as another's ("..., RT reports"): its
            # own retraction later is its word, not the source's it relayed.
            continue
        forest.union(node, f"acct:{it.author.lower()}", f"same account @{it.author}")
        if it.source_id and not it.source_id.startswith("acct:"):
            forest.union(node, f"src:{it.source_id}", f"same organisation ({it.source_id})")
        if it.domain:
            forest.union(node, f"dom:{it.domain}", f"same outlet ({it.domain})")
    # Known sources' own domains belong to them too ("a link to a news18.com article").
    for it in items:
        for dom in it.linked_domains:
            src = registry.by_domain(dom)
            if src is not None and f"src:{src.id}" in forest.parent:
                forest.union(f"dom:{dom}", f"src:{src.id}", f"{dom} is {src.id}")

    groups: dict[str, list[EvidenceItem]] = {}
    for it in items:
        groups.setdefault(forest.find(f"item:{it.item_id}"), []).append(it)
    sources_by_root: dict[str, set[str]] = {}
    for node in list(forest.parent):
        if node.startswith("src:"):
            sources_by_root.setdefault(forest.find(node), set()).add(node[4:])
    origins: list[Origin] = []
    for root, members in groups.items():
        origins.append(_origin_of(members, sources_by_root.get(root, set()), forest, registry))
    origins.sort(key=lambda o: o.first_seen)
    return origins


def _origin_of(
    members: list[EvidenceItem], cited_sources: set[str], forest: _Forest, registry: SourceRegistry
) -> Origin:
    asserting = [m for m in members if m.stance in (Stance.SUPPORT, Stance.DENY)]
    # A retweet that arrived before its original is never the head of an origin that
    # has a post of its own: the retweeter would stand in for the author.
    originals = [m for m in asserting if not m.retweet_of]
    # A source's own post heads the origin that others cite it in, even when a report
    # of it came first ("Ukraine says ..." on a wire before the minister's own post):
    # the speaker is the origin, the reporter its echo.
    cited = {sid for m in members for sid in (*m.cited_sources, *m.claim_sources) if sid != m.source_id}
    own = [m for m in originals or asserting if m.source_id in cited]
    head = min(own or originals or asserting or members, key=lambda m: (m.created_at, _stance_rank(m.stance)))
    # A source whose own posts here only pass on reports ("Reports of ...") asserts
    # nothing itself: an outlet reporting it as that source's word ("..., RT reports")
    # is its echo all the same.
    authors = {m.source_id for m in asserting or members}
    cited_only = [s for s in cited_sources if s not in authors]
    source_id, kind, weight, party = head.source_id, head.source_kind, head.weight, head.party
    if all(m.retweet_of for m in members):
        # Only retweets seen so far: the origin is the retweeted account, not a retweeter.
        original = registry.resolve(author=head.retweeted_author or "", outlet=None, url=None, verified=None)
        source_id, kind, weight, party = original.id, original.kind, original.weight, original.party
    is_cited_only = False
    if cited_only:
        # The reporter's credibility does not pass to what it attributes to others:
        # "Taliban say ..." on a wire is the Taliban's claim.
        first = sorted(cited_only)[0]
        info = registry.get(first)
        if info is None and first.startswith("acct:"):  # relayed "via @someone" the registry does not know
            info = registry.resolve(author=first[5:], outlet=None, url=None, verified=None)
        if info is not None:
            source_id, kind, weight, party = info.id, info.kind, info.weight, info.party
            is_cited_only = True
    echoes = [
        (m.item_id, forest.reason.get(f"item:{m.item_id}", "same origin")) for m in members if m is not head
    ]
    posts_by_fp: dict[str, list[tuple[float, str]]] = {}
    for m in members:
        if not m.retweet_of:  # retweeting is how a platform shares, not a campaign
            posts_by_fp.setdefault(m.fingerprint, []).append((m.created_at, m.author.lower()))
    coordinated = any(_burst(posts) for posts in posts_by_fp.values())
    last_word = _last_word(head, asserting, source_id)
    supporting = [m for m in members if m.stance is Stance.SUPPORT]
    hedged = bool(supporting) and all(passes_on(m.text) for m in supporting)
    return Origin(
        origin_id=head.item_id,
        source_id=source_id,
        kind=kind,
        weight=weight,
        party=party,
        stance=last_word.stance,
        first_seen=min(m.created_at for m in members),
        root_item=head.item_id,
        items=[m.item_id for m in members],
        echoes=echoes,
        coordinated=coordinated,
        cited_only=is_cited_only,
        last_seen=last_word.created_at,
        hedged=hedged,
    )


@lru_cache(maxsize=8192)
def passes_on(text: str) -> bool:
    """Does ``text`` pass a claim on without standing behind it (a hedge in the first of its
    clauses that says something, where posts and headlines put what they report, and no
    denial: "Reports of her resignation are false" refutes the reports)? "Arrest made in
    the bombing; suspect expected in federal court" stands behind the arrest. Cached: every
    new item of a cluster groups all its items again."""
    if explicit_denial(text) is not None:
        return False
    said = [c for c in clauses(text) if len(content_words(c)) >= _SAYS_SOMETHING] or [text]
    return hedges(said[0]) is not None


#: Content words a clause needs to say something of its own ("Developing." says nothing).
_SAYS_SOMETHING = 2


def _last_word(head: EvidenceItem, asserting: list[EvidenceItem], source_id: str) -> EvidenceItem:
    """What the origin's own source said last. An outlet that corrects its report
    ("Correction: the mayor has not resigned") stands where the correction does, and so
    does a source whose newer word reaches the stream only as others report it ("... are
    alive, Ukraine's navy says" after the president said they were killed); others
    passing its post on say nothing for it (and change nothing a summary carries), nor
    does a retweet, however late, of a report of its older word."""
    own = [
        m
        for m in asserting
        if m.author.lower() == head.author.lower()
        or m.source_id in (head.source_id, source_id)
        or (source_id in m.cited_sources and not m.retweet_of)
    ]
    return max(own, key=lambda m: (m.created_at, m.item_id)) if own else head


def _burst(posts: list[tuple[float, str]]) -> bool:
    """Did ``COORDINATION_MIN_ACCOUNTS`` accounts post this text within ``COORDINATION_WINDOW_SECONDS``?

    Why a sliding window and not the whole span: the burst usually copies a post
    that went out well before it ("copy-paste of" an original an hour older), and
    that original's head start must not hide the burst.
    """
    posts.sort()
    start = 0
    for end in range(len(posts)):
        while posts[end][0] - posts[start][0] > COORDINATION_WINDOW_SECONDS:
            start += 1
        if len({author for _, author in posts[start : end + 1]}) >= COORDINATION_MIN_ACCOUNTS:
            return True
    return False


def linked_domains(urls: Iterable[str]) -> tuple[str, ...]:
    """Domains of cited links, without link shorteners that hide the real target."""
    shorteners = {"t.co", "bit.ly", "ow.ly", "buff.ly", "tinyurl.com", "dlvr.it"}
    out: list[str] = []
    for url in urls:
        dom = domain_of(url)
        if dom and dom not in shorteners and dom not in out:
            out.append(dom)
    return tuple(out)
