"""Decide whether two texts make the same claim.

Why several scores: ``token_set_ratio`` forgives extra words (a headline and a
tweet that adds commentary) but calls any short text a match of any long text
that contains it; ``token_sort_ratio`` punishes the extra words; both are
character-level and let shared names ("Panjshir valley") outweigh a different
predicate, which the word-level Dice overlap does not. A blend of the three
on content words, with a hard guard for short texts, holds up on both tweet
paraphrases (PIT-2015) and headline-vs-tweet pairs (Twitter URL corpus).
Denial and negation words are left out of the comparison on purpose: "X is
false" is *about* claim X, and the stance step tells support from denial.

``claim_similarity`` is the readable reference; ``SimilarityScorer`` scores
one query against many candidates, splitting the query once. It must agree
with the reference (tested). ``process.cdist`` was not used: it needs numpy
and wins only for candidate lists far longer than the clusterer's cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from streams.domain.normalise import Normalised

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_CONTENT_TOKENS",
    "MatchConfig",
    "SimilarityScorer",
    "claim_similarity",
    "match_text",
]

#: Words that flip or hedge a claim but do not change what it is about.
_STANCE_WORDS = frozenset(
    [
        "not",
        "no",
        "never",
        "nor",
        "none",
        "deny",
        "denies",
        "denied",
        "denial",
        "denying",
        "false",
        "fake",
        "untrue",
        "baseless",
        "hoax",
        "rumour",
        "rumours",
        "rumor",
        "rumors",
        "debunked",
        "reject",
        "rejects",
        "rejected",
        "dismiss",
        "dismisses",
        "dismissed",
        "refute",
        "refutes",
        "refuted",
        "propaganda",
        "lie",
        "lies",
        "lying",
        "claim",
        "claims",
        "claimed",
        "claiming",
        "reportedly",
        "unverified",
        "unconfirmed",
        "confirmed",
        "confirms",
        "confirm",
        "report",
        "reports",
        "reported",
        "breaking",
        "alleged",
        "allegedly",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "hasn't",
        "haven't",
        "didn't",
        "doesn't",
        "don't",
        "won't",
    ]
)

#: Texts with fewer content words than this only match an identical text:
#: "wow" and "this is huge" would otherwise match everything.
MIN_CONTENT_TOKENS = 3
DEFAULT_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchConfig:
    """How the blend is weighed; calibrated by ``bench/calibrate_matcher.py``.

    =================  =======  ==========================================
    field              default  meaning
    =================  =======  ==========================================
    set_weight         0.3      weight of ``token_set_ratio``
    sort_weight        0.3      weight of ``token_sort_ratio``; Dice gets the rest
    threshold          0.6      blended score at or above which texts match (precision-leaning)
    min_tokens         3        content words below which only equality matches
    =================  =======  ==========================================
    """

    set_weight: float = 0.3
    sort_weight: float = 0.3
    threshold: float = DEFAULT_THRESHOLD
    min_tokens: int = MIN_CONTENT_TOKENS


def match_text(norm: Normalised) -> str:
    """The string the matcher compares: content words minus stance words."""
    return " ".join(t for t in norm.content if t not in _STANCE_WORDS)


def _dice(a: str, b: str) -> float:
    sa, sb = set(a.split()), set(b.split())
    return 2.0 * len(sa & sb) / (len(sa) + len(sb))


def _blend(set_score: float, sort_score: float, dice: float, config: MatchConfig) -> float:
    dice_weight = 1.0 - config.set_weight - config.sort_weight
    return (
        config.set_weight * set_score / 100.0 + config.sort_weight * sort_score / 100.0 + dice_weight * dice
    )


def claim_similarity(a: Normalised, b: Normalised, config: MatchConfig | None = None) -> float:
    """Similarity in [0, 1] of the claims in ``a`` and ``b`` (reference implementation)."""
    cfg = config or MatchConfig()
    ta, tb = match_text(a), match_text(b)
    if not ta or not tb:
        return 0.0
    if min(len(ta.split()), len(tb.split())) < cfg.min_tokens:
        return 1.0 if ta == tb else 0.0
    return _blend(fuzz.token_set_ratio(ta, tb), fuzz.token_sort_ratio(ta, tb), _dice(ta, tb), cfg)


class SimilarityScorer:
    """Scores one query against many candidate match-texts with rapidfuzz's bulk API."""

    __slots__ = ("_cfg",)

    def __init__(self, config: MatchConfig | None = None) -> None:
        self._cfg = config or MatchConfig()

    @property
    def config(self) -> MatchConfig:
        return self._cfg

    def score_many(self, query: str, candidates: Sequence[str]) -> list[float]:
        """Blended scores of ``query`` against each candidate, in candidate order."""
        cfg = self._cfg
        if not query or not candidates:
            return [0.0] * len(candidates)
        q_tokens = query.split()
        q_short = len(q_tokens) < cfg.min_tokens
        q_set = set(q_tokens)
        out: list[float] = []
        for cand in candidates:
            c_tokens = cand.split()
            if not c_tokens:
                out.append(0.0)
            elif q_short or len(c_tokens) < cfg.min_tokens:
                out.append(1.0 if cand == query else 0.0)
            else:
                c_set = set(c_tokens)
                dice = 2.0 * len(q_set & c_set) / (len(q_set) + len(c_set))
                out.append(
                    _blend(
                        fuzz.token_set_ratio(query, cand),
                        fuzz.token_sort_ratio(query, cand),
                        dice,
                        cfg,
                    )
                )
        return out
